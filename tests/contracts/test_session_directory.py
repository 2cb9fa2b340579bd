"""The `SessionDirectory` and `SessionPresence` contract of the Redis session directory.

A real `redis-server` runs for the module (`tests.support.redis`); each test has its own
key namespace and creates and closes its clients inside its own event loop. A second
directory over a second client plays another replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hexlit.adapters.redis.connection import UNREACHABLE, connect
from hexlit.adapters.sessions.redis_directory import RedisSessionDirectory
from hexlit.ports.errors import StoreUnavailable
from hexlit.ports.sessions import SessionDirectory, SessionPresence
from tests.support.redis import RedisServer, keys_under, redis_server

T = TypeVar("T")

EXPIRY_WAIT = 5.0
"""Upper bound on waiting for a 1 s announcement to expire."""


def run(coroutine: Awaitable[T]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(30):
            return await coroutine

    return asyncio.run(bounded())


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with redis_server() as running:
        yield running


@pytest.fixture
def ns(tmp_path: Path) -> str:
    return f"test-{tmp_path.name}"


@asynccontextmanager
async def directory(url: str, ns: str, ttl: float = 90) -> AsyncIterator[RedisSessionDirectory]:
    """A directory over its own client (one replica), the client closed when the block ends."""
    client = connect(url)
    try:
        yield RedisSessionDirectory(client, ns, ttl=ttl)
    finally:
        await client.aclose()


def test_it_implements_both_ports(server: RedisServer, ns: str) -> None:
    async def scenario() -> None:
        async with directory(server.url, ns) as replica:
            as_directory: SessionDirectory = replica
            as_presence: SessionPresence = replica
            await as_presence.attached("s-1")
            assert await as_directory.is_active("s-1")

    run(scenario())


def test_attached_is_active_on_every_replica_until_detached(server: RedisServer, ns: str) -> None:
    async def scenario() -> tuple[list[bool], list[str]]:
        async with directory(server.url, ns) as here, directory(server.url, ns) as there:
            seen = [await here.is_active("s-1"), await there.is_active("s-1")]
            await here.attached("s-1")
            await here.attached("weird id:é/1")
            seen += [await here.is_active("s-1"), await there.is_active("s-1")]
            seen += [await there.is_active("weird id:é/1"), await there.is_active("s-2")]
            await here.detached("s-1")
            await here.detached("s-1")  # idempotent
            seen += [await here.is_active("s-1"), await there.is_active("s-1")]
            return seen, await keys_under(server.url, ns)

    seen, keys = run(scenario())
    assert seen == [False, False, True, True, True, False, False, False]
    weird = "~" + "weird id:é/1".encode().hex()
    assert keys == [f"{ns}:session:{weird}"]


def test_an_announcement_expires_after_its_ttl(server: RedisServer, ns: str) -> None:
    async def scenario() -> tuple[bool, float]:
        async with directory(server.url, ns, ttl=1) as here:
            await here.attached("s-1")
            started = time.monotonic()
            active_at_first = await here.is_active("s-1")
            while await here.is_active("s-1"):
                assert time.monotonic() - started < EXPIRY_WAIT, "never expired"
                await asyncio.sleep(0.05)
            return active_at_first, time.monotonic() - started

    active_at_first, lived = run(scenario())
    assert active_at_first
    assert 0.8 < lived < EXPIRY_WAIT


def test_refresh_keeps_announcements_alive(server: RedisServer, ns: str) -> None:
    async def scenario() -> list[bool]:
        async with directory(server.url, ns, ttl=1) as here, directory(server.url, ns) as there:
            await here.attached("kept")
            await here.attached("dropped")
            await here.refresh([])
            started = time.monotonic()
            while time.monotonic() - started < 2.0:  # twice the ttl
                await here.refresh(["kept"])
                await asyncio.sleep(0.25)
            return [await there.is_active("kept"), await there.is_active("dropped")]

    assert run(scenario()) == [True, False]


def test_outage_raises_store_unavailable_then_the_same_directory_recovers(
    ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    with redis_server() as own:

        async def scenario() -> tuple[list[str], list[bool]]:
            async with directory(own.url, ns) as here:
                await here.attached("s-secret")
                own.stop()
                caplog.clear()
                calls: dict[str, Callable[[], Awaitable[Any]]] = {
                    "session lookup": lambda: here.is_active("s-secret"),
                    "session attach": lambda: here.attached("s-2"),
                    "session detach": lambda: here.detached("s-secret"),
                    "session refresh": lambda: here.refresh(["s-secret"]),
                }
                for name, call in calls.items():
                    started = time.monotonic()
                    with pytest.raises(StoreUnavailable) as raised:
                        await call()
                    assert time.monotonic() - started < 3, name
                    assert raised.value.reason == UNREACHABLE
                messages = [r.getMessage() for r in caplog.records if r.name.startswith("hexlit.")]
                assert all(r.levelno == logging.WARNING for r in caplog.records)
                own.start()  # same port, empty: the next refresh announces again
                after = [await here.is_active("s-secret")]
                await here.refresh(["s-secret"])
                after.append(await here.is_active("s-secret"))
                return messages, after

        messages, after = run(scenario())
    assert len(messages) == 4
    for message, name in zip(messages, ["lookup", "attach", "detach", "refresh"], strict=True):
        assert f"during session {name}" in message
        assert "ConnectionError" in message
        assert "secret" not in message
    assert after == [False, True]
