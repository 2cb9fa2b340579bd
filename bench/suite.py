"""hexlit side by side with Streamlit's own server and with the bare frameworks.

`make bench` runs this. Every server runs at once, on loopback, for the whole run:

- `streamlit run` (1.67), hexlit on Starlette, a second identical hexlit on Starlette
  (the twin: two identical servers measured the same way give the noise floor) and hexlit
  on Tornado, all serving `suite_app.py` with the same options;
- the ceilings: bare Starlette and bare Tornado apps doing the same I/O with no hexlit in
  between (`bare_servers.py`), and hexlit on both stacks with the built-in `echo` runtime,
  so a WebSocket echo can be compared with a bare one.

This process is the load generator (WebSocket clients in asyncio; `wrk` for HTTP), a
separate process from every server. The machine drifts over minutes, so no ratio is
taken across runs: each workload measures its servers in short interleaved rounds
(A B C C B A ...), every ratio is taken per round between two servers measured next to
each other, and the median and spread of those ratios are reported.

Writes bench/results/suite.json; `bench/chart.py` draws docs/performance.png from it.
"""

from __future__ import annotations

import asyncio
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import streamlit

from bench import load
from bench.servers import (
    app_command,
    launch,
    stop_servers,
    wait_until_healthy,
    write_results,
)
from tests.support.net import free_port

HERE = Path(__file__).resolve().parent

ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "1"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MEDIA_BYTES = 8 * load.MB
UPLOAD_BYTES = 5 * load.MB
BIG_UPLOAD_BYTES = 100 * load.MB
FILE_ID = "00000000-0000-4000-8000-000000000001"
STATIC = Path(streamlit.__file__).resolve().parent / "static"
APP_OPTIONS = [
    "--server.headless", "true",
    "--server.fileWatcherType", "none",
    "--browser.gatherUsageStats", "false",
    "--runner.postScriptGC", "false",
    "--server.enableXsrfProtection", "false",
]  # fmt: skip
"""The same options for every app server. postScriptGC off: its full GC pass (about
40 ms) would hide every server difference; XSRF off so `wrk` can PUT uploads."""

TWIN_OPTIONS = os.environ.get("BENCH_TWIN_OPTIONS", "").split()
"""Empty: the twin is identical (the noise floor). Options here make it a variant measured
against hexlit-starlette in the same run, e.g. `--hexlit.loop asyncio --hexlit.http h11`."""

APP_SERVERS = ("streamlit", "hexlit-starlette", "hexlit-starlette-twin", "hexlit-tornado")
BARE = ("bare-starlette", "bare-tornado")
ECHO = ("echo-starlette", "echo-tornado")
COMPARISONS = (
    ("hexlit-starlette", "streamlit"),
    ("hexlit-tornado", "streamlit"),
    ("hexlit-starlette-twin", "hexlit-starlette"),
    ("hexlit-starlette", "bare-starlette"),
    ("hexlit-tornado", "bare-tornado"),
    ("echo-starlette", "bare-starlette"),
    ("echo-tornado", "bare-tornado"),
)
"""(a, b): a against b, as 'times better' (above 1: a is better)."""


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    media_session: load.Session | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stream(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"

    @property
    def bare(self) -> bool:
        return self.name.startswith("bare-")

    @property
    def media_url(self) -> str:
        if self.media_session is None:
            return f"{self.http}/media"
        return self.http + self.media_session.media_url

    @property
    def index_url(self) -> str:
        return self.http + ("/asset/index" if self.bare else "/")

    @property
    def js_url(self) -> str:
        return self.http + ("/asset/js" if self.bare else f"/static/js/{largest_js().name}")

    @property
    def upload_url(self) -> str:
        assert self.media_session is not None
        session_id = self.media_session.session_id
        return f"{self.http}/_stcore/upload_file/{session_id}/{FILE_ID}"


Round = Callable[[Server], Awaitable[dict[str, float]]]


@dataclass
class Metric:
    key: str
    unit: str
    higher_is_better: bool


@dataclass
class Workload:
    key: str
    title: str
    targets: tuple[str, ...]
    metrics: tuple[Metric, ...]
    measure: Round
    fresh: bool = False
    """Every round gets newly started servers (for memory figures a previous workload
    would blur)."""
    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)


@functools.cache
def largest_js() -> Path:
    return max((STATIC / "static" / "js").glob("*.js"), key=lambda path: path.stat().st_size)


def command(name: str, port: int) -> list[str]:
    if name.startswith("bare-"):
        files = [str(STATIC / "index.html"), str(largest_js()), str(MEDIA_BYTES)]
        stack = name.removeprefix("bare-")
        return [sys.executable, str(HERE / "bare_servers.py"), stack, str(port), *files]
    options = ["--server.address", "127.0.0.1", "--server.port", str(port), *APP_OPTIONS]
    if name.startswith("echo-"):
        stack = name.removeprefix("echo-")
        return app_command(f"hexlit-{stack}", Path("builtin:echo"), options)
    if name.endswith("-twin"):
        options += TWIN_OPTIONS
    return app_command(name.removesuffix("-twin"), HERE / "suite_app.py", options)


# Workloads ---------------------------------------------------------------------------


def wrk_round(
    url: Callable[[Server], str],
    connections: int,
    size: int = 0,
    headers: dict[str, str] | None = None,
    upload: Path | None = None,
) -> Round:
    """A round of `wrk`: req/s, and MB/s when every answer (or upload) is `size` bytes."""

    async def measure(server: Server) -> dict[str, float]:
        requests = await asyncio.to_thread(
            load.wrk, url(server), connections, ROUND_SECONDS, headers, upload
        )
        figures = {"req_per_s": requests}
        if size:
            figures["mb_per_s"] = requests * size / load.MB
        return figures

    return measure


def churn(concurrency: int) -> Round:
    async def measure(server: Server) -> dict[str, float]:
        per_second = await load.session_churn(server.stream, concurrency, ROUND_SECONDS)
        return {"sessions_per_s": per_second}

    return measure


async def interactive_reruns(server: Server) -> dict[str, float]:
    session = await load.open_session(server.stream)
    try:
        await load.reruns(session, 0.2)  # warm up
        cpu_before = load.cpu_seconds(server.pid)
        latencies = await load.reruns(session, ROUND_SECONDS)
        cpu = load.cpu_seconds(server.pid) - cpu_before
    finally:
        await session.ws.close()
    ordered = sorted(latencies)
    return {
        "reruns_per_s": len(latencies) / sum(latencies),
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "cpu_ms_per_rerun": cpu / len(latencies) * 1000,
    }


async def many_sessions(server: Server) -> dict[str, float]:
    return await load.many_sessions(server.stream, sessions=200, reruns_each=10, pid=server.pid)


async def idle_sessions(server: Server) -> dict[str, float]:
    before = load.rss_mb(server.pid)
    started = time.perf_counter()
    sessions = await load.open_idle_sessions(server.stream, 1000, parallel=50)
    opened = time.perf_counter() - started
    try:
        await asyncio.sleep(1.0)
        after = load.rss_mb(server.pid)
    finally:
        await load.close_all(sessions)
    return {"seconds_to_open": opened, "kb_per_session": (after - before) * 1024 / 1000}


async def big_upload_peak(server: Server) -> dict[str, float]:
    """Peak RSS above the RSS before, while one 100 MB upload streams in; then delete it."""
    before = load.rss_mb(server.pid)
    load.reset_peak_rss(server.pid)
    seconds = await load.put_upload(server.upload_url, BIG_UPLOAD_BYTES)
    peak = load.peak_rss_mb(server.pid)
    await load.delete_upload(server.upload_url)
    return {"peak_mb_over_before": peak - before, "mb_per_s": BIG_UPLOAD_BYTES / load.MB / seconds}


async def echo_roundtrips(server: Server) -> dict[str, float]:
    return {"roundtrips_per_s": await load.echo_roundtrips(server.stream, ROUND_SECONDS)}


async def echo_churn(server: Server) -> dict[str, float]:
    return {"sessions_per_s": await load.echo_churn(server.stream, 32, ROUND_SECONDS)}


def workloads(upload_body: Path) -> list[Workload]:
    app, with_bare = APP_SERVERS, (*APP_SERVERS, *BARE)
    peers = ("streamlit", "hexlit-starlette", "hexlit-tornado")
    rps = (Metric("req_per_s", "req/s", True),)
    mbps = (Metric("mb_per_s", "MB/s", True),)
    sessions = (Metric("sessions_per_s", "sessions/s", True),)
    one_mb = {"Range": f"bytes=0-{load.MB - 1}"}

    def media(connections: int, headers: dict[str, str] | None = None) -> Round:
        size = load.MB if headers else MEDIA_BYTES
        return wrk_round(lambda server: server.media_url, connections, size, headers)

    def upload(connections: int) -> Round:
        upload_url: Callable[[Server], str] = lambda server: server.upload_url  # noqa: E731
        return wrk_round(upload_url, connections, UPLOAD_BYTES, upload=upload_body)

    rerun_metrics = (
        Metric("reruns_per_s", "reruns/s", True),
        Metric("p50_ms", "p50 ms", False),
        Metric("p99_ms", "p99 ms", False),
        Metric("cpu_ms_per_rerun", "server CPU ms/rerun", False),
    )
    many_metrics = (
        Metric("reruns_per_s", "reruns/s", True),
        Metric("cpu_ms_per_rerun", "server CPU ms/rerun", False),
        Metric("errors", "errors", False),
    )
    idle_metrics = (
        Metric("kb_per_session", "KB RSS/session", False),
        Metric("seconds_to_open", "s to open", False),
    )
    peak_metrics = (
        Metric("peak_mb_over_before", "MB peak RSS", False),
        Metric("mb_per_s", "MB/s", True),
    )
    echo_metrics = (Metric("roundtrips_per_s", "round trips/s", True),)
    return [
        Workload("churn_c1", "session churn, 1 client", app, sessions, churn(1)),
        Workload("churn_c32", "session churn, 32 clients", app, sessions, churn(32)),
        Workload("reruns", "reruns, one session", app, rerun_metrics, interactive_reruns),
        Workload("sessions_200x10", "200 sessions x 10 reruns", app, many_metrics, many_sessions),
        Workload("media_full_c1", "media 8 MB, 1 client", with_bare, mbps, media(1)),
        Workload("media_full_c16", "media 8 MB, 16 clients", with_bare, mbps, media(16)),
        Workload("media_range_c1", "media 1 MB range, 1 client", with_bare, mbps, media(1, one_mb)),
        Workload(
            "media_range_c16", "media 1 MB range, 16 clients", with_bare, mbps, media(16, one_mb)
        ),
        Workload("upload_c1", "upload 5 MB, 1 client", app, mbps, upload(1)),
        Workload("upload_c8", "upload 5 MB, 8 clients", app, mbps, upload(8)),
        Workload("upload_100mb", "one 100 MB upload", peers, peak_metrics, big_upload_peak),
        Workload(
            "index_c32",
            "index.html, 32 clients",
            with_bare,
            rps,
            wrk_round(lambda server: server.index_url, 32),
        ),
        Workload(
            "js_c32",
            "largest JS file, 32 clients",
            with_bare,
            rps,
            wrk_round(lambda server: server.js_url, 32),
        ),
        Workload("idle_1000", "1,000 idle sessions", peers, idle_metrics, idle_sessions, True),
        Workload(
            "ws_echo", "WebSocket echo, one socket", (*ECHO, *BARE), echo_metrics, echo_roundtrips
        ),
        Workload(
            "ws_churn_c32",
            "WebSocket open-echo-close, 32 clients",
            (*ECHO, *BARE),
            sessions,
            echo_churn,
        ),
    ]


# Running and reporting ----------------------------------------------------------------


async def run_workload(workload: Workload, servers: dict[str, Server], logs: Path) -> None:
    """ROUNDS rounds, each over every target, forwards then backwards (A B C C B A ...)."""
    for target in workload.targets:
        workload.values[target] = {metric.key: [] for metric in workload.metrics}
    for index in range(ROUNDS):
        order = workload.targets if index % 2 == 0 else tuple(reversed(workload.targets))
        fresh = start_servers(workload.targets, logs) if workload.fresh else {}
        try:
            for target in order:
                figures = await workload.measure(fresh.get(target) or servers[target])
                for metric in workload.metrics:
                    workload.values[target][metric.key].append(figures[metric.key])
        finally:
            stop_servers([server.process for server in fresh.values()])


def start_servers(names: tuple[str, ...], logs: Path) -> dict[str, Server]:
    """Start them all at once, then wait for each to answer."""
    started: dict[str, Server] = {}
    try:
        for name in names:
            port = free_port()
            process = launch(command(name, port), logs / f"{name}-{port}.log")
            started[name] = Server(name, port, process)
        for server in started.values():
            wait_until_healthy(server.process, server.port)
    except BaseException:
        stop_servers([server.process for server in started.values()])
        raise
    return started


def advantage(a: float, b: float, higher_is_better: bool) -> float:
    """How many times better a is than b (above 1: a is better); 1 when both are zero."""
    if a == b:
        return 1.0
    if higher_is_better:
        return a / b if b else float("inf")
    return b / a if a else float("inf")


def ratios(workload: Workload, metric: Metric) -> dict[str, list[float]]:
    found = {}
    for a, b in COMPARISONS:
        if a in workload.values and b in workload.values:
            pairs = zip(workload.values[a][metric.key], workload.values[b][metric.key], strict=True)
            found[f"{a} / {b}"] = [advantage(x, y, metric.higher_is_better) for x, y in pairs]
    return found


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):10.2f} [{min(values):.2f}-{max(values):.2f}]"


def report(done: list[Workload]) -> dict[str, object]:
    results: dict[str, object] = {}
    for workload in done:
        print(f"\n== {workload.title}")
        entry: dict[str, object] = {"title": workload.title, "values": workload.values}
        entry_ratios: dict[str, object] = {}
        for metric in workload.metrics:
            better = "higher" if metric.higher_is_better else "lower"
            print(f"   {metric.unit} ({better} is better): median [min-max] of {ROUNDS}")
            for target in workload.targets:
                print(f"   {target:24} {spread(workload.values[target][metric.key])}")
            found = ratios(workload, metric)
            if found:
                print("   times better, per round pair: median [min-max]")
            for name, values in found.items():
                print(f"   {name:40} {spread(values)}")
            entry_ratios[metric.key] = {
                "unit": metric.unit, "higher_is_better": metric.higher_is_better, "ratios": found
            }  # fmt: skip
        entry["metrics"] = entry_ratios
        results[workload.key] = entry
    return results


async def open_media_sessions(servers: dict[str, Server]) -> None:
    for name in APP_SERVERS:
        server = servers[name]
        server.media_session = await load.open_session(server.stream, "media=1")
        if not server.media_session.media_url:
            raise RuntimeError(f"{name} registered no media")


def main() -> None:
    only = set(sys.argv[1:])
    print(f"machine: {os.cpu_count()} cores, shared by the load generator (this process and wrk)")
    print(f"and {len(APP_SERVERS) + len(BARE) + len(ECHO)} servers; {ROUNDS} rounds per figure,")
    print(f"timed rounds of {ROUND_SECONDS:g} s")
    started = time.monotonic()
    os.environ["BENCH_MEDIA_BYTES"] = str(MEDIA_BYTES)  # read by suite_app.py
    done: list[Workload] = []
    with tempfile.TemporaryDirectory() as folder, asyncio.Runner() as runner:
        logs = Path(folder)
        servers = start_servers((*APP_SERVERS, *BARE, *ECHO), logs)
        try:
            runner.run(open_media_sessions(servers))
            print(f"servers up in {time.monotonic() - started:.0f} s", flush=True)
            for workload in workloads(load.multipart_file(UPLOAD_BYTES, logs)):
                if only and workload.key not in only:
                    continue
                began = time.monotonic()
                runner.run(run_workload(workload, servers, logs))
                print(f"   {workload.key}: {time.monotonic() - began:.0f} s", flush=True)
                done.append(workload)
        finally:
            for server in servers.values():
                if server.media_session is not None:
                    runner.run(server.media_session.ws.close())
            stop_servers([server.process for server in servers.values()])
    results = report(done)
    write_results("suite", {"round_seconds": ROUND_SECONDS, "rounds": ROUNDS, "workloads": results})
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
