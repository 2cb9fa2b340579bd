"""`hexlit run builtin:counter --hexlit.workers 2`, a real supervisor and two workers, on
both stacks, with no Redis: what one worker holds, the other serves.

A session opened on one worker takes an upload PUT and serves media through the other,
and a reconnect landing on the other worker resumes it (the snapshot handoff), also
after kill -9 of the worker that held it. The supervisor replaces a killed worker,
SIGTERM stops everything with exit 0, and no process is left behind (/proc), not even
when the supervisor itself is killed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect, unix_connect

from tests.support.files import BOUNDARY, multipart
from tests.support.stacks import WEB_STACKS
from tests.workers.support import (
    EXIT_WAIT,
    TIMEOUT,
    Workers,
    alive,
    children_of,
    http_request,
    leftovers,
    workers_of,
)

WAIT = 15.0


def open_session(
    hexlit: Workers, pid: int, xsrf: str, resume: str | None = None
) -> ClientConnection:
    """A WebSocket to the built-in counter that worker `pid` accepted."""
    offered = ["streamlit", xsrf, *([resume] if resume else [])]
    return connect(
        f"ws://127.0.0.1:{hexlit.port}/_stcore/stream",
        sock=hexlit.connection_to(pid),
        subprotocols=offered,  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    )


def open_unix_session(path: Path, xsrf: str) -> ClientConnection:
    """A WebSocket to the built-in counter over the shared Unix socket (any worker)."""
    return unix_connect(
        str(path),
        "ws://x/_stcore/stream",
        subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    )


def say(ws: ClientConnection, text: str) -> str:
    ws.send(text.encode())
    reply = ws.recv(timeout=TIMEOUT)
    assert isinstance(reply, bytes)
    return reply.decode()


def hello(ws: ClientConnection) -> tuple[str, str, str]:
    """(session id, resumed, count) from the counter's greeting."""
    greeting = ws.recv(timeout=TIMEOUT)
    assert isinstance(greeting, bytes)
    _, session_id, resumed, count = greeting.decode().split()
    return session_id, resumed.split("=")[1], count.split("=")[1]


def wait_for_snapshot(store: Path, session_id: str, newer_than: int = 0) -> int:
    """Until the session's snapshot on disk is newer than generation `newer_than`
    (a completed run is written within 500 ms); its generation."""
    path = store / "snapshots" / (session_id.encode().hex() + ".snap")
    deadline = time.monotonic() + WAIT
    while True:
        if path.exists():
            generation = int.from_bytes(path.read_bytes()[:8], "big")
            if generation > newer_than:
                return generation
        assert time.monotonic() < deadline, f"no new snapshot of {session_id} in {WAIT} s"
        time.sleep(0.02)


def wait_for_replacement(hexlit: Workers, gone: int) -> list[int]:
    deadline = time.monotonic() + WAIT + 5
    while True:
        pids = hexlit.workers()
        if gone not in pids and len(pids) == hexlit.count:
            return hexlit.wait_for_workers()
        assert time.monotonic() < deadline, f"worker {gone} not replaced\n{hexlit.output()}"
        time.sleep(0.05)


def assert_all_gone(pids: set[int], supervisor: int, folder: Path) -> None:
    """No worker ever started, nor the supervisor, runs any more; nor any process
    naming the test's folder (a worker's child inherits its environment, which does)."""
    assert children_of(supervisor) == []
    assert workers_of(supervisor) == []
    assert sorted(pid for pid in pids | {supervisor} if alive(pid)) == []
    assert leftovers(str(folder)) == []


def assert_drained(sessions: list[ClientConnection], output: str) -> None:
    """Every session's socket was closed by its worker with 1012 ("server is
    restarting"): the drain, not a crash or a reset."""
    assert [close_code(ws) for ws in sessions] == [1012] * len(sessions), output


def close_code(ws: ClientConnection) -> int | None:
    """The code of the close frame the server sent (None: the connection just ended)."""
    try:
        while True:
            ws.recv(timeout=EXIT_WAIT)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_two_workers_serve_one_app_as_one(stack: str, tmp_path: Path) -> None:
    with Workers(stack, tmp_path) as hexlit:
        first, second = hexlit.workers()
        seen = {first, second}
        assert workers_of(hexlit.process.pid) == sorted(seen)  # the orphan check sees them
        with hexlit.connection_to(first) as sock:
            status, _ = http_request(sock, "GET", "/_stcore/health")
        xsrf = httpx.get(hexlit.url("/_stcore/health"), timeout=TIMEOUT).cookies["_streamlit_xsrf"]

        with open_session(hexlit, first, xsrf) as ws:
            session_id, resumed, count = hello(ws)
            assert (resumed, count) == ("0", "0")
            assert [say(ws, "inc") for _ in range(3)][-1] == "count 3"
            # media registered by the first worker, read through the second
            media_url = say(ws, "media media 70000 video/mp4").split()[1]
            with hexlit.connection_to(second) as sock:
                status, body = http_request(sock, "GET", media_url)
            assert (status, len(body)) == (200, 70000)
            # an upload PUT through the second worker for the first worker's session
            _, file_id, upload_url = say(ws, "upload-urls 1").split()
            data = os.urandom(50_000)
            with hexlit.connection_to(second) as sock:
                status, _ = http_request(
                    sock, "PUT", upload_url, multipart(("a.bin", data, "application/x-test")),
                    Content_Type=f"multipart/form-data; boundary={BOUNDARY}",
                    X_Xsrftoken=xsrf, Cookie=f"_streamlit_xsrf={xsrf}",
                )  # fmt: skip
            assert status == 204
            digest = hashlib.sha256(data).hexdigest()
            assert say(ws, f"files {file_id}") == f"file a.bin 50000 {digest}"
        generation = wait_for_snapshot(tmp_path / "store", session_id)

        # a reconnect that lands on the other worker resumes the session
        with open_session(hexlit, second, xsrf, resume=session_id) as ws:
            assert hello(ws) == (session_id, "1", "3")
            taken_over = wait_for_snapshot(tmp_path / "store", session_id, generation)
            assert say(ws, "inc") == "count 4"
        wait_for_snapshot(tmp_path / "store", session_id, taken_over)

        # kill -9 of the worker that held it: the supervisor replaces it, and the
        # session resumes on a worker that is left
        os.kill(second, signal.SIGKILL)
        workers = wait_for_replacement(hexlit, second)
        seen.update(workers)
        assert f"(pid {second}) was killed by SIGKILL" in hexlit.output()
        for pid in workers:
            with open_session(hexlit, pid, xsrf, resume=session_id) as ws:
                resumed_id, resumed, count = hello(ws)
                assert (resumed_id, resumed) == (session_id, "1")
                assert int(count) >= 4

        # SIGTERM: each worker drains the session it holds, then the supervisor exits 0
        with contextlib.ExitStack() as opened:
            draining = [opened.enter_context(open_session(hexlit, pid, xsrf)) for pid in workers]
            for ws in draining:
                hello(ws)
            assert hexlit.stop(signal.SIGTERM) == 0
            assert_drained(draining, hexlit.output())
        assert_all_gone(seen, hexlit.process.pid, tmp_path)
    assert "Traceback" not in hexlit.output(), hexlit.output()
    assert list((tmp_path / "store" / "media").iterdir()) == []  # the shared folder went


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_a_unix_socket_is_shared_and_no_worker_outlives_a_killed_supervisor(
    stack: str, tmp_path: Path
) -> None:
    path = tmp_path / "hexlit.sock"
    with Workers(stack, tmp_path, unix=path) as hexlit:
        workers = set(hexlit.workers())
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, timeout=TIMEOUT) as client:
            statuses = {client.get("http://x/_stcore/health").status_code for _ in range(20)}
        assert statuses == {200}
        os.kill(hexlit.process.pid, signal.SIGKILL)
        hexlit.process.wait(EXIT_WAIT)
        deadline = time.monotonic() + WAIT
        while (
            any(alive(pid) for pid in workers)
            or workers_of(hexlit.process.pid)
            or leftovers(str(tmp_path))
        ):
            assert time.monotonic() < deadline, "a worker outlived its supervisor"
            time.sleep(0.05)


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_on_a_unix_socket_a_killed_worker_is_replaced_and_sigterm_drains(
    stack: str, tmp_path: Path
) -> None:
    path = tmp_path / "hexlit.sock"
    with Workers(stack, tmp_path, unix=path) as hexlit:
        seen = set(hexlit.workers())
        victim = min(seen)
        os.kill(victim, signal.SIGKILL)
        seen.update(wait_for_replacement(hexlit, victim))
        assert f"(pid {victim}) was killed by SIGKILL" in hexlit.output(), hexlit.output()

        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, timeout=TIMEOUT) as client:
            xsrf = client.get("http://x/_stcore/health").cookies["_streamlit_xsrf"]
        with contextlib.ExitStack() as opened:
            sessions = [opened.enter_context(open_unix_session(path, xsrf)) for _ in range(4)]
            for ws in sessions:
                hello(ws)
                assert say(ws, "inc") == "count 1"
            assert hexlit.stop(signal.SIGTERM) == 0, hexlit.output()
            assert_drained(sessions, hexlit.output())
        assert_all_gone(seen, hexlit.process.pid, tmp_path)
    assert "Traceback" not in hexlit.output(), hexlit.output()


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_sigterm_while_the_workers_start_exits_0(stack: str, tmp_path: Path) -> None:
    """A worker still importing when SIGTERM comes dies of it (no handler yet): it
    stopped as asked, holding no session, so the stop is clean."""
    hexlit = Workers(stack, tmp_path)
    try:
        deadline = time.monotonic() + WAIT
        while len(started := hexlit.workers()) < hexlit.count:
            assert hexlit.process.poll() is None, hexlit.output()
            assert time.monotonic() < deadline, hexlit.output()
            time.sleep(0.01)
        assert hexlit.stop(signal.SIGTERM) == 0, hexlit.output()
        assert_all_gone(set(started), hexlit.process.pid, tmp_path)
    finally:
        hexlit.__exit__()


def test_one_worker_is_the_single_process_of_before(tmp_path: Path) -> None:
    hexlit = Workers("starlette", tmp_path, count=1)
    try:
        deadline = time.monotonic() + WAIT * 4
        while True:
            assert hexlit.process.poll() is None, hexlit.output()
            try:
                if httpx.get(hexlit.url("/_stcore/health"), timeout=TIMEOUT).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, hexlit.output()
            time.sleep(0.05)
        assert children_of(hexlit.process.pid) == []  # no supervisor, no worker
        assert hexlit.stop(signal.SIGTERM) == 0
        assert "Served by hexlit on starlette (" in hexlit.output()
    finally:
        hexlit.__exit__()


def test_workers_that_cannot_start_stop_the_supervisor_with_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "hexlit.composition", "run", "builtin:nope",
         "--hexlit.workers", "2", "--server.address", "127.0.0.1", "--server.port", "0",
         "--hexlit.storeDir", str(tmp_path / "store")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=EXIT_WAIT * 2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(EXIT_WAIT)
    assert process.returncode == 2
    assert b"unknown built-in app 'builtin:nope'" in output
    assert b"worker 0 cannot start" in output or b"worker 1 cannot start" in output
    assert workers_of(process.pid) == []
