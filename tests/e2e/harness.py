"""The pieces of the browser end-to-end suite that are not fixtures.

`AppServer` runs the showcase app as a user runs it: a separate process on a loopback
port, started from examples/showcase so that its .streamlit/config.toml is read, stopped
with SIGTERM. The stack is one of hexlit's web stacks (`starlette`, `tornado`) or
`streamlit`, the real `streamlit run`, which serves as the reference the suite is checked
against. Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Final
from urllib.parse import urlsplit

import httpx

from tests.support.stacks import WEB_STACKS

REPO: Final = Path(__file__).resolve().parents[2]
SHOWCASE: Final = REPO / "examples" / "showcase"
APP: Final = SHOWCASE / "app.py"

HEXLIT_STACKS: Final = WEB_STACKS
KNOWN_STACKS: Final = (*HEXLIT_STACKS, "streamlit")

START_TIMEOUT: Final = 60.0
STOP_TIMEOUT: Final = 15.0
# Outbound lookups (Streamlit's "external IP" probe) go to this dead loopback proxy.
DEAD_PROXY: Final = "http://127.0.0.1:9"

CHROMIUM: Final = os.environ.get("HEXLIT_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

# Runs in every frame before any page script: records each WebSocket the page opens in
# `window.__sockets`, so a test can count connections and close one from the page side.
RECORD_SOCKETS_JS: Final = """
(() => {
  const Native = window.WebSocket;
  const sockets = [];
  Object.defineProperty(window, "__sockets", { value: sockets });
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  };
})();
"""


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname is not None and parts.hostname in LOOPBACK_HOSTS


def server_command(stack: str, port: int, app: Path = APP, extra: Sequence[str] = ()) -> list[str]:
    options = ["--server.address", "127.0.0.1", "--server.port", str(port), *extra]
    if stack == "streamlit":
        return [sys.executable, "-m", "streamlit", "run", str(app), *options,
                "--server.headless", "true"]  # fmt: skip
    if stack in HEXLIT_STACKS:
        return [sys.executable, "-m", "hexlit.composition", "run", str(app), "--web", stack,
                *options]  # fmt: skip
    raise ValueError(f"unknown stack {stack!r}; expected one of {KNOWN_STACKS}")


def server_environment(home: Path) -> dict[str, str]:
    """The test process's environment without configuration that would leak into the
    server, with outbound HTTP to anything but loopback pointed at a dead proxy."""
    dropped = ("STREAMLIT_", "HEXLIT_")
    proxies = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(dropped) and key.upper() not in proxies
    }
    env.update(
        HTTP_PROXY=DEAD_PROXY,
        HTTPS_PROXY=DEAD_PROXY,
        http_proxy=DEAD_PROXY,
        https_proxy=DEAD_PROXY,
        NO_PROXY="127.0.0.1,localhost",  # loopback peers (the OIDC provider) go direct
        no_proxy="127.0.0.1,localhost",
        HOME=str(home),  # no ~/.streamlit of the person running the tests
        PYTHONUNBUFFERED="1",
    )
    return env


class AppServer:
    """`server = AppServer("tornado", port, log_dir); server.start(); ...; server.stop()`.

    The process writes its output to a log file (never to a pipe nobody drains); the log
    is part of every start-up failure message.
    """

    def __init__(
        self, stack: str, port: int, workdir: Path, app: Path = APP, extra: Sequence[str] = ()
    ) -> None:
        """`app`: the script (run from its folder), the showcase by default; `extra`:
        further command-line options."""
        self.stack = stack
        self.port = port
        self.workdir = workdir
        self.app = app
        self.command = server_command(stack, port, app, extra)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.stack}-{self.port}-{self._starts}.log"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> None:
        """Start the process and wait until it is healthy."""
        self.launch()
        self.wait_until_healthy()

    def launch(self) -> None:
        """Start the process without waiting for it (`wait_until_healthy` does), so that
        several servers can start at once."""
        assert self.process is None, "already running"
        self._starts += 1
        home = self.workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.app.parent,
            env=server_environment(home),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_healthy(self) -> None:
        """Until `/_stcore/health` answers 200 (bounded); a server that exits or stays
        unhealthy is stopped, and the error carries its output."""
        try:
            self._poll_health()
        except BaseException:
            self.stop()
            raise

    def _poll_health(self) -> None:
        assert self.process is not None, "not launched"
        deadline = time.monotonic() + START_TIMEOUT
        last_problem = "no answer yet"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                try:
                    response = client.get(f"{self.url}/_stcore/health")
                except httpx.TransportError as error:
                    last_problem = repr(error)
                else:
                    if response.status_code == 200:
                        return
                    last_problem = f"HTTP {response.status_code}: {response.text[:200]}"
                try:  # doubles as the pause between polls, and notices an early exit
                    code = self.process.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
                raise AssertionError(
                    f"{self.stack} server exited with {code} before it was healthy; "
                    f"output:\n{self.log_text()}"
                )
        raise AssertionError(
            f"{self.stack} server on port {self.port} not healthy after {START_TIMEOUT:.0f} s "
            f"({last_problem}); output:\n{self.log_text()}"
        )

    def stop(self) -> int | None:
        """SIGTERM, a bounded wait, then SIGKILL; returns the exit code."""
        process, self.process = self.process, None
        code: int | None = None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait(STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def restart(self) -> None:
        """Stop the process and start a new one on the same port."""
        self.stop()
        self.start()
