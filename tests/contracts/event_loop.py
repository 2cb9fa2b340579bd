"""One event loop per contract test, and one real Redis per module, for the store suites.

A Redis client must be created, used and closed in one event loop, so a test's `run`
calls share the loop `conftest.one_loop` opens for it. The module's `redis-server`
(`conftest.shared_redis`) starts when a Redis case first asks for it; store factories
that are plain functions reach its URL through `shared_redis_url()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from tests.support.redis import RedisServer, redis_server

T = TypeVar("T")
RUN_TIMEOUT = 30.0

_RUNNERS: list[asyncio.Runner] = []
"""The running test's event loop."""
_SHARED_REDIS: list[RedisServer] = []
"""The module's `redis-server`, while it runs."""


def run(coroutine: Awaitable[T]) -> T:
    """Run `coroutine` in the test's loop, bounded in time."""

    async def bounded() -> T:
        async with asyncio.timeout(RUN_TIMEOUT):
            return await coroutine

    return _RUNNERS[-1].run(bounded())


@contextmanager
def loop_for_one_test() -> Iterator[None]:
    with asyncio.Runner() as runner:
        _RUNNERS.append(runner)
        try:
            yield
        finally:
            _RUNNERS.pop()


@contextmanager
def module_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        _SHARED_REDIS.append(server)
        try:
            yield server
        finally:
            _SHARED_REDIS.pop()


def shared_redis_url() -> str:
    """The URL of the module's `redis-server` (the `shared_redis` fixture must be up)."""
    return _SHARED_REDIS[-1].url


def namespace(tmp_path: Path) -> str:
    """A key namespace of one test: tmp_path names are unique within a pytest run."""
    return f"test-{tmp_path.name}"
