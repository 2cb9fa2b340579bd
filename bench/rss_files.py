"""Peak server RSS while one 100 MB upload and one 100 MB media download run.

Targets, each a real server process on loopback serving `bench_app.py`: hexlit on
Starlette and on Tornado, each with the memory and the filesystem store, and Streamlit's
own server (`streamlit run`, the same 1.67 line). For every target: open a session and
run the app (which registers a 100 MB download), note the RSS, reset the kernel's
peak-RSS counter (`/proc/PID/clear_refs`), PUT a 100 MB file, read the peak; reset again,
GET the 100 MB media, read the peak. Figures are peak minus the RSS before the transfer.

Run: `make bench-files` (or `python -m bench.rss_files` from the repository root). Prints
a table and writes bench/results/rss_files.json. Linux only (reads /proc).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

from bench import load
from bench.servers import app_command, start_server, stop_servers, write_results
from tests.support.net import free_port

HERE = Path(__file__).resolve().parent

MB = 1024 * 1024
SIZE = 100 * MB
TIMEOUT = 120.0
BOUNDARY = "----benchBoundary"


def start(target: str, port: int, store_dir: str) -> subprocess.Popen[bytes]:
    app = str(HERE / "bench_app.py")
    common = [
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]
    common += ["--runner.postScriptGC", "false", "--server.fileWatcherType", "none"]
    if target.startswith("hexlit-"):
        store = target.split("-")[2]
        common += ["--hexlit.store", store, "--hexlit.storeDir", store_dir]
    return start_server(app_command(target, Path(app), common), port, None)


def run_app(ws: ClientConnection) -> tuple[str, str]:
    """Run the script once; return the session id and the download's media URL."""
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    ws.send(rerun.SerializeToString())
    session_id = url = ""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and not (session_id and url):
        message = ForwardMsg()
        message.ParseFromString(ws.recv(timeout=TIMEOUT))
        kind = message.WhichOneof("type")
        if kind == "new_session":
            session_id = message.new_session.initialize.session_id
        elif kind == "delta" and message.delta.new_element.WhichOneof("type") == "download_button":
            url = message.delta.new_element.download_button.url
    return session_id, url


def upload_body():  # type: ignore[no-untyped-def]
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="up.bin"; filename="up.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield head
    block = os.urandom(MB)
    for _ in range(SIZE // MB):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def measure(target: str) -> dict[str, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as store_dir:
        process = start(target, port, store_dir)
        try:
            base = f"http://127.0.0.1:{port}"
            xsrf = httpx.get(f"{base}/_stcore/health").cookies.get("_streamlit_xsrf", "")
            stream = f"ws://127.0.0.1:{port}/_stcore/stream"
            with connect(stream, subprotocols=["streamlit", xsrf], open_timeout=30) as ws:  # type: ignore[list-item]
                session_id, media_url = run_app(ws)
                time.sleep(1.0)
                idle = load.rss_mb(process.pid)
                load.reset_peak_rss(process.pid)
                started = time.perf_counter()
                response = httpx.put(
                    f"{base}/_stcore/upload_file/{session_id}/00000000-0000-4000-8000-000000000001",
                    content=upload_body(),
                    headers={
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                        "X-Xsrftoken": xsrf,
                        "Cookie": f"_streamlit_xsrf={xsrf}",
                    },
                    timeout=TIMEOUT,
                )
                upload_s = time.perf_counter() - started
                assert response.status_code == 204, response.text
                upload_peak = load.peak_rss_mb(process.pid)
                time.sleep(0.5)
                before_download = load.rss_mb(process.pid)
                load.reset_peak_rss(process.pid)
                received = 0
                started = time.perf_counter()
                with httpx.stream("GET", base + media_url, timeout=TIMEOUT) as download:
                    for chunk in download.iter_bytes(1 << 20):
                        received += len(chunk)
                download_s = time.perf_counter() - started
                assert received == SIZE, received
                download_peak = load.peak_rss_mb(process.pid)
        finally:
            stop_servers([process])
    return {
        "idle_rss_mb": idle,
        "upload_peak_over_idle_mb": upload_peak - idle,
        "download_peak_over_before_mb": download_peak - before_download,
        "upload_mb_s": SIZE / MB / upload_s,
        "download_mb_s": SIZE / MB / download_s,
    }


def main() -> None:
    targets = sys.argv[1:] or [
        "streamlit",
        "hexlit-starlette-memory",
        "hexlit-starlette-filesystem",
        "hexlit-tornado-memory",
        "hexlit-tornado-filesystem",
    ]
    print(
        f"machine: {os.cpu_count()} cores; client and server share them; one 100 MB file each way"
    )
    results = {}
    columns = ("idle RSS", "upload +MB", "download +MB", "up MB/s", "down MB/s")
    print(f"{'target':30} " + " ".join(f"{name:>12}" for name in columns))
    for target in targets:
        figures = measure(target)
        results[target] = figures
        values = (
            figures["idle_rss_mb"],
            figures["upload_peak_over_idle_mb"],
            figures["download_peak_over_before_mb"],
            figures["upload_mb_s"],
            figures["download_mb_s"],
        )
        print(f"{target:30} " + " ".join(f"{value:12.1f}" for value in values), flush=True)
    write_results("rss_files", results)


if __name__ == "__main__":
    main()
