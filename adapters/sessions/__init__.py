"""`SessionDirectory` and `SessionPresence` implementations shared by replicas (Redis)."""
