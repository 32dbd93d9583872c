"""The local lab: real services on loopback for demos, tests and drills."""
