"""Starting the servers a benchmark compares: one helper for every script in bench/."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

DEAD_PROXY = "http://127.0.0.1:9"
"""Streamlit looks up the machine's external IP on some handshakes: never leave loopback."""


def app_command(target: str, app: Path, options: list[str]) -> list[str]:
    """`streamlit run APP` for "streamlit", `hexlit run APP --web STACK` for "hexlit-STACK"."""
    if target == "streamlit":
        return [sys.executable, "-m", "streamlit", "run", str(app), *options]
    stack = target.split("-")[1]
    return [sys.executable, "-m", "hexlit.composition", "run", str(app), "--web", stack, *options]


def start_server(command: list[str], port: int, log: Path | None) -> subprocess.Popen[bytes]:
    """Start `command` and wait (60 s at most) until its `/_stcore/health` answers 200."""
    process = launch(command, log)
    wait_until_healthy(process, port)
    return process


def launch(command: list[str], log: Path | None) -> subprocess.Popen[bytes]:
    """Start `command` without waiting for it (start several, then wait for each)."""
    env = {**os.environ, "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY}
    output = log.open("wb") if log else subprocess.DEVNULL
    return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_until_healthy(process: subprocess.Popen[bytes], port: int) -> None:
    """Wait (60 s at most) until `/_stcore/health` answers 200; kill the process if not."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{process.args!r} did not answer on port {port}")


def stop_servers(processes: list[subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    """SIGTERM them all, then wait for each (bounded), killing the ones that linger."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()


def write_results(name: str, results: object) -> None:
    """bench/results/NAME.json, for charts and later comparisons."""
    folder = Path(__file__).resolve().parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2))
