"""`hexlit run` from its first byte to its exit: a real process, polled while it starts.

What a user sees in the moments around start-up: whether a request made then is logged,
and whether Ctrl-C then stops the server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.net import free_port
from tests.support.stacks import WEB_STACKS

START_WAIT = 90.0
EXIT_WAIT = 15.0
SECRET = "code-4f1c9a"
"""A login code in a URL, as `/oauth2callback?code=...` carries one."""


@contextmanager
def hexlit_run(
    stack: str, port: int, cwd: Path, app: str = "builtin:counter"
) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "hexlit.composition", "run", app, "--web", stack,
         "--server.address", "127.0.0.1", "--server.port", str(port)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(EXIT_WAIT)
        if process.stdout is not None:
            process.stdout.close()


def first_ok(port: int, path: str) -> None:
    """Poll `path` from before the server listens until it answers 200."""
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.005)
    raise AssertionError(f"no 200 from {path} within {START_WAIT} s")


def first_connect(port: int) -> None:
    """Wait until the port takes a TCP connection: the server is starting, not yet up."""
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return
        except OSError:
            time.sleep(0.002)
    raise AssertionError(f"port {port} never listened within {START_WAIT} s")


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_no_request_is_logged_from_the_first_byte_on(stack: str, tmp_path: Path) -> None:
    """A Streamlit app: its runtime sets up logging while the server starts (the window
    where uvicorn used to take its access logger's handlers as a wish to log)."""
    (tmp_path / "app.py").write_text("import streamlit as st\nst.write('hi')\n")
    port = free_port()
    with hexlit_run(stack, port, tmp_path, app="app.py") as process:
        first_ok(port, f"/_stcore/health?{SECRET}=first")
        for n in range(3):
            httpx.get(f"http://127.0.0.1:{port}/oauth2callback?code={SECRET}{n}", timeout=5.0)
        process.send_signal(signal.SIGTERM)
        assert process.wait(EXIT_WAIT) == 0
        assert process.stdout is not None
        output = process.stdout.read().decode(errors="replace")
    assert "Served by hexlit" in output  # the output was captured
    assert SECRET not in output
    assert "/_stcore/health" not in output


@pytest.mark.parametrize("stack", WEB_STACKS)
@pytest.mark.parametrize("moment", ["starting", "first-200"])
def test_ctrl_c_at_start_up_stops_the_server_with_exit_0(
    stack: str, moment: str, tmp_path: Path
) -> None:
    port = free_port()
    with hexlit_run(stack, port, tmp_path) as process:
        if moment == "starting":
            first_connect(port)
        else:
            first_ok(port, "/_stcore/health")
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(EXIT_WAIT)
        except subprocess.TimeoutExpired:
            code = None
        assert process.stdout is not None
        if code is None:
            process.kill()
        output = process.stdout.read().decode(errors="replace")
    assert code == 0, output
    assert "Traceback" not in output
