"""Media throughput through nginx with 1 and with 2 hexlit replicas sharing Redis.

Two hexlit processes (Starlette stack, `--hexlit.store redis`) and two nginx proxies run
side by side on loopback: one proxy in front of replica A only, one in front of A and B.
A 1 MB media file is registered through A. The load generator (this process, a separate
process from every server) fetches it with 16 concurrent clients in short rounds,
interleaved A-B-B-A, and reports MB/s per round and the median of the per-pair ratios.
The machine has 2 cores shared by the load generator, nginx, Redis and the replicas, so
the second replica can only help as far as a core is free: read the ratio with that in mind.

Run: `make bench-replicas` (or `python -m bench.replicas_media` from the repository
root); writes bench/results/replicas_media.json.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from websockets.sync.client import connect

from bench.servers import write_results
from tests.support.net import free_port
from tests.support.nginx import nginx_proxy
from tests.support.processes import stop_process
from tests.support.redis import redis_server

CONCURRENCY = 16
ROUND_SECONDS = 3.0
PAIRS = 3
MEDIA_BYTES = 1_000_000


def start_replica(redis_url: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [
        sys.executable, "-m", "hexlit.composition", "run", "builtin:counter",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--hexlit.store", "redis", "--hexlit.redis_url", redis_url,
    ]  # fmt: skip
    handle = log.open("wb")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.1)
    stop_process(process, 10.0)
    raise RuntimeError(f"replica did not start; see {log}")


def register_media(port: int) -> str:
    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", open_timeout=10) as ws:
        ws.recv(timeout=10)
        ws.send(f"media media {MEDIA_BYTES} video/mp4".encode())
        reply = ws.recv(timeout=10)
    assert isinstance(reply, bytes)
    return reply.decode().split()[1]


async def one_round(url: str) -> float:
    """MB/s over ROUND_SECONDS with CONCURRENCY clients fetching `url` again and again."""
    received = 0
    deadline = time.perf_counter() + ROUND_SECONDS

    async def client() -> None:
        nonlocal received
        async with httpx.AsyncClient(timeout=30) as http:
            while time.perf_counter() < deadline:
                response = await http.get(url)
                assert response.status_code == 200
                received += len(response.content)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return received / 1e6 / (time.perf_counter() - started)


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, shared by load generator, nginx, Redis, replicas")
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis = stack.enter_context(redis_server())
        a, port_a = start_replica(redis.url, logs / "a.log")
        stack.callback(stop_process, a, 10.0)
        b, port_b = start_replica(redis.url, logs / "b.log")
        stack.callback(stop_process, b, 10.0)
        one = stack.enter_context(nginx_proxy([port_a]))
        two = stack.enter_context(nginx_proxy([port_a, port_b]))
        path = register_media(port_a)
        rounds: dict[str, list[float]] = {"1 replica": [], "2 replicas": []}
        ratios = []
        for _ in range(PAIRS):  # A B B A
            first = asyncio.run(one_round(one.url + path))
            second = asyncio.run(one_round(two.url + path))
            third = asyncio.run(one_round(two.url + path))
            fourth = asyncio.run(one_round(one.url + path))
            rounds["1 replica"] += [first, fourth]
            rounds["2 replicas"] += [second, third]
            ratios.append((second + third) / (first + fourth))
    for name, values in rounds.items():
        print(
            f"{name:11} MB/s  min {min(values):7.1f}  median {statistics.median(values):7.1f}"
            f"  max {max(values):7.1f}"
        )
    print(
        f"2 / 1 replicas: median ratio {statistics.median(ratios):.2f} "
        f"(per pair: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    write_results("replicas_media", {"rounds": rounds, "ratios": ratios})


if __name__ == "__main__":
    main()
