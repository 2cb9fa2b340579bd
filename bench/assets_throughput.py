"""Frontend asset throughput (req/s, 32 connections): hexlit vs Streamlit vs the bare ceilings.

Five servers run side by side on loopback: `streamlit run`, hexlit on Starlette, hexlit
on Tornado, and bare Starlette and Tornado apps answering the same bytes from memory
(`bare_servers.py`). The load generator is `wrk` (Debian's package), a separate process,
one thread, 32 connections, against the largest JS file of the Streamlit frontend.
Rounds of 3 s are interleaved, forwards then backwards; ratios are per round pair.

Run: `make bench-assets`; writes bench/results/assets_throughput.json.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import streamlit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.servers import app_command, start_server, stop_servers, write_results  # noqa: E402
from tests.support.net import free_port  # noqa: E402

ROUND_SECONDS = 3
PAIRS = 3
STATIC = Path(streamlit.__file__).resolve().parent / "static"


def largest_js() -> Path:
    return max((STATIC / "static" / "js").glob("*.js"), key=lambda path: path.stat().st_size)


def start(target: str, port: int, log: Path, asset: Path) -> subprocess.Popen[bytes]:
    app = str(HERE / "light_app.py")
    options = ["--server.address", "127.0.0.1", "--server.port", str(port)]
    options += ["--server.headless", "true", "--server.fileWatcherType", "none"]
    if target.startswith("bare-"):
        bare = HERE / "bare_servers.py"
        command = [sys.executable, str(bare), target.removeprefix("bare-"), str(port), str(asset)]
    else:
        command = app_command(target, Path(app), options)
    return start_server(command, port, log)


def wrk(url: str) -> float:
    output = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{ROUND_SECONDS}s", url],
        capture_output=True, text=True, timeout=ROUND_SECONDS + 30, check=True,
    ).stdout  # fmt: skip
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None or "Non-2xx" in output:
        raise RuntimeError(f"wrk failed against {url}:\n{output}")
    return float(match.group(1))


def main() -> None:
    asset = largest_js()
    print(f"machine: {os.cpu_count()} cores, shared by wrk and five servers; asset {asset.name}")
    print(f"({asset.stat().st_size} bytes), 32 connections, {ROUND_SECONDS} s rounds")
    targets = ["streamlit", "hexlit-starlette", "hexlit-tornado", "bare-starlette", "bare-tornado"]
    processes: dict[str, subprocess.Popen[bytes]] = {}
    urls: dict[str, str] = {}
    results: dict[str, list[float]] = {target: [] for target in targets}
    with tempfile.TemporaryDirectory() as logs:
        try:
            for target in targets:
                port = free_port()
                processes[target] = start(target, port, Path(logs) / f"{target}.log", asset)
                path = "/asset" if target.startswith("bare-") else f"/static/js/{asset.name}"
                urls[target] = f"http://127.0.0.1:{port}{path}"
            for pair in range(PAIRS):
                for target in (
                    [*targets, *reversed(targets)]
                    if pair % 2 == 0
                    else [*reversed(targets), *targets]
                ):
                    results[target].append(wrk(urls[target]))
        finally:
            stop_servers(list(processes.values()))

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(results[a], results[b], strict=True))

    for target in targets:
        values = results[target]
        low, mid, high = min(values), statistics.median(values), max(values)
        print(f"{target:18} req/s min {low:8.0f} median {mid:8.0f} max {high:8.0f}")
    print(f"hexlit-starlette / streamlit      {ratio('hexlit-starlette', 'streamlit'):.2f}")
    print(f"hexlit-starlette / bare-starlette {ratio('hexlit-starlette', 'bare-starlette'):.2f}")
    print(f"hexlit-tornado / bare-tornado     {ratio('hexlit-tornado', 'bare-tornado'):.2f}")
    write_results("assets_throughput", results)


if __name__ == "__main__":
    main()
