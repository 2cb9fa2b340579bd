"""A real Redis for tests: Debian's `redis-server` in its own process, on loopback.

`with redis_server() as server:` starts `redis-server` on a free 127.0.0.1 port without
persistence (`--save '' --appendonly no`, its working folder a temp dir), its output
going to a log file (never a pipe), waits until it answers PING, and stops it by PID
(SIGTERM, then SIGKILL) on exit. `server.stop()` and `server.start()` stop it and start
it again on the same port (an outage; the data is gone afterwards). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from redis.asyncio import Redis

from hexlit.adapters.redis.connection import connect
from hexlit.adapters.snapshots.redis import RedisSnapshots
from tests.support.net import free_port
from tests.support.processes import stop_process

REDIS_SERVER = "/usr/bin/redis-server"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
START_ATTEMPTS = 3


class RedisServer:
    """One `redis-server` process on a fixed loopback port."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self._folder = folder
        self._starts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = folder / "redis-0.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (again) on `self.port`; returns once it answers PING."""
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("redis-server is already running")
        self.log_path = self._folder / f"redis-{self._starts}.log"
        self._starts += 1
        command = [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", str(self._folder), "--logfile", "",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._folder,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop it by its PID: SIGTERM, a bounded wait, then SIGKILL."""
        process, self._process = self._process, None
        if process is None:
            return
        stop_process(process, STOP_TIMEOUT)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self.tail()}")
            if _answers_ping(self.port):
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server not ready in {START_TIMEOUT}s:\n{self.tail()}")

    def tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A running `redis-server` for the block (a fresh free port if one is taken)."""
    folder = Path(tempfile.mkdtemp(prefix="hexlit-redis-"))
    try:
        for attempt in range(START_ATTEMPTS):
            server = RedisServer(free_port(), folder)
            try:
                server.start()
            except RuntimeError:
                if attempt == START_ATTEMPTS - 1:
                    raise
                continue  # most likely the port was taken in between
            try:
                yield server
            finally:
                server.stop()
            return
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@asynccontextmanager
async def redis_client(url: str) -> AsyncIterator[Redis]:
    """A client (`connect`'s settings) opened and closed in the running loop."""
    client = connect(url)
    try:
        yield client
    finally:
        await client.aclose()


async def keys_under(url: str, namespace: str) -> list[str]:
    """Every key of `namespace` (a SCAN, so never blocking the server)."""
    async with redis_client(url) as client:
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in namespace) + ":*"
        found = [key.decode() async for key in client.scan_iter(match=pattern, count=1000)]
    return sorted(found)


def stored_snapshot_generation(url: str, session_id: str) -> int | None:
    """The generation of the session's snapshot in Redis (None: none stored), read
    through the real store adapter, so a test can wait for *this* session's snapshot
    rather than for a counter any session's snapshot moves."""

    async def load() -> int | None:
        async with redis_client(url) as client:
            sealed = await RedisSnapshots(client).load(session_id)
        return None if sealed is None else sealed.generation

    return asyncio.run(load())
