"""The hostile suite runs on every stack with the conformance suite's fixtures.

`stack`, `server` and `make_server` are the ones of `tests/conformance/conftest.py`,
re-exported here so the attacks are written once and run on Tornado, Starlette and
`starlette+speed`.
"""

from __future__ import annotations

from tests.conformance.conftest import make_server, server, stack

__all__ = ["make_server", "server", "stack"]
