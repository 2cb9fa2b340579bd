"""The session directory of one host's workers: a file per session, or SQLite in WAL?

Measures what the directory does per request: `attached` (a connect), `is_active` (an
upload PUT), `detached` (a disconnect), each in one process and with two processes
writing at once (two workers). The SQLite version is hexlit's
(`adapters/sessions/sqlite_directory.py`, called here without its thread hop); the file
version is the equivalent hexlit had first: one file per session holding its owner,
written to a temporary name and renamed, its age from its modification time.

    .venv/bin/python -m bench.session_directory
"""

from __future__ import annotations

import contextlib
import multiprocessing
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hexlit.adapters.sessions.sqlite_directory import _ATTACH, SqliteSessionDirectory

SESSIONS = 2000
ROUNDS = 5
TTL = 90.0


class FileDirectory:
    """A file per live session, its owner inside, its age from its modification time."""

    def __init__(self, folder: Path, owner: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._owner = owner.encode()

    def attached(self, session_id: str) -> None:
        path = self._folder / session_id.encode().hex()
        partial = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(self._owner)
        partial.replace(path)

    def is_active(self, session_id: str) -> bool:
        try:
            renewed = (self._folder / session_id.encode().hex()).stat().st_mtime
        except FileNotFoundError:
            return False
        return time.time() - renewed <= TTL

    def detached(self, session_id: str) -> None:
        path = self._folder / session_id.encode().hex()
        with contextlib.suppress(FileNotFoundError):
            if path.read_bytes() == self._owner:
                path.unlink()


def sqlite_directory(path: Path, owner: str) -> Any:
    """hexlit's SQLite directory without the thread hop each call makes there."""
    directory = SqliteSessionDirectory(path, owner=owner)

    class Sync:
        @staticmethod
        def attached(session_id: str) -> None:
            directory._write(_ATTACH, [session_id])

        is_active = staticmethod(directory._is_active)
        detached = staticmethod(directory._withdraw)

    return Sync()


def per_op_us(make: Callable[[Path, str], Any], where: Path, owner: str) -> dict[str, float]:
    directory = make(where, owner)
    timings: dict[str, float] = {}
    ids = [f"{owner}-{n}" for n in range(SESSIONS)]
    for label, call in (("attach", directory.attached), ("is_active", directory.is_active),
                        ("detach", directory.detached)):  # fmt: skip
        started = time.perf_counter()
        for session_id in ids:
            call(session_id)
        timings[label] = (time.perf_counter() - started) / SESSIONS * 1e6
    return timings


def _worker(kind: str, where: str, owner: str, out: Any) -> None:
    make = FileDirectory if kind == "files" else sqlite_directory
    out.put(per_op_us(make, Path(where), owner))


def main() -> None:
    print(f"{SESSIONS} sessions, median of {ROUNDS} rounds, microseconds per call")
    for kind in ("files", "sqlite"):
        for writers in (1, 2):
            rounds: list[dict[str, float]] = []
            for _ in range(ROUNDS):
                with tempfile.TemporaryDirectory() as tmp:
                    where = str(Path(tmp) / ("d.sqlite3" if kind == "sqlite" else "dir"))
                    if kind == "sqlite":  # the table exists before the writers race
                        SqliteSessionDirectory(Path(where), owner="setup").close()
                    queue: Any = multiprocessing.Queue()
                    procs = [
                        multiprocessing.Process(target=_worker, args=(kind, where, f"w{n}", queue))
                        for n in range(writers)
                    ]
                    for proc in procs:
                        proc.start()
                    rounds.extend(queue.get(timeout=120) for _ in procs)
                    for proc in procs:
                        proc.join(120)
            cells = "  ".join(
                f"{op} {statistics.median(r[op] for r in rounds):7.1f}"
                for op in ("attach", "is_active", "detach")
            )
            print(f"{kind:6} {writers} process(es): {cells}")


if __name__ == "__main__":
    main()
