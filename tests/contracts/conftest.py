"""Fixtures of the store contract suites (`tests.contracts.event_loop` says why)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contracts.event_loop import loop_for_one_test, module_redis
from tests.support.redis import RedisServer


@pytest.fixture
def one_loop() -> Iterator[None]:
    """One event loop for the test's `run` calls."""
    with loop_for_one_test():
        yield


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisServer]:
    """One `redis-server` for the module, started when a Redis case first asks for it."""
    with module_redis() as server:
        yield server
