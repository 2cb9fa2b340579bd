"""Interactive rerun latency and server CPU per rerun: hexlit (both stacks) vs Streamlit.

All three servers run side by side on loopback, serving `light_app.py` with the same
options (`runner.postScriptGC = false` everywhere, as Streamlit's default GC pass would
dominate). The load generator is this process (a separate process from every server):
one session per server, reruns sent one at a time, each timed from sending the
`rerun_script` BackMsg to receiving `script_finished`. Rounds are interleaved
(A B C C B A ...) so the machine's drift hits every server alike; each figure is the
median of its rounds, and every ratio is taken per round pair, in the same run.

Server CPU per rerun comes from /proc/PID/stat (user + system), so latency and CPU are
not confused: Streamlit 1.67's accepted sockets lack TCP_NODELAY, and each rerun's
burst of small frames can wait on the client's delayed ACK (about 40 ms) although the
server spends only a few ms of CPU.

Run: `make bench-reruns` (or `python bench/rerun_latency.py`); writes
bench/results/rerun_latency.json. Linux only.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.servers import app_command, start_server, stop_servers, write_results  # noqa: E402
from tests.support.net import free_port  # noqa: E402

TARGETS = ("streamlit", "hexlit-starlette", "hexlit-tornado")
RERUNS_PER_ROUND = 40
ROUNDS = 4
TIMEOUT = 30.0
TICKS = os.sysconf("SC_CLK_TCK")


def start(target: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    app = str(HERE / "light_app.py")
    options = ["--server.address", "127.0.0.1", "--server.port", str(port)]
    options += ["--server.headless", "true", "--runner.postScriptGC", "false"]
    options += ["--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    return start_server(app_command(target, Path(app), options), port, log)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rerun(ws: ClientConnection) -> float:
    """Seconds from sending a rerun to its `script_finished`."""
    message = BackMsg()
    message.rerun_script.query_string = ""
    started = time.perf_counter()
    ws.send(message.SerializeToString())
    while True:
        forward = ForwardMsg()
        forward.ParseFromString(ws.recv(timeout=TIMEOUT))
        if forward.WhichOneof("type") == "script_finished":
            return time.perf_counter() - started


def one_round(ws: ClientConnection, pid: int) -> tuple[list[float], float]:
    cpu_before = cpu_seconds(pid)
    latencies = [rerun(ws) for _ in range(RERUNS_PER_ROUND)]
    return latencies, (cpu_seconds(pid) - cpu_before) / RERUNS_PER_ROUND


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, shared by the load generator and three servers")
    processes: dict[str, subprocess.Popen[bytes]] = {}
    sockets: dict[str, ClientConnection] = {}
    with tempfile.TemporaryDirectory() as logs, ExitStack() as stack:
        try:
            for target in TARGETS:
                port = free_port()
                processes[target] = start(target, port, Path(logs) / f"{target}.log")
                ws = connect(f"ws://127.0.0.1:{port}/_stcore/stream", open_timeout=TIMEOUT)
                sockets[target] = stack.enter_context(ws)
                for _ in range(5):  # warm up
                    rerun(ws)
            p50: dict[str, list[float]] = {t: [] for t in TARGETS}
            p99: dict[str, list[float]] = {t: [] for t in TARGETS}
            cpu: dict[str, list[float]] = {t: [] for t in TARGETS}
            for round_index in range(ROUNDS):
                order = TARGETS if round_index % 2 == 0 else tuple(reversed(TARGETS))
                for target in order:
                    latencies, cpu_per_rerun = one_round(sockets[target], processes[target].pid)
                    p50[target].append(percentile(latencies, 0.5) * 1000)
                    p99[target].append(percentile(latencies, 0.99) * 1000)
                    cpu[target].append(cpu_per_rerun * 1000)
        finally:
            stack.close()
            stop_servers(list(processes.values()))
    print(f"{'server':18} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8} {'vs st':>6}")
    results = {}
    for target in TARGETS:
        ratios = [mine / theirs for mine, theirs in zip(p50[target], p50["streamlit"], strict=True)]
        results[target] = {"p50_ms": p50[target], "p99_ms": p99[target], "cpu_ms": cpu[target]}
        medians = [statistics.median(v) for v in (p50[target], p99[target], cpu[target])]
        print(f"{target:18} " + " ".join(f"{m:8.1f}" for m in medians), end="")
        print(f" {statistics.median(ratios):5.2f}x")
    write_results("rerun_latency", results)


if __name__ == "__main__":
    main()
