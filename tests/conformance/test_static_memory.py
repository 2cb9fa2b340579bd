"""Large app static files stream from disk: the server's memory stays flat (issue 17.8).

A real `hexlit run` process per stack serves an app with `server.enableStaticServing`
and a large file in `static/`. Three clients download it at once; the server's peak
resident memory (VmHWM in /proc, reset just before) may grow by far less than the file.
Reading the file whole, as before, grew it by at least the file's size per download.
Linux only (reads /proc).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.net import free_port
from tests.support.processes import stop_process

MIB = 1024 * 1024
FILE_SIZE = 96 * MIB
DOWNLOADS = 3
START_TIMEOUT = 60.0
TIMEOUT = 120.0


def status_field_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def reset_peak(pid: int) -> None:
    """The kernel's peak-RSS counter (VmHWM) starts again from the current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def app_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hexlit-static-memory-") as raw:
        folder = Path(raw)
        (folder / "app.py").write_text("import streamlit as st\nst.write('big files')\n")
        (folder / "static").mkdir()
        block = os.urandom(MIB)
        with (folder / "static" / "big.bin").open("wb") as out:
            for _ in range(FILE_SIZE // MIB):
                out.write(block)
        yield folder


@pytest.fixture
def running(stack: str, app_folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    web = stack.removesuffix("+speed")
    http = ["--hexlit.http", "httptools"] if stack.endswith("+speed") else []
    command = [
        sys.executable, "-m", "hexlit.composition", "run", str(app_folder / "app.py"),
        "--web", web, *http, "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.enableStaticServing", "true", "--server.headless", "true",
    ]  # fmt: skip
    log = app_folder / f"{stack}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=app_folder, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, env={**os.environ, "HOME": str(app_folder)},
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield process, base
    finally:
        stop_process(process, 15.0)


def download(url: str, received: list[int]) -> None:
    total = 0
    headers = {"Accept-Encoding": "identity"}
    with httpx.stream("GET", url, headers=headers, timeout=TIMEOUT) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw(MIB):
            total += len(chunk)
    received.append(total)


def test_parallel_downloads_of_a_large_static_file_keep_memory_flat(
    running: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, base = running
    url = f"{base}/app/static/big.bin"
    head = httpx.head(url, timeout=TIMEOUT)
    assert head.headers["content-length"] == str(FILE_SIZE)
    time.sleep(0.5)
    before_kib = status_field_kib(process.pid, "VmRSS")
    reset_peak(process.pid)
    received: list[int] = []
    clients = [threading.Thread(target=download, args=(url, received)) for _ in range(DOWNLOADS)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(TIMEOUT)
    assert received == [FILE_SIZE] * DOWNLOADS
    growth = (status_field_kib(process.pid, "VmHWM") - before_kib) * 1024
    assert growth < FILE_SIZE // 2, f"peak RSS grew {growth / MIB:.0f} MiB"
