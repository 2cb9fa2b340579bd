"""Uploads that never finish: the client hangs up or resets at every stage of the body,
many at once, and the server process is killed with SIGKILL mid-upload.

Nothing may be left behind: the filesystem store's folder holds no file and Redis holds
no upload key once the server has noticed each abort; after a SIGKILL, the next start
removes what the dead process left.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from websockets.sync.client import connect

from tests.hostile.wire import exchange, get, still_serves
from tests.support.files import BOUNDARY, LiveSession, live_session, multipart
from tests.support.metrics import counter, wait_for_counter
from tests.support.net import free_port
from tests.support.processes import stop_process
from tests.support.redis import RedisServer, redis_server
from tests.support.server import SPEED, ServerUnderTest

TIMEOUT = 10.0
MIB = 1024 * 1024
BODY = multipart(("big.bin", os.urandom(2 * MIB), "application/octet-stream"))
CUTS = {
    "after the head": 0,
    "in the part headers": 40,
    "in the data": len(BODY) // 2,
    "one byte short": len(BODY) - 1,
}


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as running:
        yield running


def upload_head(session: LiveSession, url: str, length: int) -> bytes:
    path = url.split(str(session.server.port), 1)[1]
    return (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"X-Xsrftoken: {session.xsrf}\r\nCookie: _streamlit_xsrf={session.xsrf}\r\n\r\n"
    ).encode()


def abort(port: int, data: bytes, reset: bool) -> None:
    """Send `data`, then leave: a FIN, or a RST when `reset` (SO_LINGER 0)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def abort_every_way(server: ServerUnderTest) -> None:
    """Every cut, with a FIN and with a RST, plus twenty at once; waits (bounded) until
    the server has counted every abort."""
    aborted = {"outcome": "aborted"}
    before = counter(server, "hexlit_uploads_total", **aborted)
    expected = 0
    with live_session(server) as session:
        for cut in CUTS.values():
            for reset in (False, True):
                url = session.upload_url()
                abort(server.port, upload_head(session, url, len(BODY)) + BODY[:cut], reset)
                expected += 1
        urls = [session.upload_url() for _ in range(20)]
        sockets = [socket.create_connection(("127.0.0.1", server.port), TIMEOUT) for _ in urls]
        for sock, url in zip(sockets, urls, strict=True):
            sock.sendall(upload_head(session, url, len(BODY)) + BODY[: len(BODY) // 3])
        for sock in sockets:
            sock.close()
        expected += len(urls)
        done = wait_for_counter(
            server, "hexlit_uploads_total", lambda n: n >= before + expected, **aborted
        )
        assert done == before + expected
        assert session.files(*(url.rsplit("/", 1)[1] for url in urls)) == []


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_aborted_uploads_leave_no_file(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    server = make_server({"hexlit.store": "filesystem", "hexlit.storeDir": str(tmp_path)})
    abort_every_way(server)
    assert files_under(tmp_path) == []
    still_serves(server.port)


def test_aborted_uploads_leave_no_redis_key(
    make_server: Callable[..., ServerUnderTest], redis: RedisServer
) -> None:
    server = make_server({"hexlit.store": "redis", "hexlit.redis_url": redis.url})
    abort_every_way(server)
    with Redis.from_url(redis.url) as client:  # a blocking client: no event loop here
        left = [key for key in client.scan_iter(match="hexlit:*") if b":upload:" in key]
    assert left == []
    still_serves(server.port)


@pytest.mark.hostile_slow  # a `hexlit run` process per stack: about 3 s each
def test_a_server_killed_mid_upload_leaves_nothing_after_the_next_start(
    stack: str, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    port = free_port()
    web = stack.removesuffix(SPEED)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    env["HOME"] = str(tmp_path)
    command = [
        sys.executable, "-m", "hexlit.composition", "run", "builtin:counter", "--web", web,
        "--hexlit.http", "httptools" if stack.endswith(SPEED) else "h11",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--hexlit.store", "filesystem", "--hexlit.storeDir", str(store),
    ]  # fmt: skip
    log = tmp_path / "hexlit.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_healthy(port, process, log)
        upload_then_kill(port, process, store)
    finally:
        stop_process(process, TIMEOUT)
    assert files_under(store), "the killed server left its partial upload behind"
    with ServerUnderTest(
        stack, {"hexlit.store": "filesystem", "hexlit.storeDir": str(store)}
    ) as next_start:
        assert files_under(store) == []
        still_serves(next_start.port)


def wait_until_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            if exchange(port, get("/_stcore/health"), timeout=1.0).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"hexlit did not start:\n{log.read_text(errors='replace')[-3000:]}")


def upload_then_kill(port: int, process: subprocess.Popen[bytes], store: Path) -> None:
    """Open a session, send half of a big upload, and SIGKILL the server meanwhile."""
    health = exchange(port, get("/_stcore/health")).first
    xsrf = health.headers["set-cookie"].split(";")[0].removeprefix("_streamlit_xsrf=")
    with connect(
        f"ws://127.0.0.1:{port}/_stcore/stream",
        subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
        open_timeout=TIMEOUT,
    ) as ws:
        ws.recv(timeout=TIMEOUT)
        ws.send(b"upload-urls 1")
        reply = ws.recv(timeout=TIMEOUT)
        assert isinstance(reply, bytes)
        path = reply.decode().split()[2].split(str(port), 1)[-1]
        body = multipart(("big.bin", os.urandom(8 * MIB), "application/octet-stream"))
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"X-Xsrftoken: {xsrf}\r\nCookie: _streamlit_xsrf={xsrf}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            sock.sendall(head + body[: len(body) // 2])
            deadline = time.monotonic() + TIMEOUT
            while not files_under(store) and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(TIMEOUT)
