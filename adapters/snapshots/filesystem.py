"""Session snapshots in a folder that several processes on one host (or a shared
volume) use together, and that survives a restart.

One file per session, `<root>/<hex of the id>.snap`: an 8-byte big-endian generation,
then the sealed bytes. A save writes a temporary file, then, holding an exclusive
`flock` on the session's lock stripe, reads the stored generation and renames the new
file over the old one only if it is newer (rename is atomic: a reader sees the old
snapshot or the new one, never half of one). Lock stripes are a fixed set of files
(`<root>/locks/<n>.lock`, chosen by a hash of the id), so lock files never pile up and
are never deleted while someone waits on them. Blocking calls run in threads;
`save_built` builds the snapshot (pickling, sealing) in the same thread job as its write.

A save is on the hot path of every rerun (a snapshot follows each completed run), so it
makes few system calls (bench/snapshots.py, docs/performance.md):

- **No fsync.** A written file is in the kernel's page cache at once, so it survives
  the death of this process (kill -9, a crash, the OOM killer): that is what a snapshot
  is for. It is not forced to the disk, so a crash of the whole host can lose the last
  seconds of snapshots, as the Redis store can with Redis's default persistence. An
  fsync per save cost most of the store's CPU and disk bandwidth (ADR 0023).
- **Lock stripes stay open.** Each stripe's lock file is opened once per store and
  kept; `flock` excludes other processes (other open files), and a thread lock per
  stripe excludes the other threads of this process, which share the open file.
- **The temporary file is named by process and thread**, which never write two
  snapshots at once, instead of by random bytes from the kernel.
- **The new file is swapped in, not renamed over the old one** (Linux `renameat2` with
  `RENAME_EXCHANGE`, then the old file, now under the temporary name, is unlinked). On
  ext4 a rename that replaces a file starts writing the new file back at once
  (`auto_da_alloc`): 0.2 ms of CPU and most of a save's wall time. The swap is just as
  atomic for readers. Where it is missing (another OS, a file system without it such as
  NFS, no stored file yet), a plain replacing rename does the same job.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import hashlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from hexlit.ports.snapshots import SealedSnapshot

LOCK_STRIPES: Final = 64
_HEADER: Final = 8
_AT_FDCWD: Final = -100
_RENAME_EXCHANGE: Final = 2
_renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)


class FolderSnapshots:
    """Implements `SessionSnapshots` with one file per session under `root`."""

    def __init__(self, root: Path) -> None:
        self._root = root
        (root / "locks").mkdir(parents=True, exist_ok=True)
        self._stripe_locks = [threading.Lock() for _ in range(LOCK_STRIPES)]
        self._lock_files: dict[int, int] = {}
        self._opening = threading.Lock()
        weakref.finalize(self, _close_all, self._lock_files)

    async def save(self, sealed: SealedSnapshot) -> bool:
        return await asyncio.to_thread(self._save, sealed)

    async def save_built(self, build: Callable[[], SealedSnapshot | None]) -> bool | None:
        return await asyncio.to_thread(self._build_and_save, build)

    async def load(self, session_id: str) -> SealedSnapshot | None:
        return await asyncio.to_thread(self._load, session_id)

    async def delete(self, session_id: str, generation: int) -> None:
        await asyncio.to_thread(self._delete, session_id, generation)

    def _path(self, session_id: str) -> str:
        name = session_id.encode("utf-8", "surrogatepass").hex() + ".snap"
        return os.path.join(self._root, name)

    def _lock_file(self, stripe: int) -> int:
        fd = self._lock_files.get(stripe)
        if fd is None:
            with self._opening:
                fd = self._lock_files.get(stripe)
                if fd is None:
                    path = self._root / "locks" / f"{stripe}.lock"
                    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                    self._lock_files[stripe] = fd
        return fd

    @contextlib.contextmanager
    def _locked(self, session_id: str) -> Iterator[None]:
        digest = hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).digest()
        stripe = int.from_bytes(digest[:4], "big") % LOCK_STRIPES
        with self._stripe_locks[stripe]:
            fd = self._lock_file(stripe)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _build_and_save(self, build: Callable[[], SealedSnapshot | None]) -> bool | None:
        sealed = build()
        return None if sealed is None else self._save(sealed)

    def _save(self, sealed: SealedSnapshot) -> bool:
        path = self._path(sealed.session_id)
        partial = f"{path}.{os.getpid()}-{threading.get_ident()}.part"
        _write_file(partial, sealed.generation.to_bytes(_HEADER, "big") + sealed.data)
        replaced = False
        try:
            with self._locked(sealed.session_id):
                stored = _generation_of(path)
                if stored is not None and stored >= sealed.generation:
                    return False
                swapped = stored is not None and _exchange(partial, path)
                if not swapped:
                    os.replace(partial, path)
                replaced = True
            if swapped:
                os.unlink(partial)  # the previous snapshot, swapped out
            return True
        finally:
            if not replaced:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)

    def _load(self, session_id: str) -> SealedSnapshot | None:
        try:
            content = Path(self._path(session_id)).read_bytes()
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
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


def _write_file(path: str, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _exchange(new: str, old: str) -> bool:
    """Swap the files at `new` and `old` atomically; False where the system cannot."""
    if _renameat2 is None:
        return False
    failed: int = _renameat2(
        _AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(old), _RENAME_EXCHANGE
    )
    return failed == 0


def _generation_of(path: str) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        header = os.pread(fd, _HEADER, 0)
    finally:
        os.close(fd)
    return int.from_bytes(header, "big") if len(header) == _HEADER else None


def _close_all(lock_files: dict[int, int]) -> None:
    for fd in lock_files.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    lock_files.clear()
