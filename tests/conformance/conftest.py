"""One conformance suite, run against every web stack.

`stack` parametrizes a test over all stacks; `server` gives a default server per stack
(shared by the tests of a module); `make_server` boots one with options of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from tests.support.server import ServerUnderTest

STACKS = ("starlette", "starlette+speed", "tornado")
"""`starlette+speed` is Starlette on uvloop and httptools (tests/support/server.py)."""


@pytest.fixture(params=STACKS, scope="module")
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(stack: str) -> Iterator[ServerUnderTest]:
    with ServerUnderTest(stack) as running:
        yield running


@pytest.fixture
def make_server(stack: str) -> Iterator[Callable[..., ServerUnderTest]]:
    started: list[ServerUnderTest] = []

    def make(
        options: Mapping[str, Any] | None = None, app: str = "builtin:counter"
    ) -> ServerUnderTest:
        running = ServerUnderTest(stack, options, app)
        running.start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
