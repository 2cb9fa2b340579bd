"""The load generator's workloads: WebSocket clients in asyncio, HTTP through `wrk`.

Every function measures one round against one server and returns plain numbers. A
WebSocket session here does what the Streamlit frontend does: connect to
`/_stcore/stream`, send a `rerun_script` BackMsg, read ForwardMsgs until
`script_finished`. Every wait is bounded by TIMEOUT.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 60.0
MB = 1024 * 1024
BOUNDARY = "----hexlitBench"


def rerun_message(query: str = "") -> bytes:
    message = BackMsg()
    message.rerun_script.query_string = query
    return message.SerializeToString()


@dataclass
class Session:
    """One open session: its socket, its id, and the media URL its page registered."""

    ws: ClientConnection
    session_id: str = ""
    media_url: str = ""


async def run_script(session: Session, query: str = "") -> float:
    """Rerun the script; return the seconds from sending until `script_finished`."""
    started = time.perf_counter()
    await session.ws.send(rerun_message(query))
    async with asyncio.timeout(TIMEOUT):
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await session.ws.recv())  # type: ignore[arg-type]
            kind = forward.WhichOneof("type")
            if kind == "script_finished":
                return time.perf_counter() - started
            if kind == "new_session":
                session.session_id = forward.new_session.initialize.session_id
            elif kind == "delta":
                element = forward.delta.new_element
                if element.WhichOneof("type") == "download_button":
                    session.media_url = element.download_button.url


async def open_session(stream_url: str, query: str = "") -> Session:
    """Connect and run the script once, as a browser tab opening the page does."""
    ws = await connect(stream_url, open_timeout=TIMEOUT, max_size=None, ping_interval=None)
    session = Session(ws)
    await run_script(session, query)
    return session


async def until(seconds: float, work: Callable[[], Awaitable[object]], workers: int) -> int:
    """Run `work` in `workers` loops for `seconds`; return how many completed."""
    deadline = time.perf_counter() + seconds
    done = 0

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await work()
            done += 1

    async with asyncio.timeout(seconds + TIMEOUT):
        await asyncio.gather(*(loop() for _ in range(workers)))
    return done


async def session_churn(stream_url: str, concurrency: int, seconds: float) -> float:
    """Sessions per second that connect, run the script once and close."""

    async def one() -> None:
        session = await open_session(stream_url)
        await session.ws.close()

    started = time.perf_counter()
    done = await until(seconds, one, concurrency)
    return done / (time.perf_counter() - started)


async def reruns(session: Session, seconds: float) -> list[float]:
    """Rerun one session back to back for `seconds`; every rerun's latency."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        latencies.append(await run_script(session))
    return latencies


async def many_sessions(
    stream_url: str, sessions: int, reruns_each: int, pid: int
) -> dict[str, float]:
    """`sessions` concurrent sessions, each rerunning `reruns_each` times.

    Returns reruns per second over the rerun phase, the server's CPU per rerun in it, and
    how many sessions failed.
    """
    opened = await asyncio.gather(
        *(open_session(stream_url) for _ in range(sessions)), return_exceptions=True
    )
    live = [session for session in opened if isinstance(session, Session)]

    async def rerun_all(session: Session) -> None:
        for _ in range(reruns_each):
            await run_script(session)

    started, cpu_before = time.perf_counter(), cpu_seconds(pid)
    outcomes = await asyncio.gather(*(rerun_all(s) for s in live), return_exceptions=True)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    await asyncio.gather(*(session.ws.close() for session in live), return_exceptions=True)
    errors = (sessions - len(live)) + sum(isinstance(o, BaseException) for o in outcomes)
    completed = sum(not isinstance(o, BaseException) for o in outcomes) * reruns_each
    return {
        "reruns_per_s": completed / elapsed,
        "cpu_ms_per_rerun": cpu / max(1, completed) * 1000,
        "errors": errors,
    }


async def open_idle_sessions(stream_url: str, count: int, parallel: int) -> list[Session]:
    """Open `count` sessions (`parallel` at a time) and leave them idle."""
    gate = asyncio.Semaphore(parallel)

    async def one() -> Session:
        async with gate:
            return await open_session(stream_url)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def close_all(sessions: list[Session]) -> None:
    await asyncio.gather(*(session.ws.close() for session in sessions), return_exceptions=True)


async def echo_roundtrips(stream_url: str, seconds: float) -> float:
    """Round trips per second of a rerun-sized frame on one echo socket (the ceilings)."""
    frame = rerun_message()
    async with connect(stream_url, open_timeout=TIMEOUT, ping_interval=None) as ws:
        await asyncio.wait_for(ws.recv(), TIMEOUT)  # the greeting

        async def one() -> None:
            await ws.send(frame)
            await asyncio.wait_for(ws.recv(), TIMEOUT)

        started = time.perf_counter()
        done = await until(seconds, one, 1)
        return done / (time.perf_counter() - started)


async def echo_churn(stream_url: str, concurrency: int, seconds: float) -> float:
    """Connections per second that open, get the greeting, echo one frame and close."""
    frame = rerun_message()

    async def one() -> None:
        async with connect(stream_url, open_timeout=TIMEOUT, ping_interval=None) as ws:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
            await ws.send(frame)
            await asyncio.wait_for(ws.recv(), TIMEOUT)

    started = time.perf_counter()
    done = await until(seconds, one, concurrency)
    return done / (time.perf_counter() - started)


def multipart_file(size: int, folder: Path) -> Path:
    """A multipart/form-data body with one file part of `size` random bytes."""
    path = folder / f"upload-{size}.body"
    if not path.exists():
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="up.bin"; filename="up.bin"'
            "\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        path.write_bytes(head + os.urandom(size) + f"\r\n--{BOUNDARY}--\r\n".encode())
    return path


def wrk(
    url: str,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    upload: Path | None = None,
) -> float:
    """Requests per second `wrk` (one thread) reaches; any non-2xx answer is an error."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory() as folder:
        if upload is not None:
            script = Path(folder) / "put.lua"
            script.write_text(
                f'local f = io.open("{upload}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
                'wrk.method = "PUT"\n'
                f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={BOUNDARY}"\n'
            )
            command += ["-s", str(script)]
        output = subprocess.run(
            [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None or "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk failed against {url}:\n{output}")
    return float(match.group(1))


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its children (a supervisor's workers, Streamlit's helpers)."""
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


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def reset_peak_rss(pid: int) -> None:
    """Reset the kernel's peak-RSS counter (VmHWM) of a process to its current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int) -> float:
    """The process's peak RSS since the last reset, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


async def put_upload(url: str, size: int) -> float:
    """Stream one multipart upload of `size` random bytes; return the seconds it took."""

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="big.bin"; '
            'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        block = os.urandom(MB)
        for _ in range(size // MB):
            yield block
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        response = await client.put(url, content=body(), headers=headers)
    if response.status_code != 204:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:200]}")
    return time.perf_counter() - started


async def delete_upload(url: str) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        response = await client.delete(url)
    if response.status_code != 204:
        raise RuntimeError(f"delete answered {response.status_code}")
