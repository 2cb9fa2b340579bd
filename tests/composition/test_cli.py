"""`hexlit run` as a user runs it: a real process, real sockets, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from hexlit.composition.container import build_container
from hexlit.composition.serve import start_server
from hexlit.composition.settings import load_config
from tests.support.net import free_port

TIMEOUT = 20.0


@contextmanager
def hexlit(*args: str, cwd: Path) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "hexlit.composition", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()


def wait_for_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if "URL:" in line:
            return line.split("URL:")[1].strip()
    raise AssertionError(f"hexlit exited with {process.wait(TIMEOUT)} before printing its URL")


@pytest.mark.parametrize("stack", ["starlette", "tornado"])
def test_run_serves_and_stops_cleanly_on_sigterm(stack: str, tmp_path: Path) -> None:
    port = free_port()
    with hexlit(
        "run", "builtin:counter", "--web", stack, "--server.address", "127.0.0.1",
        "--server.port", str(port), cwd=tmp_path,
    ) as process:  # fmt: skip
        url = wait_for_url(process)
        assert url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/_stcore/health", timeout=TIMEOUT).text == "ok"
        with connect(f"ws://127.0.0.1:{port}/_stcore/stream", open_timeout=TIMEOUT) as ws:
            ws.recv(timeout=TIMEOUT)
            process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=TIMEOUT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1001
        assert process.wait(TIMEOUT) == 0


def test_config_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text(
        f'[server]\nport = {port}\naddress = "127.0.0.1"\nbaseUrlPath = "/cfg"\n'
        '[hexlit]\nweb = "tornado"\n'
    )
    with hexlit("run", "builtin:echo", cwd=tmp_path) as process:
        url = wait_for_url(process)
        assert url == f"http://127.0.0.1:{port}/cfg"
        response = httpx.get(f"{url}/_stcore/health", timeout=TIMEOUT)
        assert response.headers["server"].startswith("Tornado")
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "builtin:counter", "--server.port", "x"], "server.port"),
        (["run", "builtin:counter", "--web", "flask"], "must be one of"),
        (["run"], "exactly one APP"),
        (["serve"], "unknown command"),
        (["run", "builtin:nope", "--server.port", "0"], "unknown built-in app"),
    ],
)
def test_bad_command_lines_exit_2_with_a_reason(
    args: list[str], message: str, tmp_path: Path
) -> None:
    with hexlit(*args, cwd=tmp_path) as process:
        output, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 2
    assert message in output
    assert "Traceback" not in output


def test_an_explicit_busy_port_exits_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with hexlit(
            "run", "builtin:counter", "--server.address", "127.0.0.1", "--server.port", str(port),
            cwd=tmp_path,
        ) as process:  # fmt: skip
            output, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 1
    assert "cannot listen" in output


@pytest.mark.parametrize("stack", ["starlette", "tornado"])
def test_a_default_port_that_is_busy_moves_to_the_next(stack: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        overrides = {"server.address": "127.0.0.1", "server.port": busy, "hexlit.web": stack}
        container = build_container(load_config(environ={}, overrides=overrides), "builtin:counter")

        async def scenario() -> int:
            server = await start_server(container, port_explicit=False)
            try:
                port: int = server.port
                return port
            finally:
                await container.sessions().stop()
                await server.stop()

        chosen = asyncio.run(scenario())
    assert chosen > busy
