"""A session directory in SQLite: which sessions are live in any worker of one host.

The workers of one supervisor (`hexlit.workers`) share it with no server to run: one
database file in the supervisor's folder, in WAL mode (readers never wait for the
writer; a writer waits for another at most `BUSY_TIMEOUT`). Each live session is a row
(id, owner, renewed): `attached` writes it with this worker as owner, `refresh` renews
the rows of the sessions this worker holds (writing them again if they were lost),
`detached` deletes the row only if this worker still owns it (a session that moved to
a sibling stays live), and `is_active` is "a row renewed within `ttl` seconds". A worker
that dies stops refreshing: its sessions drop out after at most `ttl`, as they do from
the Redis directory.

Times are `time.monotonic()`, which on Linux is one clock for every process of the host
and does not jump with the wall clock; the database lives only as long as its
supervisor. `synchronous=NORMAL`: a power cut may lose the last writes, which the next
refresh rewrites. Why SQLite and not a file per session: ADR 0015 (measured, about 2x
to 20x cheaper per connect on this machine's ext4). Calls run in a thread, one at a
time per process (one connection, behind a lock).

Every SQLite error becomes `StoreUnavailable`, as a Redis error does in the Redis
directory, so an upload answers 503 and the session core serves on.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, TypeVar

from hexlit.ports.errors import StoreUnavailable

DEFAULT_TTL: Final = 90.0
BUSY_TIMEOUT: Final = 5.0
T = TypeVar("T")

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS live "
    "(id TEXT PRIMARY KEY, owner TEXT NOT NULL, renewed REAL NOT NULL) WITHOUT ROWID"
)
_ATTACH: Final = (
    "INSERT INTO live VALUES (?, ?, ?) "
    "ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, renewed = excluded.renewed"
)
_RENEW: Final = (
    "INSERT INTO live VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET renewed = excluded.renewed"
)


class SqliteSessionDirectory:
    """Implements `SessionDirectory` and `SessionPresence` over one SQLite file.

    owner: who announces (this worker's pid by default).
    """

    def __init__(self, path: Path, ttl: float = DEFAULT_TTL, owner: str = "") -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._ttl = ttl
        self._owner = owner or str(os.getpid())
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        with self._sql("session directory open"):
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)

    async def is_active(self, session_id: str) -> bool:
        return await self._run("session lookup", self._is_active, session_id)

    async def attached(self, session_id: str) -> None:
        await self._run("session attach", self._write, _ATTACH, [session_id])

    async def detached(self, session_id: str) -> None:
        await self._run("session detach", self._withdraw, session_id)

    async def refresh(self, session_ids: Sequence[str]) -> None:
        if session_ids:
            await self._run("session refresh", self._write, _RENEW, list(session_ids), True)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    async def _run(self, what: str, call: Callable[..., T], *args: object) -> T:
        def locked() -> T:
            with self._lock, self._sql(what):
                return call(*args)

        return await asyncio.to_thread(locked)

    @contextmanager
    def _sql(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as error:
            raise StoreUnavailable(f"{what} failed: {type(error).__name__}") from error

    def _is_active(self, session_id: str) -> bool:
        row = self._db.execute("SELECT renewed FROM live WHERE id = ?", (session_id,)).fetchone()
        return row is not None and time.monotonic() - float(row[0]) <= self._ttl

    def _write(self, statement: str, session_ids: list[str], purge: bool = False) -> None:
        """Write the rows in one transaction; `purge` also drops the expired ones (a
        refresh does, every few seconds, so rows of dead workers do not pile up)."""
        now = time.monotonic()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(statement, [(sid, self._owner, now) for sid in session_ids])
            if purge:
                self._db.execute("DELETE FROM live WHERE renewed < ?", (now - self._ttl,))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _withdraw(self, session_id: str) -> None:
        self._db.execute("DELETE FROM live WHERE id = ? AND owner = ?", (session_id, self._owner))
