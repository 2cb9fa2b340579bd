"""`hexlit.workers` side by side with `streamlit run` (issue 14, ADR 0015).

Every server runs at once, on loopback, serving `suite_app.py` with the suite's options:
`streamlit run`, and hexlit on Starlette with 1, 2 and 4 workers (a supervisor and N
worker processes sharing a temporary `hexlit.storeDir`; with N > 1 session snapshots are
on, the product's default), and 2 workers with snapshots off (what snapshots cost).
`BENCH_SERVERS` picks the set. Workloads, each in interleaved rounds (A B C C B A ...):

- 200 concurrent sessions x 10 reruns each: reruns/s over the rerun phase, the CPU the
  server's whole process tree and this load generator spent per rerun, failures;
- session churn, 32 clients connecting, running the script once and closing;
- memory, first, on fresh servers: RSS of each server's process tree, idle, per worker
  (and the supervisor), and per idle session (500 sessions opened and left idle: the
  tree's RSS delta / 500; a few MB of RSS come and go with the allocator, hence so many);
- once, at the end: `st.cache_resource` holding 64 MB, filled on every worker (sessions
  with `?cache=1` are opened until each process has grown), and the tree's growth in
  copies of it.

Every ratio is taken per round between servers measured next to each other. The load
generator (this process) shares the machine's cores with the servers: the load average
is recorded around each workload, and `ceiling_reruns_per_s` says what the two cores
could give if the server and the load generator used them fully for nothing else
(cores x 1000 / (server + load generator CPU ms per rerun)).

    make bench-install && .venv-bench/bin/python -m bench.workers  # from the repository root
    .venv-bench/bin/python -m bench.workers_chart                  # docs/img/workers-curve.png

Writes bench/results/workers.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
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
SERVERS = tuple(
    os.environ.get(
        "BENCH_SERVERS", "streamlit hexlit-w1 hexlit-w2 hexlit-w4 hexlit-w2-nosnap"
    ).split()
)
"""`hexlit-wN`: N workers; `-nosnap` turns session snapshots off (with N > 1 they are on:
the workers share the filesystem store); `-snap` gives one worker the filesystem store,
so its snapshots are on too."""
COMPARISONS = tuple(
    [(name, "streamlit") for name in SERVERS if name != "streamlit" and "streamlit" in SERVERS]
    + [
        (name, "hexlit-w1")
        for name in SERVERS
        if name.startswith("hexlit-w") and name != "hexlit-w1"
    ]
)
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "200"))
RERUNS_EACH = 10
IDLE_SESSIONS = int(os.environ.get("BENCH_IDLE_SESSIONS", "500"))
CACHE_BYTES = int(os.environ.get("BENCH_CACHE_BYTES", str(64 * load.MB)))
CORES = len(os.sched_getaffinity(0))
ONLY = tuple(os.environ.get("BENCH_ONLY", "").split())
"""Run only the workloads whose titles start with one of these words ("memory", "200",
"session", "cache"), keeping the other results already in bench/results/workers.json."""
RESULTS = HERE / "results" / "workers.json"


def wanted(title: str) -> bool:
    return not ONLY or title.startswith(ONLY)


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


def serving(pid: int) -> list[int]:
    """The processes that serve sessions: the workers, or the one process."""
    return load.process_tree(pid)[1:] or [pid]


def tree_rss_mb(pid: int) -> float:
    return sum(load.rss_mb(each) for each in load.process_tree(pid))


def tree_cpu_seconds(pid: int) -> float:
    return sum(load.cpu_seconds(each) for each in load.process_tree(pid))


Measure = Callable[[str, int], Awaitable[dict[str, float]]]


async def many_sessions(stream: str, pid: int) -> dict[str, float]:
    """As `load.many_sessions`, with the CPU of the whole tree and of this process."""
    opened = await asyncio.gather(
        *(load.open_session(stream) for _ in range(SESSIONS)), return_exceptions=True
    )
    live = [session for session in opened if isinstance(session, load.Session)]

    async def rerun_all(session: load.Session) -> None:
        for _ in range(RERUNS_EACH):
            await load.run_script(session)

    started, server_before, own_before = (
        time.perf_counter(),
        tree_cpu_seconds(pid),
        time.process_time(),
    )
    outcomes = await asyncio.gather(*(rerun_all(s) for s in live), return_exceptions=True)
    elapsed = time.perf_counter() - started
    server_cpu, own_cpu = tree_cpu_seconds(pid) - server_before, time.process_time() - own_before
    await load.close_all(live)
    completed = sum(not isinstance(o, BaseException) for o in outcomes) * RERUNS_EACH
    server_ms = server_cpu / max(1, completed) * 1000
    own_ms = own_cpu / max(1, completed) * 1000
    return {
        "reruns_per_s": completed / elapsed,
        "server_cpu_ms_per_rerun": server_ms,
        "loadgen_cpu_ms_per_rerun": own_ms,
        "ceiling_reruns_per_s": CORES * 1000 / (server_ms + own_ms),
        "server_cores_used": server_cpu / elapsed,
        "errors": (SESSIONS - len(live)) + sum(isinstance(o, BaseException) for o in outcomes),
    }


async def churn(stream: str, pid: int) -> dict[str, float]:
    return {"sessions_per_s": await load.session_churn(stream, 32, ROUND_SECONDS)}


async def memory(stream: str, pid: int) -> dict[str, float]:
    """The idle tree, then `IDLE_SESSIONS` idle sessions' share of it."""
    await asyncio.sleep(1.0)
    processes = load.process_tree(pid)
    before = tree_rss_mb(pid)
    workers = serving(pid)
    supervisor = load.rss_mb(pid) if len(processes) > 1 else 0.0
    sessions = await load.open_idle_sessions(stream, IDLE_SESSIONS, parallel=32)
    await asyncio.sleep(1.0)
    after = tree_rss_mb(pid)
    await load.close_all(sessions)
    return {
        "tree_rss_mb": before,
        "rss_mb_per_worker": (before - supervisor) / len(workers),
        "supervisor_rss_mb": supervisor,
        "kb_per_idle_session": (after - before) * 1024 / IDLE_SESSIONS,
    }


WORKLOADS: dict[str, tuple[Measure, str, bool]] = {
    "memory: idle tree and idle sessions": (memory, "tree_rss_mb", False),
    "200 sessions x 10 reruns": (many_sessions, "reruns_per_s", True),
    "session churn, 32 clients": (churn, "sessions_per_s", True),
}
"""Memory first: measured on fresh servers, before the load leaves freed memory behind
for new sessions to reuse."""


async def cache_copies(stream: str, pid: int) -> dict[str, float]:
    """Fill `st.cache_resource` with `CACHE_BYTES` on every serving process: open
    sessions with `?cache=1` (the kernel picks the worker) until each process has grown
    by most of it, or 64 sessions. The tree's growth, in copies of the cached object."""
    workers = serving(pid)
    base = {each: load.rss_mb(each) for each in workers}
    before = tree_rss_mb(pid)
    size_mb = CACHE_BYTES / load.MB
    sessions: list[load.Session] = []
    filled: set[int] = set()
    while len(filled) < len(workers) and len(sessions) < 64:
        sessions.append(await load.open_session(stream, "cache=1"))
        filled = {each for each in workers if load.rss_mb(each) - base[each] > 0.75 * size_mb}
    await asyncio.sleep(1.0)
    after = tree_rss_mb(pid)
    await load.close_all(sessions)
    return {
        "cache_mb": size_mb,
        "processes_filled": len(filled),
        "sessions_opened": len(sessions),
        "tree_growth_mb": after - before,
        "copies": (after - before) / size_mb,
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
            for port, process in started.values():  # each process's first run imports
                stream = f"ws://127.0.0.1:{port}/_stcore/stream"
                warm = 16 * len(serving(process.pid))
                await load.close_all(await load.open_idle_sessions(stream, warm, parallel=16))
            kept = json.loads(RESULTS.read_text()) if ONLY and RESULTS.exists() else {}
            results: dict[str, dict[str, dict[str, list[float]]]] = kept.get("results", {})
            machine: dict[str, list[float]] = kept.get("load_average_before_after", {})
            dates: dict[str, str] = kept.get("dates", {})
            for title, (measure, _, _) in WORKLOADS.items():
                if not wanted(title):
                    continue
                dates[title] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
                machine[title] = [os.getloadavg()[0]]
                values: dict[str, dict[str, list[float]]] = {name: {} for name in SERVERS}
                for index in range(ROUNDS):
                    order = SERVERS if index % 2 == 0 else tuple(reversed(SERVERS))
                    for name in order:
                        port, process = started[name]
                        stream = f"ws://127.0.0.1:{port}/_stcore/stream"
                        figures = await measure(stream, process.pid)
                        for key, value in figures.items():
                            values[name].setdefault(key, []).append(value)
                machine[title].append(os.getloadavg()[0])
                results[title] = values
                report(title, values)
            cache: dict[str, dict[str, float]] = kept.get("cache_resource", {})
            for name, (port, process) in started.items():
                if wanted("cache"):
                    stream = f"ws://127.0.0.1:{port}/_stcore/stream"
                    cache[name] = await cache_copies(stream, process.pid)
            print(f"\nst.cache_resource of {CACHE_BYTES // load.MB} MB, filled on every process")
            for name, figures in cache.items():
                print(f"  {name:18} {figures}")
            cpu = {
                name: [round(load.cpu_seconds(pid), 1) for pid in load.process_tree(process.pid)]
                for name, (_, process) in started.items()
            }
            for name, seconds in cpu.items():
                print(f"  CPU seconds of {name}'s processes (supervisor first): {seconds}")
        finally:
            stop_servers([process for _, process in started.values()])
    write_results(
        "workers",
        {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "dates": dates,
            "commit": os.environ.get("BENCH_COMMIT", ""),
            "rounds": ROUNDS,
            "cores": CORES,
            "load_average_before_after": machine,
            "results": results,
            "cache_resource": cache,
            "cpu_seconds": cpu,
        },
    )


def report(title: str, values: dict[str, dict[str, list[float]]]) -> None:
    _, key, higher_is_better = WORKLOADS[title]
    print(f"\n{title} ({ROUNDS} rounds, medians [min-max]; ratios per round)")
    for name in SERVERS:
        cells = ", ".join(
            f"{metric} {statistics.median(series):.1f} [{min(series):.1f}-{max(series):.1f}]"
            for metric, series in values[name].items()
        )
        print(f"  {name:18} {cells}")
    for a, b in COMPARISONS:
        pairs = zip(values[a][key], values[b][key], strict=True)
        ratios = sorted((x / y) if higher_is_better else (y / x) for x, y in pairs)
        print(
            f"  {a} vs {b}: {statistics.median(ratios):.2f}x "
            f"({ratios[0]:.2f}-{ratios[-1]:.2f}; above 1 is better for {a})"
        )


if __name__ == "__main__":
    asyncio.run(main())
