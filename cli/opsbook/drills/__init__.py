"""Drills: a fault injected into the LOCAL LAB, the scenario run on it, the stages judged.

One small module per fault family holds the injectors (``compose``: a compose service stopped;
``postgres``: sessions held idle in transaction). The test suite imports them from here; the
``opsbook drill`` command (commands/drill.py) runs them for users.
"""
