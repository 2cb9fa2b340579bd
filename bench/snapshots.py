"""What session snapshots cost, and how fast a session comes back (issue 13, ADR 0011).

Two measurements, each its own mode:

`cpu` (run it with the bench venv): server CPU per rerun with snapshots on and off, side
by side. For each store (`BENCH_STORES`, default "filesystem redis") four hexlit servers
run at once on Starlette: the light page (`suite_app.py`) and a page whose session state
holds about 100 KB (`HEAVY_APP`), each with snapshots on and with
`--hexlit.sessionSnapshots off`, all on the same store. For Redis a real `redis-server`
is started and stopped here (tests/support/redis.py). In interleaved rounds (A B C D,
then D C B A, ...) every server gets the same load:

- back to back: 20 sessions rerun 20 times each, as fast as the server answers (runs of
  one session coalesce into fewer snapshots);
- user pace: 20 sessions rerun once a second, 6 times each (every run is snapshotted).

CPU is the user+system time of the server's process tree (/proc), from the start of
the load until 1 s after it ends (the last snapshots are written by then), divided by
the reruns completed. With Redis, redis-server's own CPU in the same window is reported
apart. Ratios on/off are taken per round, between servers measured next to each other.

`recovery` (run it with the test venv, where Playwright lives): two replicas on
Starlette with the Redis store behind nginx, round-robin for everything (no affinity),
one headless Chromium with the default frontend reconnect. Each trial opens the page,
clicks the counter to 2, waits for the snapshot, then kills the replica holding the
socket (SIGKILL, or SIGTERM: a drain) and measures the time until the page, back on the
survivor, shows the counter and a click increments it. The killed replica is started
again before the next trial.

    .venv-bench/bin/python -m bench.snapshots cpu
    .venv/bin/python -m bench.snapshots recovery

Run both from the repository root. Both write their part of bench/results/snapshots.json
(the other part is kept).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench import load
from bench.servers import DEAD_PROXY, app_command, launch, stop_servers
from bench.suite import APP_OPTIONS
from tests.support.net import free_port

HERE = Path(__file__).resolve().parent

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
STORES = tuple(os.environ.get("BENCH_STORES", "filesystem redis").split())
TRIALS = int(os.environ.get("BENCH_TRIALS", "5"))
SECRET = "bench snapshots secret"
SESSIONS = 20
BACK_TO_BACK_RERUNS = 20
PACED_RERUNS = 6
PACE_SECONDS = 1.0
TAIL_SECONDS = 1.0
"""After the load, before the CPU is read: every pending snapshot is written by then."""
RESULTS = HERE / "results" / "snapshots.json"
START_TIMEOUT = 300.0
BASELINE = os.environ.get("BENCH_BASELINE", "")
"""A folder holding another `hexlit` package (a copy of an older tree): when set, each
app also runs with snapshots on from that code ("on, baseline"), measured in the same
rounds, so a change to the snapshot code is compared with what it replaced."""

HEAVY_APP = """\
import streamlit as st

# About 100 KB pickled: a table of rows kept in the session, as an app that loaded
# them from a database once would.
if "rows" not in st.session_state:
    st.session_state["rows"] = [
        {"id": i, "name": f"customer {i:05d}", "score": i * 0.5} for i in range(2600)
    ]
st.session_state["runs"] = st.session_state.get("runs", 0) + 1
st.title("Heavy session state")
st.write(f"Runs: {st.session_state['runs']}, rows: {len(st.session_state['rows'])}")
st.button("Again")
"""

COUNTER_APP = """\
import os

import streamlit as st

st.title("Snapshots")
st.write(f"Served by process {os.getpid()}")
if "count" not in st.session_state:
    st.session_state["count"] = 0


def increment():
    st.session_state["count"] += 1


st.button("Increment", on_click=increment)
st.write(f"Count: {st.session_state['count']}")
"""


# -- CPU per rerun ---------------------------------------------------------------------


def tree_cpu(pid: int) -> float:
    total = 0.0
    for each in load.process_tree(pid):
        try:
            total += load.cpu_seconds(each)
        except OSError:
            continue  # a child that just ended
    return total


async def back_to_back(stream: str) -> int:
    sessions = [await load.open_session(stream) for _ in range(SESSIONS)]
    try:

        async def rerun_all(session: load.Session) -> None:
            for _ in range(BACK_TO_BACK_RERUNS):
                await load.run_script(session)

        await asyncio.gather(*(rerun_all(s) for s in sessions))
        return SESSIONS * BACK_TO_BACK_RERUNS
    finally:
        await load.close_all(sessions)


async def paced(stream: str) -> int:
    sessions = [await load.open_session(stream) for _ in range(SESSIONS)]
    try:

        async def rerun_paced(index: int, session: load.Session) -> None:
            await asyncio.sleep(PACE_SECONDS * index / SESSIONS)  # spread over the second
            start = time.perf_counter()
            for number in range(PACED_RERUNS):
                await asyncio.sleep(max(0.0, start + number * PACE_SECONDS - time.perf_counter()))
                await load.run_script(session)

        await asyncio.gather(*(rerun_paced(i, s) for i, s in enumerate(sessions)))
        return SESSIONS * PACED_RERUNS
    finally:
        await load.close_all(sessions)


WORKLOADS: dict[str, Callable[[str], Awaitable[int]]] = {
    "back to back": back_to_back,
    "user pace": paced,
}


async def measure(
    workload: Callable[[str], Awaitable[int]], stream: str, pid: int, redis_pid: int | None
) -> dict[str, float]:
    """CPU per rerun of one round. Sessions are opened inside the window on purpose: a
    session's first run is a rerun like the others, and opening costs the same on and off
    (the snapshot of a closed session is deleted, which is part of the cost)."""
    cpu_before = tree_cpu(pid)
    redis_before = load.cpu_seconds(redis_pid) if redis_pid else 0.0
    started = time.perf_counter()
    reruns = await workload(stream)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(TAIL_SECONDS)
    cpu = tree_cpu(pid) - cpu_before
    redis_cpu = (load.cpu_seconds(redis_pid) - redis_before) if redis_pid else 0.0
    return {
        "reruns": reruns,
        "reruns_per_s": reruns / elapsed,
        "cpu_ms_per_rerun": cpu / reruns * 1000,
        "redis_cpu_ms_per_rerun": redis_cpu / reruns * 1000,
    }


def cpu_command(
    store: str, app: Path, snapshots: str, port: int, folder: Path, redis: str
) -> list[str]:
    options = [
        "--server.address", "127.0.0.1", "--server.port", str(port), *APP_OPTIONS,
        "--hexlit.store", store,
        "--hexlit.storeDir", str(folder),
        "--hexlit.sessionSnapshots", snapshots,
    ]  # fmt: skip
    if store == "redis":
        options += ["--hexlit.redis_url", redis]
    return app_command("hexlit-starlette", app, options)


async def cpu_for_store(store: str, apps: dict[str, Path], tmp: Path) -> dict[str, Any]:
    with ExitStack() as stack:
        redis_url, redis_pid = "", None
        if store == "redis":
            from tests.support.redis import redis_server

            server = stack.enter_context(redis_server())
            redis_url = server.url
            assert server._process is not None
            redis_pid = server._process.pid
        modes = ("on", "off", "on, baseline") if BASELINE else ("on", "off")
        names = [f"{app}, snapshots {mode}" for app in apps for mode in modes]
        started: dict[str, tuple[int, Any]] = {}
        try:
            for name in names:
                app, mode = name.split(", snapshots ")
                port = free_port()
                folder = tmp / store / name.replace(", ", "-").replace(" ", "-")
                command = cpu_command(store, apps[app], mode.split(",")[0], port, folder, redis_url)
                log = tmp / f"{store}-{port}.log"
                started[name] = (
                    port,
                    launch_with(command, log, BASELINE if "baseline" in mode else ""),
                )
            for port, process in started.values():
                healthy_within(process, port, tmp / f"{store}-{port}.log")
            for port, _ in started.values():  # imports and caches warm, the same for all
                await back_to_back(f"ws://127.0.0.1:{port}/_stcore/stream")
            results: dict[str, Any] = {}
            for title, workload in WORKLOADS.items():
                values: dict[str, list[dict[str, float]]] = {name: [] for name in names}
                for index in range(ROUNDS):
                    order = names if index % 2 == 0 else list(reversed(names))
                    for name in order:
                        port, process = started[name]
                        stream = f"ws://127.0.0.1:{port}/_stcore/stream"
                        values[name].append(await measure(workload, stream, process.pid, redis_pid))
                results[title] = summarize(values, apps)
                print_summary(store, title, results[title])
            return results
        finally:
            stop_servers([process for _, process in started.values()])


def healthy_within(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait until the server answers `/_stcore/health` (START_TIMEOUT: on a busy shared
    machine six servers starting at once take minutes); print its log if it never does."""
    import httpx

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.kill()
    print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
    raise RuntimeError(f"{process.args!r} did not answer on port {port}")


def launch_with(command: list[str], log: Path, package_root: str) -> subprocess.Popen[bytes]:
    """`launch`, with `package_root` first on the server's import path when given."""
    if not package_root:
        return launch(command, log)
    env = {**os.environ, "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY}
    env["PYTHONPATH"] = package_root
    with log.open("wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def ratio_spread(on: list[dict[str, float]], off: list[dict[str, float]]) -> dict[str, Any]:
    ratios = sorted(
        a["cpu_ms_per_rerun"] / b["cpu_ms_per_rerun"] for a, b in zip(on, off, strict=True)
    )
    return {
        "median": statistics.median(ratios),
        "min": ratios[0],
        "max": ratios[-1],
        "per_round": ratios,
    }


def summarize(values: dict[str, list[dict[str, float]]], apps: dict[str, Path]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for app in apps:
        on, off = values[f"{app}, snapshots on"], values[f"{app}, snapshots off"]
        summary[app] = {
            "on": {key: statistics.median(r[key] for r in on) for key in on[0]},
            "off": {key: statistics.median(r[key] for r in off) for key in off[0]},
            "cpu_ratio_on_off": ratio_spread(on, off),
            "rounds": {"on": on, "off": off},
        }
        baseline = values.get(f"{app}, snapshots on, baseline")
        if baseline:
            summary[app]["baseline"] = {
                key: statistics.median(r[key] for r in baseline) for key in baseline[0]
            }
            summary[app]["cpu_ratio_baseline_off"] = ratio_spread(baseline, off)
            summary[app]["rounds"]["baseline"] = baseline
    return summary


def print_summary(store: str, title: str, summary: dict[str, Any]) -> None:
    print(f"\n{store}, {title} ({ROUNDS} rounds, medians; ratio per round)")
    for app, figures in summary.items():
        on, off, ratio = figures["on"], figures["off"], figures["cpu_ratio_on_off"]
        redis = ""
        if on["redis_cpu_ms_per_rerun"] or off["redis_cpu_ms_per_rerun"]:
            redis = (
                f"; redis-server {on['redis_cpu_ms_per_rerun']:.3f} vs "
                f"{off['redis_cpu_ms_per_rerun']:.3f} ms"
            )
        print(
            f"  {app:6} CPU/rerun on {on['cpu_ms_per_rerun']:.2f} ms, off "
            f"{off['cpu_ms_per_rerun']:.2f} ms: {ratio['median']:.3f}x "
            f"({ratio['min']:.3f}-{ratio['max']:.3f}); reruns/s on {on['reruns_per_s']:.0f}, "
            f"off {off['reruns_per_s']:.0f}{redis}"
        )
        if "baseline" in figures:
            base, ratio = figures["baseline"], figures["cpu_ratio_baseline_off"]
            print(
                f"  {app:6} baseline on {base['cpu_ms_per_rerun']:.2f} ms: {ratio['median']:.3f}x "
                f"({ratio['min']:.3f}-{ratio['max']:.3f}) of off"
            )


async def cpu_main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hexlit-bench-snapshots-") as name:
        tmp = Path(name)
        heavy = tmp / "heavy_app.py"
        heavy.write_text(HEAVY_APP)
        apps = {"light": HERE / "suite_app.py", "100 KB": heavy}
        return {store: await cpu_for_store(store, apps, tmp) for store in STORES}


# -- death to usable -------------------------------------------------------------------


class Replica:
    """One hexlit replica on a fixed port, started again after each kill."""

    def __init__(self, port: int, app: Path, redis_url: str, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.command = app_command(
            "hexlit-starlette",
            app,
            [
                "--server.address", "127.0.0.1", "--server.port", str(self.port),
                "--server.headless", "true", "--server.fileWatcherType", "none",
                "--browser.gatherUsageStats", "false",
                "--hexlit.store", "redis", "--hexlit.redis_url", redis_url,
            ],
        )  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.folder / f"replica-{self.port}-{self.starts}.log"
        self.process = launch(self.command, log)
        healthy_within(self.process, self.port, log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_servers([self.process])
        self.process = None

    def snapshots_saved(self) -> int:
        import httpx

        text = httpx.get(f"http://127.0.0.1:{self.port}/_stcore/metrics", timeout=10).text
        found = re.search(r"^hexlit_snapshots_saved_total (\d+)", text, re.MULTILINE)
        return int(found.group(1)) if found else 0


@contextmanager
def replicas_behind_nginx(tmp: Path) -> Iterator[tuple[list[Replica], str]]:
    from tests.support.nginx import nginx_proxy
    from tests.support.redis import redis_server

    app = tmp / "counter_app.py"
    app.write_text(COUNTER_APP)
    with redis_server() as redis:
        replicas = [Replica(free_port(), app, redis.url, tmp) for _ in range(2)]
        try:
            for replica in replicas:
                replica.start()
            with nginx_proxy([r.port for r in replicas], sticky_websocket=False) as proxy:
                yield replicas, proxy.url
        finally:
            for replica in replicas:
                replica.stop()


def one_trial(
    browser: Any, url: str, replicas: list[Replica], how: signal.Signals
) -> dict[str, float]:
    """Seconds from the signal to the holder until the page has a new socket
    (`reconnected_s`), until it shows the survivor's restored page (`restored_s`), and
    until a click on the survivor counts (`usable_s`)."""
    from playwright.sync_api import expect

    from tests.e2e.pages import (
        RECONNECT_TIMEOUT,
        TIMEOUT,
        expect_count,
        new_isolated_context,
        stream_socket_count,
        wait_for_new_open_socket,
    )

    context = new_isolated_context(browser)
    try:
        page = context.new_page()
        page.goto(url)
        expect_count(page, 0)
        served = page.get_by_text(re.compile(r"^Served by process \d+$"))
        holder_pid = int((served.text_content(timeout=TIMEOUT) or "").rsplit(" ", 1)[1])
        holder = next(r for r in replicas if r.process is not None and r.process.pid == holder_pid)
        survivor = next(r for r in replicas if r is not holder)
        button = page.get_by_role("button", name="Increment", exact=True)
        for count in (1, 2):
            saved = holder.snapshots_saved()
            button.click()
            expect_count(page, count)
            deadline = time.monotonic() + 10
            while holder.snapshots_saved() <= saved and time.monotonic() < deadline:
                time.sleep(0.02)
        opened = stream_socket_count(page)

        assert holder.process is not None
        assert survivor.process is not None
        started = time.perf_counter()
        holder.process.send_signal(how)
        # The frontend notices the close and reconnects; nginx sends it to the survivor
        # (the only replica that still accepts), which restores the session.
        wait_for_new_open_socket(page, after=opened)
        reconnected = time.perf_counter() - started
        on_survivor = page.get_by_text(f"Served by process {survivor.process.pid}", exact=True)
        expect(on_survivor).to_be_visible(timeout=RECONNECT_TIMEOUT)
        expect_count(page, 2, timeout=RECONNECT_TIMEOUT)
        restored = time.perf_counter() - started
        button.click(timeout=RECONNECT_TIMEOUT)
        expect_count(page, 3, timeout=RECONNECT_TIMEOUT)
        usable = time.perf_counter() - started
    finally:
        context.close()
    if holder.process is not None:
        holder.process.wait(30)
    holder.process = None
    holder.start()
    return {"reconnected_s": reconnected, "restored_s": restored, "usable_s": usable}


def recovery_main() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS

    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="hexlit-bench-recovery-") as name,
        replicas_behind_nginx(Path(name)) as (replicas, url),
        sync_playwright() as driver,
    ):
        # headless=True passes --headless; CHROMIUM_ARGS are the e2e suite's (--no-sandbox,
        # --disable-gpu, --disable-background-networking, ...).
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            for how in (signal.SIGKILL, signal.SIGTERM):
                trials = [one_trial(browser, url, replicas, how) for _ in range(TRIALS)]
                usable = [t["usable_s"] for t in trials]
                reconnected = [t["reconnected_s"] for t in trials]
                restored = [t["restored_s"] for t in trials]
                results[how.name] = {
                    "usable_median_s": statistics.median(usable),
                    "usable_max_s": max(usable),
                    "usable_min_s": min(usable),
                    "reconnected_median_s": statistics.median(reconnected),
                    "restored_median_s": statistics.median(restored),
                    "trials": trials,
                }
                print(
                    f"{how.name}: death to usable median {statistics.median(usable):.2f} s, "
                    f"max {max(usable):.2f} s, min {min(usable):.2f} s; medians: new socket "
                    f"{statistics.median(reconnected):.2f} s, restored page "
                    f"{statistics.median(restored):.2f} s ({TRIALS} trials)"
                )
        finally:
            browser.close()
    return results


# -- main ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "executable": sys.executable,
    }


def main() -> None:
    # The secret that seals snapshots, the same for every server (never on a command line).
    os.environ["STREAMLIT_SERVER_COOKIE_SECRET"] = SECRET
    mode = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if mode == "cpu":
        figures: dict[str, Any] = asyncio.run(cpu_main())
        stores = previous.get("cpu", {}).get("stores", {})  # a run of one store keeps the other's
        for store, results in figures.items():
            stores[store] = {"machine": machine(), "rounds": ROUNDS, **results}
        previous["cpu"] = {"stores": stores}
    elif mode == "recovery":
        previous["recovery"] = {"machine": machine(), "trials": TRIALS, **recovery_main()}
    else:
        raise SystemExit(f"usage: {sys.argv[0]} cpu|recovery")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(previous, indent=2))


if __name__ == "__main__":
    main()
