"""`hexlit run` as a drop-in for `streamlit run`, on each web stack, in a real process:
a config.toml holding every Streamlit option at a non-default value starts cleanly, the
honoured options take effect, the others reach Streamlit, and `-- args` reach the script.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from hexlit.composition.settings import IGNORED
from tests.support.every_option import (
    non_default_options,
    self_signed_certificate,
    toml_document,
)
from tests.support.net import free_port
from tests.support.stacks import WEB_STACKS

START_TIMEOUT = 90.0
TIMEOUT = 20.0

APP = """\
import json
import sys
from pathlib import Path

import streamlit as st
from streamlit import config

options = {key: st.get_option(key) for key in config._config_options_template}
seen = {"argv": sys.argv[1:], "options": options}
Path(__file__).with_name("seen.json").write_text(json.dumps(seen, default=str))
st.write("ran")
"""

SCRIPT_ARGS = ["a", "--flag", "b c"]


class Output:
    """A process's output, read by a thread (so the pipe never fills), waited on with a
    deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} in time; output so far:\n{''.join(self.lines)}")

    def rest(self, timeout: float) -> str:
        self._thread.join(timeout)
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)


@contextmanager
def hexlit_run(args: list[str], cwd: Path) -> Iterator[tuple[subprocess.Popen[str], Output]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "hexlit.composition", "run", *args],
        cwd=cwd,
        env={**env, "HOME": str(cwd)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    try:
        yield process, output
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(TIMEOUT)
        output.rest(TIMEOUT)
        assert process.stdout is not None
        process.stdout.close()


def rerun_frame() -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.query_string = ""
    return bytes(message.SerializeToString())


def wait_for_file(path: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file():
            try:
                seen: dict[str, Any] = json.loads(path.read_text())
                return seen
            except json.JSONDecodeError:
                pass  # being written
        time.sleep(0.1)
    raise AssertionError(f"{path} was not written in {timeout} s")


@pytest.mark.parametrize("web", WEB_STACKS)
def test_every_streamlit_option_and_script_args(web: str, tmp_path: Path) -> None:
    app_folder = tmp_path / "app"
    (app_folder / ".streamlit").mkdir(parents=True)
    (app_folder / "app.py").write_text(APP)
    port = free_port()
    cert, key = self_signed_certificate(tmp_path)
    options = non_default_options("127.0.0.1", port, cert, key)
    (app_folder / ".streamlit" / "config.toml").write_text(toml_document(options))
    tls = ssl.create_default_context(cafile=str(cert))

    # The config file sits in the app's folder, not the working directory.
    args = [str(app_folder / "app.py"), "--web", web, "--", *SCRIPT_ARGS]
    with hexlit_run(args, cwd=tmp_path) as (process, output):
        banner = output.wait_for("URL:", START_TIMEOUT)
        assert banner.strip() == f"URL: https://127.0.0.1:{port}/every"
        base = f"https://127.0.0.1:{port}/every"
        # Honoured by hexlit: TLS, the base path, the script health check, host-config.
        with httpx.Client(verify=tls, timeout=TIMEOUT) as client:
            assert client.get(f"{base}/_stcore/health").text == "ok"
            assert client.get(f"{base}/_stcore/script-health-check").status_code == 200
            host_config = client.get(f"{base}/_stcore/host-config").json()
            assert host_config["allowedOrigins"] == ["https://a.example"]
        with connect(
            f"wss://127.0.0.1:{port}/every/_stcore/stream",
            ssl=tls,
            subprotocols=["streamlit"],  # type: ignore[list-item]
            open_timeout=TIMEOUT,
        ) as ws:
            ws.send(rerun_frame())
            seen = wait_for_file(app_folder / "seen.json", START_TIMEOUT)
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0
        text = output.rest(TIMEOUT)

    assert seen["argv"] == SCRIPT_ARGS
    # Every option reached Streamlit's own config with the value set.
    different = {
        key: (value, seen["options"][key])
        for key, value in options.items()
        if json.loads(json.dumps(value)) != seen["options"][key]
    }
    assert different == {}
    # One warning for each option set to something hexlit cannot do, and no other.
    for name, ignored in IGNORED.items():
        assert text.count(f"{name} (from") == int(options[name] != ignored.matches), text
    assert "Traceback" not in text
    assert " ERROR " not in text
    assert "a-cookie-secret" not in text
