"""`hexlit.workers` side by side with `streamlit run` (issue 14, ADR 0015).

Three servers run at once, on loopback, serving `suite_app.py` with the suite's options:
`streamlit run`, hexlit on Starlette with one worker (the default: one process), and
hexlit on Starlette with `--hexlit.workers 2` (a supervisor, two workers sharing a
temporary `hexlit.storeDir`). Workloads, each in interleaved rounds (A B C C B A ...):

- 200 concurrent sessions x 10 reruns each (reruns/s over the rerun phase, failures);
- session churn, 32 clients connecting, running the script once and closing;
- RSS of each server's whole process tree, idle after the load, and per worker.

Every ratio is taken per round between servers measured next to each other. The load
generator (this process) shares the machine's cores with the servers.

    make bench-install && .venv-bench/bin/python -m bench.workers  # from the repository root

Writes bench/results/workers.json.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import load
from bench.servers import (
    app_command,
    launch,
    stop_servers,
    wait_until_healthy,
    write_results,
)
from bench.suite import APP_OPTIONS
from tests.support.net import free_port

HERE = Path(__file__).resolve().parent

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "2"))
SERVERS = tuple(os.environ.get("BENCH_SERVERS", "streamlit hexlit-w1 hexlit-w2").split())
"""`hexlit-wN`: N workers; `-nosnap` turns session snapshots off (with N > 1 they are on:
the workers share the filesystem store); `-snap` gives one worker the filesystem store,
so its snapshots are on too."""
COMPARISONS = tuple((a, b) for i, a in enumerate(SERVERS) for b in SERVERS[:i])


def command(name: str, port: int, store: Path) -> list[str]:
    options = ["--server.address", "127.0.0.1", "--server.port", str(port), *APP_OPTIONS]
    if name == "streamlit":
        return app_command("streamlit", HERE / "suite_app.py", options)
    workers, _, variant = name.removeprefix("hexlit-w").partition("-")
    options += ["--hexlit.workers", workers, "--hexlit.storeDir", str(store / name)]
    if variant == "nosnap":
        options += ["--hexlit.sessionSnapshots", "off"]
    elif variant == "snap":
        options += ["--hexlit.store", "filesystem"]
    return app_command("hexlit-starlette", HERE / "suite_app.py", options)


def tree(pid: int) -> list[int]:
    """`pid` and its children (a supervisor's workers)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return [pid, *children]


def tree_rss_mb(pid: int) -> float:
    return sum(load.rss_mb(each) for each in tree(pid))


Measure = Callable[[str, int], Awaitable[dict[str, float]]]


async def many_sessions(stream: str, pid: int) -> dict[str, float]:
    figures = await load.many_sessions(stream, sessions=200, reruns_each=10, pid=pid)
    return {"reruns_per_s": figures["reruns_per_s"], "errors": figures["errors"]}


async def churn(stream: str, pid: int) -> dict[str, float]:
    return {"sessions_per_s": await load.session_churn(stream, 32, ROUND_SECONDS)}


async def memory(stream: str, pid: int) -> dict[str, float]:
    await asyncio.sleep(1.0)
    processes = tree(pid)
    total = tree_rss_mb(pid)
    workers = max(1, len(processes) - 1)
    return {"tree_rss_mb": total, "rss_mb_per_worker": total / workers}


WORKLOADS: dict[str, tuple[Measure, str, bool]] = {
    "200 sessions x 10 reruns": (many_sessions, "reruns_per_s", True),
    "session churn, 32 clients": (churn, "sessions_per_s", True),
    "RSS of the process tree, idle": (memory, "tree_rss_mb", False),
}


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = {}
        try:
            for name in SERVERS:
                port = free_port()
                log = folder / f"{name}.log"
                started[name] = (port, launch(command(name, port, folder), log))
            for port, process in started.values():
                wait_until_healthy(process, port)
            results: dict[str, dict[str, dict[str, list[float]]]] = {}
            for title, (measure, _, _) in WORKLOADS.items():
                values: dict[str, dict[str, list[float]]] = {name: {} for name in SERVERS}
                for index in range(ROUNDS):
                    order = SERVERS if index % 2 == 0 else tuple(reversed(SERVERS))
                    for name in order:
                        port, process = started[name]
                        stream = f"ws://127.0.0.1:{port}/_stcore/stream"
                        figures = await measure(stream, process.pid)
                        for key, value in figures.items():
                            values[name].setdefault(key, []).append(value)
                results[title] = values
                report(title, values)
            for name, (_, process) in started.items():
                cpu = [round(load.cpu_seconds(pid), 1) for pid in tree(process.pid)]
                print(f"  CPU seconds of {name}'s processes (supervisor first): {cpu}")
        finally:
            stop_servers([process for _, process in started.values()])
    write_results("workers", {"rounds": ROUNDS, "cores": os.cpu_count(), "results": results})


def report(title: str, values: dict[str, dict[str, list[float]]]) -> None:
    _, key, higher_is_better = WORKLOADS[title]
    print(f"\n{title} ({ROUNDS} rounds, medians; ratios per round)")
    for name in SERVERS:
        cells = ", ".join(
            f"{metric} {statistics.median(series):.1f}" for metric, series in values[name].items()
        )
        print(f"  {name:10} {cells}")
    for a, b in COMPARISONS:
        pairs = zip(values[a][key], values[b][key], strict=True)
        ratios = sorted((x / y) if higher_is_better else (y / x) for x, y in pairs)
        print(
            f"  {a} vs {b}: {statistics.median(ratios):.2f}x "
            f"({ratios[0]:.2f}-{ratios[-1]:.2f}; above 1 is better for {a})"
        )


if __name__ == "__main__":
    asyncio.run(main())
