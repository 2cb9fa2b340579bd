"""A session directory in a folder: which sessions are live in any worker of one host.

The workers of one supervisor (`hexlit.workers`) share it with no server to run: each
live session is one empty-ish file, `<folder>/<hex of the id>`, holding the id of the
worker that announced it. `attached` writes it, `refresh` renews its modification time
(writing it again if it was lost), `detached` removes it when the worker removing it is
still the one that announced it, and `is_active` is "the file exists and was renewed
within `ttl` seconds". A worker that dies stops refreshing: its sessions drop out after
at most `ttl`, as they do from the Redis directory.

Why files and not SQLite (ADR 0015): the directory is a set with expiry, read once per
upload and written once per connect and disconnect; a stat and a rename do that with
no schema, no lock contention between workers, and nothing to migrate. Blocking file
calls run in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

DEFAULT_TTL: Final = 90.0


class FolderSessionDirectory:
    """Implements `SessionDirectory` and `SessionPresence` over one folder.

    owner: who announces (a worker's pid by default); a `detached` from a process that
        is no longer the announcer (the session moved to a sibling) leaves the file be.
    """

    def __init__(self, folder: Path, ttl: float = DEFAULT_TTL, owner: str = "") -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._ttl = ttl
        self._owner = (owner or str(os.getpid())).encode()

    def _path(self, session_id: str) -> Path:
        return self._folder / session_id.encode("utf-8", "surrogatepass").hex()

    async def is_active(self, session_id: str) -> bool:
        return await asyncio.to_thread(self._is_active, session_id)

    async def attached(self, session_id: str) -> None:
        await asyncio.to_thread(self._announce, session_id)

    async def detached(self, session_id: str) -> None:
        await asyncio.to_thread(self._withdraw, session_id)

    async def refresh(self, session_ids: Sequence[str]) -> None:
        if session_ids:
            await asyncio.to_thread(self._refresh, list(session_ids))

    def _is_active(self, session_id: str) -> bool:
        try:
            renewed = self._path(session_id).stat().st_mtime
        except FileNotFoundError:
            return False
        return time.time() - renewed <= self._ttl

    def _announce(self, session_id: str) -> None:
        """Write the owner to a temporary file, then rename it in place (atomic)."""
        path = self._path(session_id)
        partial = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(self._owner)
        partial.replace(path)

    def _withdraw(self, session_id: str) -> None:
        path = self._path(session_id)
        with contextlib.suppress(FileNotFoundError):
            if path.read_bytes() == self._owner:
                path.unlink()

    def _refresh(self, session_ids: list[str]) -> None:
        for session_id in session_ids:
            try:
                os.utime(self._path(session_id))
            except FileNotFoundError:
                self._announce(session_id)
