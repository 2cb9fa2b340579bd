"""Every core of one host: a supervisor and `hexlit.workers` worker processes (ADR 0015).

`hexlit run app.py --hexlit.workers 2` binds the listening socket once, here, then
starts each worker as `python -m hexlit.composition.workers` with the socket's file
descriptor passed down (`subprocess`, `pass_fds`) and what to serve in one environment
variable. Every worker accepts on that one socket, TCP or Unix alike, so the kernel
spreads connections over the workers; nothing in the worker differs from `hexlit run`
but where its socket and its shared folders come from.

The supervisor restarts a worker that dies, after a delay that doubles while it keeps
dying (0.5 s up to 30 s), and says why it died. SIGTERM or SIGINT stops it: each worker
gets SIGTERM (it drains its sessions, then stops), then the supervisor exits 0 once all
of them have. A worker learns of its supervisor's death from the kernel
(`PR_SET_PDEATHSIG`), so none outlives it, even after kill -9.

With no Redis, the workers share what sessions need through folders (no extra process):
the filesystem stores of media and uploads in folders the supervisor owns (and removes
at its exit), the session directory (SQLite in WAL mode, in such a folder:
`adapters/sessions/sqlite_directory.py`) and the session snapshots
(`<hexlit.storeDir>/snapshots`), which let a reconnect landing on another worker resume.
With `hexlit.store = "redis"`, workers use Redis as replicas do.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from dependency_injector import providers

from hexlit.composition.serve import PORT_RETRIES, next_port_when_busy
from hexlit.composition.settings import ConfigError, LoadedConfig

log = logging.getLogger("hexlit.workers")

SPEC_VARIABLE: Final = "HEXLIT_WORKER_SPEC"
"""The environment variable that tells a worker what to serve (JSON of `WorkerSpec`)."""
COOKIE_SECRET_VARIABLE: Final = "STREAMLIT_SERVER_COOKIE_SECRET"
FIRST_RESTART_DELAY: Final = 0.5
LONGEST_RESTART_DELAY: Final = 30.0
HEALTHY_RUN: Final = 30.0
"""A worker that ran this long before dying is restarted after the first delay again."""
STOP_WAIT: Final = 20.0
"""How long workers get to drain and stop (each bounds its own stop at 10 s)."""
POLL: Final = 0.1
PR_SET_PDEATHSIG: Final = 1


def worker_count(value: int | str) -> int:
    """`hexlit.workers`: a number of at least 1, or `auto` (the cores this process may
    run on, which a container's CPU set or `taskset` may make fewer than the machine's)."""
    if value == "auto":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ConfigError(f"hexlit.workers must be a number of at least 1, or auto; not {value!r}")


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What a worker serves, handed down by its supervisor."""

    app: str
    script_args: list[str]
    flags: dict[str, Any]
    """The command line's option flags, as `hexlit run` took them."""
    listen_fd: int
    supervisor_pid: int
    index: int
    media_folder: str | None = None
    uploads_folder: str | None = None
    sessions_folder: str | None = None
    """The shared folders of the filesystem store (None with Redis)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        return cls(**json.loads(text))


def shared_store_kind(config: LoadedConfig, count: int) -> str:
    """The store the workers share: Redis if chosen, else the folders of one host.

    `memory` cannot be shared between processes: left at its default it becomes
    `filesystem`; chosen explicitly, it is a configuration error.
    """
    kind = str(config["hexlit.store"])
    if kind != "memory":
        return kind
    if "hexlit.store" in config.explicit:
        raise ConfigError(
            f'hexlit.store = "memory" cannot be shared by {count} workers: '
            'use "filesystem" (one host) or "redis"'
        )
    return "filesystem"


def supervise(
    config: LoadedConfig,
    app: str,
    script_args: Sequence[str],
    flags: dict[str, Any],
    count: int,
) -> int:
    """Bind, start `count` workers, keep them running until a stop signal; the exit code.

    Raises ConfigError (a bad option) or OSError (the address cannot be bound), as
    `hexlit run` does, before any worker starts.
    """
    from hexlit.adapters.web.sockets import bind_socket, bound_port
    from hexlit.composition.container import build_container
    from hexlit.composition.serve import display_urls

    kind = shared_store_kind(config, count)
    container = build_container(config, app, tuple(script_args))
    bind = container.bind()
    listener = _bind_with_retries(bind, "server.port" in config.explicit, bind_socket)
    env = dict(os.environ)
    if not config["server.cookieSecret"]:
        # Login cookies, XSRF tokens and snapshots made by one worker must verify in
        # every other: one secret for all of them, for the life of this supervisor.
        env[COOKIE_SECRET_VARIABLE] = secrets.token_hex(32)
        if kind != "redis":
            log.info(
                "server.cookieSecret is not set: the %d workers share a random one, so "
                "sessions resume across workers but not across a restart of hexlit",
                count,
            )
    folders: list[Path] = []
    spec = WorkerSpec(
        app, list(script_args), {**flags, "hexlit.store": kind}, listener.fileno(), os.getpid(), 0
    )
    if kind == "filesystem":
        from hexlit.adapters.storage.filesystem import process_folder
        from hexlit.composition.slices import store_folder

        root = store_folder({"storeDir": config["hexlit.storeDir"]})
        folders = [process_folder(root / part) for part in ("media", "uploads", "sessions")]
        spec = replace(
            spec,
            media_folder=str(folders[0]),
            uploads_folder=str(folders[1]),
            sessions_folder=str(folders[2]),
        )
    supervisor = Supervisor(spec, count, env)
    try:
        urls = display_urls(
            bind,
            bound_port(listener),
            container.web_settings().base_path,
            container.config.explicit(),
        )
        print("\n  You can now view your app in your browser.\n", flush=True)
        for line in urls:
            print(f"  {line}", flush=True)
        stack = config["hexlit.web"]
        print(
            f"\n  Served by hexlit on {stack} with {count} workers. Press Ctrl+C to stop.\n",
            flush=True,
        )
        return supervisor.run()
    finally:
        listener.close()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def _bind_with_retries(bind: Any, port_explicit: bool, bind_socket: Any) -> socket.socket:
    """The listening socket; when the port was not set and is busy, the next ones (as a
    single process does in `serve.start_server`)."""
    for attempt in range(PORT_RETRIES + 1):
        try:
            sock: socket.socket = bind_socket(bind)
            return sock
        except OSError as error:
            bind = next_port_when_busy(error, bind, port_explicit, attempt)
    raise AssertionError("unreachable")


@dataclass(slots=True)
class _Slot:
    """One worker's place: its process now, and when to start the next one."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = FIRST_RESTART_DELAY
    start_at: float = 0.0


class Supervisor:
    """Keeps `count` workers running on one socket until told to stop."""

    def __init__(self, spec: WorkerSpec, count: int, env: dict[str, str]) -> None:
        self._spec = spec
        self._env = env
        self._slots = [_Slot(index) for index in range(count)]
        self._stop_signal: int | None = None

    def run(self) -> int:
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for slot in self._slots:
                self._start(slot)
            while self._stop_signal is None:
                code = self._tend()
                if code is not None:
                    self._stop_all()
                    return code
                time.sleep(POLL)
            print("  Stopping...", flush=True)
            return self._stop_all()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    @property
    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self._slots if slot.process is not None]

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stop_signal = signum

    def _start(self, slot: _Slot) -> None:
        spec = replace(self._spec, index=slot.index)
        slot.process = subprocess.Popen(
            [sys.executable, "-m", "hexlit.composition.workers"],
            pass_fds=(spec.listen_fd,),
            env={**self._env, SPEC_VARIABLE: spec.to_json()},
        )
        slot.started_at = time.monotonic()
        log.debug("worker %d started (pid %d)", slot.index, slot.process.pid)

    def _tend(self) -> int | None:
        """Reap dead workers and start the ones due; an exit code when giving up."""
        now = time.monotonic()
        for slot in self._slots:
            process = slot.process
            if process is None:
                if now >= slot.start_at:
                    self._start(slot)
                continue
            code = process.poll()
            if code is None:
                continue
            slot.process = None
            if code == 2:
                log.error("worker %d cannot start (its configuration): stopping", slot.index)
                return 2
            if now - slot.started_at >= HEALTHY_RUN:
                slot.delay = FIRST_RESTART_DELAY
            log.warning(
                "worker %d (pid %d) %s; starting a new one in %.1f s",
                slot.index, process.pid, _death(code), slot.delay,
            )  # fmt: skip
            slot.start_at = now + slot.delay
            slot.delay = min(slot.delay * 2, LONGEST_RESTART_DELAY)
        return None

    def _stop_all(self) -> int:
        """SIGTERM to every worker, then wait; SIGKILL for one that does not stop."""
        running = [slot.process for slot in self._slots if slot.process is not None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        clean = True
        deadline = time.monotonic() + STOP_WAIT
        for process in running:
            try:
                code = process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop within %.0f s: killing it",
                            process.pid, STOP_WAIT)  # fmt: skip
                process.kill()
                code = process.wait()
            # A worker still starting has no SIGTERM handler yet and dies of the signal:
            # it held no session, and it stopped as asked.
            clean = clean and code in (0, -signal.SIGTERM)
        for slot in self._slots:
            slot.process = None
        return 0 if clean else 1


def _death(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


# -- in a worker ----------------------------------------------------------------------


def as_worker(container: Any, spec: WorkerSpec) -> None:
    """Wire `container` as one of the supervisor's workers: serve the inherited socket,
    and share the supervisor's folders (media, uploads, the session directory)."""
    container.bind.override(
        providers.Object(replace(container.bind(), inherited_fd=spec.listen_fd))
    )
    if spec.media_folder is None or spec.uploads_folder is None or spec.sessions_folder is None:
        return
    from hexlit.composition import lifecycles

    # The store choices change; their resources still release them (the SQLite
    # directory closes; the shared folders stay, for the supervisor to remove).
    root = container.store_folder()
    container.media_store_choice.override(
        providers.Callable(
            lifecycles.folder_media_store, root, shared_folder=Path(spec.media_folder)
        )
    )
    container.upload_store_choice.override(
        providers.Callable(
            lifecycles.folder_upload_store, root, shared_folder=Path(spec.uploads_folder)
        )
    )
    container.shared_directory_choice.override(
        providers.Callable(
            lifecycles.sqlite_session_directory,
            Path(spec.sessions_folder) / "directory.sqlite3",
        )
    )
    container.session_directory.override(container.shared_directory)


def follow_supervisor(supervisor_pid: int) -> None:
    """Have the kernel send this worker SIGTERM when its supervisor dies (Linux), and
    exit now if it already has: no worker outlives its supervisor."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor_pid:
        sys.exit(0)


def main() -> int:
    """A worker process: `python -m hexlit.composition.workers`, started by `supervise`."""
    text = os.environ.get(SPEC_VARIABLE)
    if not text:
        print("hexlit: a worker is started by `hexlit run --hexlit.workers N`", file=sys.stderr)
        return 2
    spec = WorkerSpec.from_json(text)
    follow_supervisor(spec.supervisor_pid)
    from hexlit.composition.cli import run

    return run(spec.app, spec.script_args, spec.flags, worker=spec)


def run_worker(container: Any, spec: WorkerSpec) -> int:
    """Serve `container` as worker `spec` until SIGTERM (called by `cli.run`)."""
    from hexlit.composition.serve import serve
    from hexlit.composition.speedups import event_loop_factory

    as_worker(container, spec)
    loop_factory = event_loop_factory(str(container.config.hexlit.loop()))
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(serve(container, port_explicit=True, worker=True))


if __name__ == "__main__":
    sys.exit(main())
