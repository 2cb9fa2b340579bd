"""The web front ends: `tornado/` and `starlette/`, plus the framework-free pieces both use.

`settings.py` (what a front end is configured with), `status.py` (the one table from
semantic errors to HTTP status and WebSocket close codes) and `responses.py` (how each
use-case result becomes a status, headers and a body) hold no framework code, so both
stacks answer every request byte-for-byte alike.
"""
