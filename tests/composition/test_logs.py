"""Logs of a real `hexlit run` process: one format, useful context, and never a secret.

Each test starts `python -m hexlit.composition run builtin:counter` on a loopback port
(a private HOME, its own folder with a `secrets.toml`), drives it as a browser would,
stops it by PID, and reads everything it wrote to stdout and stderr.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.sync.client import connect

from hexlit.composition.logs import Context, JsonFormatter, TextFormatter, use_trace_ids
from hexlit.domain.observation import current_session
from tests.support.net import free_port
from tests.support.oidc import MockProvider, auth_secrets, oidc_provider
from tests.support.processes import stop_process
from tests.support.stacks import WEB_STACKS
from tests.support.tokens import encode_provider_token

TIMEOUT = 15.0
START_TIMEOUT = 60.0
"""A Streamlit app's imports take long on a busy machine."""
COOKIE_SECRET = "log-test-cookie-secret-7f3a9c1e5b2d4f60"
CLIENT_ID = "hexlit-log-tests"
CLIENT_SECRET = f"{CLIENT_ID}-secret"  # what auth_secrets writes
FORMATS = ("text", "json")


@dataclass
class Running:
    port: int
    process: subprocess.Popen[bytes]
    output: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"

    def text(self) -> str:
        """Everything it wrote: the console banner (stdout) and the log (stderr)."""
        return self.output.read_text(errors="replace") + self.logs()

    def logs(self) -> str:
        return self.output.with_suffix(".err").read_text(errors="replace")


@contextmanager
def hexlit_run(folder: Path, *flags: str, port: int | None = None) -> Iterator[Running]:
    """`hexlit run builtin:counter` with `flags`, healthy, stopped at the end."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    env["HOME"] = str(folder)
    command = [
        sys.executable, "-m", "hexlit.composition", "run", "builtin:counter",
        "--server.address", "127.0.0.1", "--server.port", str(port), *flags,
    ]  # fmt: skip
    output = folder / "output.log"
    with open(output, "wb") as sink, open(output.with_suffix(".err"), "wb") as errors:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=errors
        )
    running = Running(port, process, output)
    try:
        _wait_healthy(running)
        yield running
    finally:
        stop_process(process, TIMEOUT)


def _wait_healthy(running: Running) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise AssertionError(f"hexlit exited at start:\n{running.text()}")
        try:
            if httpx.get(running.url("/_stcore/health"), timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"hexlit not healthy in {START_TIMEOUT}s:\n{running.text()}")


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with oidc_provider() as running:
        yield running


def secrets_folder(tmp_path: Path, provider: MockProvider) -> Path:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        auth_secrets(provider, COOKIE_SECRET, CLIENT_ID, extra='expose_tokens = ["id"]\n')
    )
    return tmp_path


def drive_auth_and_errors(running: Running, provider: MockProvider) -> set[str]:
    """Log in, use the session, then every wrong turn; the secret values it saw."""
    seen = {COOKIE_SECRET, CLIENT_SECRET}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as browser:
        token = encode_provider_token("default", COOKIE_SECRET, int(time.time()))
        start = browser.get(running.url(f"/auth/login?provider={token}"))
        assert start.status_code == 302
        callback = provider.authorize(start.headers["location"], sub="alice", email="a@b.c")
        query = parse_qs(urlsplit(callback).query)
        seen |= {query["code"][0], query["state"][0], token}
        assert browser.get(callback).status_code == 302
        browser.get(callback)  # the same code again: refused
        cookies = dict(browser.cookies)
        seen |= {value for name, value in cookies.items() if len(value) >= 8}
        health = browser.get(running.url("/_stcore/health"))
        xsrf = health.cookies["_streamlit_xsrf"]
        seen.add(xsrf)
        header = "; ".join(f"{k}={v}" for k, v in {**cookies, "_streamlit_xsrf": xsrf}.items())
        with connect(
            running.ws_url(),
            subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
            origin=running.url(""),  # type: ignore[arg-type]
            additional_headers={"Cookie": header},
            open_timeout=TIMEOUT,
        ) as ws:
            ws.recv(timeout=TIMEOUT)
            ws.send(b"whoami")
            user = json.loads(str(ws.recv(timeout=TIMEOUT), "utf-8").removeprefix("user "))
            seen |= {str(value) for value in user["tokens"].values()}
            ws.send(b"\xff\xfe not utf-8")  # a malformed frame: a warning
        tampered = {k: v[:-4] + "AAAA" for k, v in cookies.items()}
        browser.cookies.clear()
        for name, value in tampered.items():
            browser.cookies.set(name, value)
        browser.get(running.url("/auth/logout"))
        browser.get(running.url("/oauth2callback?code=forged-code-123456&state=forged-state-9"))
        browser.get(running.url(f"/auth/login?provider={token}xx"))
        browser.put(
            running.url("/_stcore/upload_file/nope/nope"),
            content=b"x",
            headers={"X-Xsrftoken": xsrf + "bad", "Cookie": f"_streamlit_xsrf={xsrf}"},
        )
        with connect(
            running.ws_url(),
            subprotocols=["streamlit", "2|forged|xsrf|1"],  # type: ignore[list-item]
            additional_headers={"Cookie": f"_streamlit_user={tampered.get('_streamlit_user')}"},
            open_timeout=TIMEOUT,
        ) as ws:
            ws.recv(timeout=TIMEOUT)
    return {value for value in seen if value}


@pytest.mark.parametrize("stack", WEB_STACKS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_cookie_token_or_secret_reaches_the_logs(
    stack: str, fmt: str, tmp_path: Path, provider: MockProvider
) -> None:
    folder = secrets_folder(tmp_path, provider)
    flags = ("--web", stack, "--hexlit.logFormat", fmt, "--logger.level", "debug")
    with hexlit_run(folder, *flags) as running:
        secrets = drive_auth_and_errors(running, provider)
    output = running.text()
    assert output.strip(), "the server logged nothing at debug level"
    for secret in secrets:
        leaks = [line.replace(secret, "<SECRET>") for line in output.splitlines() if secret in line]
        assert not leaks, leaks


def test_json_lines_carry_the_context_and_one_format_only(tmp_path: Path) -> None:
    flags = ("--hexlit.logFormat", "json", "--logger.level", "debug")
    with hexlit_run(tmp_path, *flags) as running, connect(running.ws_url()) as ws:
        hello = str(ws.recv(timeout=TIMEOUT), "utf-8")
        ws.send(b"inc")
        ws.recv(timeout=TIMEOUT)
    session_id = hello.split()[1]
    text = running.logs()
    not_json = [line for line in text.splitlines() if line.strip() and not line.startswith("{")]
    assert not not_json
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "event", "replica", "pid"} <= set(line)
    assert all(line["logger"] != "uvicorn.error" for line in lines)
    opened = [line for line in lines if line["logger"] == "hexlit.sessions"]
    assert opened
    assert opened[0]["session"] == session_id[:8]
    websocket = [line for line in lines if "WebSocket" in line["event"]]
    assert websocket
    assert all(line["level"] == "debug" for line in websocket)


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_a_websocket_open_is_not_an_info_line(stack: str, tmp_path: Path) -> None:
    with hexlit_run(tmp_path, "--web", stack) as running, connect(running.ws_url()) as ws:
        ws.recv(timeout=TIMEOUT)
    output = running.text()
    assert "WebSocket" not in output
    assert "connection open" not in output


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_a_busy_port_names_the_port_and_the_address(stack: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
        env["HOME"] = str(tmp_path)
        command = [
            sys.executable, "-m", "hexlit.composition", "run", "builtin:counter",
            "--web", stack, "--server.address", "127.0.0.1", "--server.port", str(port),
        ]  # fmt: skip
        done = subprocess.run(
            command,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"127.0.0.1:{port}" in done.stderr


def formatted(formatter: logging.Formatter, name: str, message: str) -> str:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, message, (), None)
    assert Context().filter(record)
    return formatter.format(record)


def test_json_lines_carry_trace_and_span_ids_when_tracing_is_on() -> None:
    ids = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    use_trace_ids(lambda: ids)
    try:
        line = json.loads(formatted(JsonFormatter(), "uvicorn.error", "a problem"))
    finally:
        use_trace_ids(lambda: None)
    assert (line["trace_id"], line["span_id"]) == ids
    assert (line["logger"], line["level"], line["event"]) == ("uvicorn", "warning", "a problem")
    assert "trace_id" not in json.loads(formatted(JsonFormatter(), "hexlit", "untraced"))


def test_text_lines_stay_readable() -> None:
    line = formatted(TextFormatter(), "hexlit.sessions", "session 1a2b3c4d: client too slow")
    assert line.endswith(" WARNING hexlit.sessions: session 1a2b3c4d: client too slow")


def test_an_embedded_streamlit_app_under_uvicorn_logs_each_request_once(tmp_path: Path) -> None:
    """uvicorn run by the user, hexlit's ASGI app with a Streamlit script inside it."""
    showcase = Path(__file__).resolve().parents[2] / "examples" / "showcase" / "app.py"
    (tmp_path / "embedded.py").write_text(
        "from hexlit.composition.embed import create_asgi_app\n\n\n"
        f"def create_app():\n    return create_asgi_app({str(showcase)!r})\n"
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    env["HOME"] = str(tmp_path)
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "embedded:create_app",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    output = tmp_path / "output.log"
    with open(output, "wb") as sink, open(output.with_suffix(".err"), "wb") as errors:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=errors
        )
    running = Running(port, process, output)
    try:
        _wait_healthy(running)
        httpx.get(running.url("/_stcore/host-config"), timeout=TIMEOUT)
    finally:
        stop_process(process, TIMEOUT)
    lines = running.text().splitlines()
    assert len([line for line in lines if "GET /_stcore/host-config" in line]) == 1, lines
    assert len([line for line in lines if "Application startup complete" in line]) == 1, lines


def test_text_lines_name_the_session_once() -> None:
    token = current_session.set("7646f9c0")
    try:
        own = formatted(TextFormatter(), "hexlit.sessions", "session 7646f9c0: client too slow")
        other = formatted(TextFormatter(), "streamlit.runtime", "a script error")
    finally:
        current_session.reset(token)
    assert own.count("7646f9c0") == 1
    assert other.endswith("a script error [session 7646f9c0]")
