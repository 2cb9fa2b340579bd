"""The hostile suite runs on every stack with the conformance suite's machinery.

`make_server` is the one of `tests/conformance/conftest.py`; `stack` and `server` are
its fixtures at session scope: the attacks leave the shared server as they found it
(each makes its own sessions and files), so one server per stack serves every module,
which keeps the suite inside its time budget.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.conftest import STACKS, make_server
from tests.support.server import ServerUnderTest

__all__ = ["make_server", "server", "stack"]


@pytest.fixture(params=STACKS, scope="session")
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def server(stack: str) -> Iterator[ServerUnderTest]:
    with ServerUnderTest(stack) as running:
        yield running
