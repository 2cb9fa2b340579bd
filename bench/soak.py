"""`make soak` (not in CI): 200 sessions rerunning for 10 minutes on each stack.

hexlit on Starlette and hexlit on Tornado serve `suite_app.py` side by side; this process
opens 200 sessions on each and keeps every session rerunning (one rerun, then a pause of
THINK seconds, as a user clicking). It samples each server's RSS every SAMPLE seconds and
counts errors: a session that fails is reopened and the failure counted. Goals: zero
errors, flat RSS.

`SOAK_SECONDS` (default 600) shortens it. Writes bench/results/soak.json and
docs/soak.png.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench import load
from bench.servers import app_command, start_server, stop_servers, write_results
from bench.suite import APP_OPTIONS
from tests.support.net import free_port

HERE = Path(__file__).resolve().parent

SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
SESSIONS = 200
THINK = 1.0
SAMPLE = 10.0
STACKS = ("hexlit-starlette", "hexlit-tornado")


class Tally:
    def __init__(self) -> None:
        self.reruns = 0
        self.errors: list[str] = []


async def user(stream: str, tally: Tally, deadline: float) -> None:
    """One session rerunning until the deadline; a failed session is counted and reopened."""
    await asyncio.sleep(random.uniform(0, THINK))  # spread the sessions out
    while time.monotonic() < deadline:
        try:
            session = await load.open_session(stream)
            try:
                while time.monotonic() < deadline:
                    await load.run_script(session)
                    tally.reruns += 1
                    await asyncio.sleep(THINK)
            finally:
                await session.ws.close()
        except Exception as failure:  # every failure is what we count
            tally.errors.append(f"{type(failure).__name__}: {failure}"[:200])
            await asyncio.sleep(THINK)


async def soak(ports: dict[str, int], pids: dict[str, int]) -> dict[str, object]:
    deadline = time.monotonic() + SECONDS
    tallies = {name: Tally() for name in ports}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ports}
    users = [
        asyncio.create_task(user(f"ws://127.0.0.1:{port}/_stcore/stream", tallies[name], deadline))
        for name, port in ports.items()
        for _ in range(SESSIONS)
    ]
    started = time.monotonic()
    while time.monotonic() < deadline:
        for name, pid in pids.items():
            samples[name].append((time.monotonic() - started, load.rss_mb(pid)))
        line = "  ".join(
            f"{name}: {samples[name][-1][1]:.0f} MB, {tallies[name].reruns} reruns, "
            f"{len(tallies[name].errors)} errors"
            for name in ports
        )
        print(f"{time.monotonic() - started:5.0f} s  {line}", flush=True)
        await asyncio.sleep(min(SAMPLE, max(0.0, deadline - time.monotonic())))
    async with asyncio.timeout(load.TIMEOUT + THINK):
        await asyncio.gather(*users)
    elapsed = time.monotonic() - started
    return {
        name: {
            "reruns_per_s": tallies[name].reruns / elapsed,
            "errors": len(tallies[name].errors),
            "first_errors": tallies[name].errors[:5],
            "rss_mb": samples[name],
        }
        for name in ports
    }


def chart(results: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4))
    for name, entry in results.items():
        times = [t / 60 for t, _ in entry["rss_mb"]]
        axis.plot(times, [rss for _, rss in entry["rss_mb"]],
                  label=f"{name}: {entry['errors']} errors")  # fmt: skip
    axis.set_xlabel("minutes")
    axis.set_ylabel("server RSS, MB")
    axis.set_ylim(bottom=0)
    axis.set_title(f"make soak: {SESSIONS} sessions per stack, rerunning every {THINK:.0f} s")
    axis.legend()
    figure.tight_layout()
    figure.savefig(HERE.parent / "docs" / "soak.png", dpi=100)


def main() -> None:
    print(f"machine: {os.cpu_count()} cores shared by both servers and this load generator")
    print(f"{SESSIONS} sessions per stack for {SECONDS:.0f} s")
    ports = {name: free_port() for name in STACKS}
    processes, pids = [], {}
    with tempfile.TemporaryDirectory() as logs:
        try:
            for name, port in ports.items():
                options = ["--server.address", "127.0.0.1", "--server.port", str(port)]
                command = app_command(name, HERE / "suite_app.py", [*options, *APP_OPTIONS])
                process = start_server(command, port, Path(logs) / f"{name}.log")
                processes.append(process)
                pids[name] = process.pid
            results = asyncio.run(soak(ports, pids))
        finally:
            stop_servers(processes)
    for name, entry in results.items():
        rss = [value for _, value in entry["rss_mb"]]  # type: ignore[index]
        half = len(rss) // 2
        print(
            f"{name}: {entry['reruns_per_s']:.0f} reruns/s, {entry['errors']} errors, RSS "
            f"first half median {statistics.median(rss[:half] or rss):.0f} MB, "
            f"second half median {statistics.median(rss[half:]):.0f} MB, max {max(rss):.0f} MB"
        )
    write_results("soak", results)
    chart(results)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
