"""opsbook: operations runbooks as tested automation (CLI and local lab)."""

__version__ = "0.2.0"
