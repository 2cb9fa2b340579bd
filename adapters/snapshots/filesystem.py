"""Session snapshots in a folder that several processes on one host (or a shared
volume) use together, and that survives a restart.

One file per session, `<root>/<hex of the id>.snap`: an 8-byte big-endian generation,
then the sealed bytes. A save writes a temporary file, then, holding an exclusive
`flock` on the session's lock stripe, reads the stored generation and renames the new
file over the old one only if it is newer (rename is atomic: a reader sees the old
snapshot or the new one, never half of one). Lock stripes are a fixed set of files
(`<root>/locks/<n>.lock`, chosen by a hash of the id), so lock files never pile up and
are never deleted while someone waits on them. Blocking calls run in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from hexlit.ports.snapshots import SealedSnapshot

LOCK_STRIPES: Final = 64
_HEADER: Final = 8


class FolderSnapshots:
    """Implements `SessionSnapshots` with one file per session under `root`."""

    def __init__(self, root: Path) -> None:
        self._root = root
        (root / "locks").mkdir(parents=True, exist_ok=True)

    async def save(self, sealed: SealedSnapshot) -> bool:
        return await asyncio.to_thread(self._save, sealed)

    async def load(self, session_id: str) -> SealedSnapshot | None:
        return await asyncio.to_thread(self._load, session_id)

    async def delete(self, session_id: str, generation: int) -> None:
        await asyncio.to_thread(self._delete, session_id, generation)

    def _path(self, session_id: str) -> Path:
        return self._root / (session_id.encode("utf-8", "surrogatepass").hex() + ".snap")

    @contextlib.contextmanager
    def _locked(self, session_id: str) -> Iterator[None]:
        digest = hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).digest()
        stripe = int.from_bytes(digest[:4], "big") % LOCK_STRIPES
        fd = os.open(self._root / "locks" / f"{stripe}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _save(self, sealed: SealedSnapshot) -> bool:
        path = self._path(sealed.session_id)
        partial = path.with_name(f"{path.name}.{secrets.token_hex(6)}.part")
        with partial.open("wb") as out:
            out.write(sealed.generation.to_bytes(_HEADER, "big") + sealed.data)
            out.flush()
            os.fsync(out.fileno())
        try:
            with self._locked(sealed.session_id):
                stored = _generation_of(path)
                if stored is not None and stored >= sealed.generation:
                    return False
                partial.replace(path)
                return True
        finally:
            partial.unlink(missing_ok=True)

    def _load(self, session_id: str) -> SealedSnapshot | None:
        try:
            content = self._path(session_id).read_bytes()
        except FileNotFoundError:
            return None
        if len(content) < _HEADER:
            return None
        generation = int.from_bytes(content[:_HEADER], "big")
        return SealedSnapshot(session_id, generation, content[_HEADER:])

    def _delete(self, session_id: str, generation: int) -> None:
        path = self._path(session_id)
        with self._locked(session_id):
            stored = _generation_of(path)
            if stored is not None and stored <= generation:
                path.unlink(missing_ok=True)


def _generation_of(path: Path) -> int | None:
    try:
        with path.open("rb") as stored:
            header = stored.read(_HEADER)
    except FileNotFoundError:
        return None
    return int.from_bytes(header, "big") if len(header) == _HEADER else None
