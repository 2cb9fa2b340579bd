"""A real `hexlit run --hexlit.workers 2` for tests, and which worker holds a connection.

The kernel decides which worker accepts a connection. A test that must reach a given
worker opens connections until one lands there: the server side of a loopback TCP
connection is found in `/proc/net/tcp` (by the client's port), and its socket inode in
the worker's `/proc/<pid>/fd`. Nothing in hexlit is exposed for this. Every wait is
bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

START_WAIT = 60.0
EXIT_WAIT = 30.0
TIMEOUT = 10.0
ATTEMPTS = 200
CONNECT_WAIT = 30.0


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return sorted(found)


def workers_of(supervisor: int) -> list[int]:
    """Every live worker process started by `supervisor`, wherever it was reparented to
    (found by the worker spec in its environment)."""
    marker = f'"supervisor_pid": {supervisor},'.encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                environ = Path(f"/proc/{entry}/environ").read_bytes()
                if b"HEXLIT_WORKER_SPEC=" in environ and marker in environ and alive(int(entry)):
                    found.append(int(entry))
    return sorted(found)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Workers:
    """`with Workers(stack, tmp_path) as hexlit:` a supervisor with two workers on a
    loopback port (or `unix=path`), sharing a store folder under `tmp_path`."""

    def __init__(
        self,
        stack: str,
        folder: Path,
        count: int = 2,
        unix: Path | None = None,
        app: str = "builtin:counter",
    ) -> None:
        self.folder = folder
        self.count = count
        self.unix = unix
        self.port = 0 if unix else _free_port()
        address = f"unix://{unix}" if unix else "127.0.0.1"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
        env["HOME"] = str(folder)  # no ~/.streamlit of the person running the tests
        self.log = (folder / "hexlit.log").open("wb")
        # In the test runner's process group: a runner stopped by Ctrl+C or `timeout`
        # takes the supervisor with it (and its workers follow it).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hexlit.composition", "run", app,
             "--web", stack, "--hexlit.workers", str(count),
             "--server.address", address, "--server.port", str(self.port),
             "--hexlit.storeDir", str(folder / "store")],
            cwd=folder, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def __enter__(self) -> Workers:
        self.wait_for_workers()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()  # the workers follow (PR_SET_PDEATHSIG)
        self.process.wait(EXIT_WAIT)
        self.log.close()

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return (self.folder / "hexlit.log").read_text(errors="replace")

    def workers(self) -> list[int]:
        return children_of(self.process.pid)

    def wait_for_workers(self) -> list[int]:
        """Until `count` workers run and each has answered a request (bounded)."""
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            pids = self.workers()
            if len(pids) == self.count and all(self._answers(pid, deadline) for pid in pids):
                return pids
            time.sleep(0.05)
        raise AssertionError(f"{self.count} workers not serving in {START_WAIT} s\n{self.output()}")

    def _answers(self, pid: int, deadline: float) -> bool:
        if self.unix is not None:
            transport = httpx.HTTPTransport(uds=str(self.unix))
            with contextlib.suppress(httpx.TransportError), httpx.Client(transport=transport) as c:
                return c.get("http://x/_stcore/health", timeout=TIMEOUT).status_code == 200
            return False
        try:
            sock = connection_to(self.port, pid, within=deadline - time.monotonic())
        except (AssertionError, OSError):
            return False
        with sock:
            return http_status(sock, "GET", "/_stcore/health") == 200

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def connection_to(self, pid: int, attempts: int = ATTEMPTS) -> socket.socket:
        """A TCP connection that worker `pid` accepted (opens others until one is)."""
        return connection_to(self.port, pid, attempts)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        os.kill(self.process.pid, signum)
        return self.process.wait(EXIT_WAIT)


def connection_to(
    port: int, pid: int, attempts: int = ATTEMPTS, within: float = CONNECT_WAIT
) -> socket.socket:
    """A TCP connection to 127.0.0.1:`port` that process `pid` accepted (opens others
    until one is, at most `attempts` within `within` seconds: a worker that does not
    accept, one still starting or dead, leaves connections waiting in the queue)."""
    deadline = time.monotonic() + within
    for _ in range(attempts):
        if time.monotonic() >= deadline:
            break
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        if _accepted_by(pid, port, sock, deadline):
            return sock
        sock.close()
    raise AssertionError(f"no connection reached worker {pid} in {attempts} tries, {within} s")


def _accepted_by(pid: int, port: int, sock: socket.socket, deadline: float) -> bool:
    """Whether `pid` holds the server side of `sock` (waits up to TIMEOUT or `deadline`
    for the accept; False once the connection is accepted elsewhere or not at all)."""
    client_port = sock.getsockname()[1]
    deadline = min(deadline, time.monotonic() + TIMEOUT)
    while time.monotonic() < deadline:
        inode = _server_side_inode(port, client_port)
        if inode is not None:
            if _holds(pid, f"socket:[{inode}]"):
                return True
            if any(_holds(other, f"socket:[{inode}]") for other in _siblings(pid)):
                return False
        time.sleep(0.005)
    return False


def _holds(pid: int, link: str) -> bool:
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == link:
                    return True
    return False


def _siblings(pid: int) -> list[int]:
    """The other children of `pid`'s parent (the other workers of its supervisor)."""
    with contextlib.suppress(OSError):
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        return [other for other in children_of(parent) if other != pid]
    return []


def leftovers(marker: str) -> list[str]:
    """The live processes whose command line or environment names a path in folder
    `marker` (a test's own, as its supervisor's and workers' do, and any child of theirs
    that inherits the environment): after a stop, none may be left."""
    inside = (marker.rstrip("/") + "/").encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if stat[0] == "Z":
                continue
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            if inside in cmdline + environ:
                command = cmdline.replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry}: {command}")
    return found


class WorkersServer:
    """The conformance suite's default `server` on `hexlit.workers = N` (a stack named
    `tornado-workers2`): `hexlit run builtin:counter` in a process of its own, with the
    few members of `ServerUnderTest` that a test over sockets uses. Which worker answers
    a request is the kernel's choice, as it is for a user."""

    base_path = ""

    def __init__(self, stack: str) -> None:
        web, _, count = stack.partition("-workers")
        self.stack = stack
        self.folder = Path(tempfile.mkdtemp(prefix=f"hexlit-{stack}-"))
        self.workers = Workers(web, self.folder, int(count))
        self.port = self.workers.port

    def start(self) -> None:
        try:
            self.workers.wait_for_workers()
        except BaseException:
            self.workers.__exit__()
            raise

    def stop(self) -> None:
        """SIGTERM; the supervisor exits 0 and leaves no process behind."""
        try:
            code = self.workers.stop(signal.SIGTERM)
            assert code == 0, self.workers.output()
            assert leftovers(str(self.folder)) == []
        finally:
            self.workers.__exit__()
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def ws_url(self, path: str = "/_stcore/stream") -> str:
        return self.url(path, scheme="ws")


def _server_side_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the accepted socket of the loopback connection from `client_port`."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], int(fields[9])
                if (
                    int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port
                    and inode
                ):
                    return inode
    return None


def http_request(
    sock: socket.socket, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, bytes]:
    """Send one request on `sock` (Connection: close); its status and body."""
    status, _, payload = http_exchange(sock, method, path, body, **headers)
    return status, payload


def http_exchange(
    sock: socket.socket, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request on `sock` (Connection: close); status, headers and body."""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body or method in ("PUT", "POST"):
        head.append(f"Content-Length: {len(body)}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    head_bytes, _, payload = answer.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    fields = [(name.strip().lower(), value.strip()) for name, _, value in
              (line.partition(":") for line in lines)]  # fmt: skip
    return int(status_line.split()[1]), fields, payload


def http_status(sock: socket.socket, method: str, path: str) -> int:
    return http_request(sock, method, path)[0]


def xsrf_cookie(url: str) -> str:
    return httpx.get(url, timeout=TIMEOUT).cookies.get("_streamlit_xsrf") or ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
