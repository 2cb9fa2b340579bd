"""Lifecycles as resources (ADR 0022): whoever runs the app, what it holds is released.

`hexlit run`, the tests' server and an embedded app all start and release through the
container's resources (composition/lifecycles.py). These tests stop real servers over
loopback and look at what is left: folders, Redis connections, a SQLite write-ahead log.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from websockets.sync.client import connect

from hexlit.adapters.storage.filesystem import process_folder
from hexlit.composition.embed import create_asgi_app, create_tornado_app
from hexlit.composition.workers import WorkerSpec, as_worker
from tests.composition.test_embed import (
    exercise,
    process_folders,
    serving_on_tornado,
    serving_on_uvicorn,
)
from tests.support.redis import redis_server
from tests.support.server import ServerUnderTest
from tests.support.stacks import WEB_STACKS

TIMEOUT = 30.0


@pytest.fixture
def hexlit_warnings() -> Iterator[list[str]]:
    """The messages hexlit logs at WARNING or above during the test (its logger may not
    propagate to the root, so the handler sits on it)."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("hexlit")
    logger.addHandler(handler)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)


def open_a_session(server: ServerUnderTest) -> None:
    with connect(server.ws_url(), open_timeout=TIMEOUT) as ws:
        assert isinstance(ws.recv(timeout=TIMEOUT), bytes)


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_a_failing_release_is_logged_and_the_rest_still_released_once(
    stack: str, tmp_path: Path, hexlit_warnings: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime's stop fails: the stop goes on, the store folders go, the runtime is
    asked to stop once, and the failure is in the log."""
    options = {"hexlit.store": "filesystem", "hexlit.storeDir": str(tmp_path)}
    server = ServerUnderTest(stack, options)
    with server:
        open_a_session(server)
        assert [folder.parent.name for folder in process_folders(tmp_path)] == [
            "media",
            "uploads",
        ]
        runtime = server.container.runtime()
        stops: list[str] = []

        async def broken_stop() -> None:
            stops.append("stop")
            raise RuntimeError("the runtime cannot stop")

        monkeypatch.setattr(runtime, "stop", broken_stop)
    assert process_folders(tmp_path) == []
    assert stops == ["stop"]
    assert any(
        "releasing the session core failed (RuntimeError: the runtime cannot stop)" in message
        for message in hexlit_warnings
    ), hexlit_warnings


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_a_workers_session_directory_is_closed_when_it_stops(stack: str, tmp_path: Path) -> None:
    """A worker's SQLite directory is closed at its stop: SQLite then folds its
    write-ahead log back into the database and removes it."""
    shared = [process_folder(tmp_path / "shared" / part) for part in ("media", "uploads")]
    sessions_folder = tmp_path / "shared" / "sessions"
    sessions_folder.mkdir()
    options = {"hexlit.store": "filesystem", "hexlit.storeDir": str(tmp_path)}
    server = ServerUnderTest(stack, options)
    listener = socket.create_server(("127.0.0.1", 0))
    spec = WorkerSpec(
        "builtin:counter", [], {}, listener.detach(), 0, 0,
        str(shared[0]), str(shared[1]), str(sessions_folder),
    )  # fmt: skip
    as_worker(server.container, spec)
    write_ahead_log = sessions_folder / "directory.sqlite3-wal"
    with server:
        open_a_session(server)
        assert write_ahead_log.exists()
    assert not write_ahead_log.exists()
    assert all(folder.is_dir() for folder in shared)  # the supervisor's to remove


def connections_to(url: str) -> int:
    """The clients connected to the Redis at `url`, this probe left out."""
    probe = redis.Redis.from_url(url, socket_timeout=TIMEOUT)
    try:
        own = probe.client_id()
        return sum(1 for client in probe.client_list() if int(client["id"]) != own)
    finally:
        probe.close()


def until_no_connections(url: str) -> int:
    """Polls until Redis sees no client but the probe (at most TIMEOUT); the count left."""
    deadline = time.monotonic() + TIMEOUT
    while (count := connections_to(url)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def test_an_asgi_apps_redis_connections_close_when_its_lifespan_ends() -> None:
    with redis_server() as store:
        options: dict[str, Any] = {"hexlit.store": "redis", "hexlit.redis_url": store.url}
        hexlit_app = create_asgi_app("builtin:counter", options)

        async def scenario() -> int:
            async with serving_on_uvicorn(hexlit_app) as port:
                health, _ = await exercise(port, "")
                assert health == "ok"
                return await asyncio.to_thread(connections_to, store.url)

        assert asyncio.run(scenario()) >= 1
        assert until_no_connections(store.url) == 0


def test_a_tornado_apps_redis_connections_close_when_it_stops() -> None:
    with redis_server() as store:
        options: dict[str, Any] = {"hexlit.store": "redis", "hexlit.redis_url": store.url}

        async def scenario() -> int:
            app = create_tornado_app("builtin:counter", options)
            async with serving_on_tornado(app) as port:
                health, _ = await exercise(port, "")
                assert health == "ok"
                return await asyncio.to_thread(connections_to, store.url)

        assert asyncio.run(scenario()) >= 1
        assert until_no_connections(store.url) == 0
