"""Stores in a folder: big files never sit whole in memory while they stream.

Each process writes under its own subfolder `<root>/<pid>-<random>/`; on start, the
subfolders of processes that are no longer running are removed, so a crash leaves
nothing behind for longer than the next start. Blocking file calls run in threads.

Worker processes (`hexlit.workers`) share one such folder, made by their supervisor
(whose pid names it) and given to each store as `shared_folder`: a worker never sweeps
it nor removes it at its stop, since its siblings still serve from it. The supervisor
removes it when the last worker is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import IO, Any

from hexlit.adapters.files.chunks import file_chunks
from hexlit.ports.media import MediaInfo, MediaKind
from hexlit.ports.uploads import UploadedFile


def process_folder(root: Path) -> Path:
    """A fresh folder for this process under `root`, after sweeping dead processes' ones."""
    root.mkdir(parents=True, exist_ok=True)
    for child in root.iterdir():
        pid = child.name.split("-", 1)[0]
        if child.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(child, ignore_errors=True)
    folder = root / f"{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _safe_name(*parts: str) -> str:
    """A file name from ids; ids are validated upstream, this is a second fence."""
    return "__".join(part.encode().hex() for part in parts)


class FolderMediaStore:
    """Implements `MediaStore` with one data file and one metadata file per media id."""

    def __init__(self, root: Path, shared_folder: Path | None = None) -> None:
        self._owned = shared_folder is None
        self._folder = shared_folder or process_folder(root / "media")

    async def put(self, info: MediaInfo, data: bytes) -> None:
        await asyncio.to_thread(self._put, info, data)

    def _put(self, info: MediaInfo, data: bytes) -> None:
        base = self._folder / _safe_name(info.media_id)
        if base.with_suffix(".json").exists():
            return
        partial = base.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(base.with_suffix(".bin"))
        meta = {
            "media_id": info.media_id,
            "size": info.size,
            "content_type": info.content_type,
            "kind": info.kind.value,
            "filename": info.filename,
        }
        base.with_suffix(".json").write_text(json.dumps(meta))

    async def info(self, media_id: str) -> MediaInfo | None:
        return await asyncio.to_thread(self._info, media_id)

    def _info(self, media_id: str) -> MediaInfo | None:
        try:
            meta: dict[str, Any] = json.loads(
                (self._folder / _safe_name(media_id)).with_suffix(".json").read_text()
            )
        except (OSError, ValueError):
            return None
        return MediaInfo(
            meta["media_id"], meta["size"], meta["content_type"], MediaKind(meta["kind"]),
            meta["filename"],
        )  # fmt: skip

    async def read(self, media_id: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        # An async generator itself, not one returned: the observed store (metrics, spans)
        # wraps what it recognises as a streamed read. Closing it closes the file at once.
        path = (self._folder / _safe_name(media_id)).with_suffix(".bin")
        async with contextlib.aclosing(file_chunks(path, start, end, "File not found")) as chunks:
            async for chunk in chunks:
                yield chunk

    async def delete(self, media_id: str) -> None:
        base = self._folder / _safe_name(media_id)
        for suffix in (".json", ".bin"):
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(base.with_suffix(suffix).unlink)

    def close(self) -> None:
        """Remove this process's folder (on a clean shutdown); a shared folder stays."""
        if self._owned:
            shutil.rmtree(self._folder, ignore_errors=True)


class _FolderWriter:
    def __init__(self, store: FolderUploadStore, base: Path) -> None:
        self._store = store
        self._base = base
        self._partial = base.with_name(base.name + "." + secrets.token_hex(4) + ".part")
        self._handle: IO[bytes] | None = None
        self._done = False

    async def write(self, chunk: bytes) -> None:
        if self._handle is None:
            self._handle = await asyncio.to_thread(self._partial.open, "wb")
        await asyncio.to_thread(self._handle.write, chunk)

    async def commit(self, file: UploadedFile) -> None:
        await asyncio.to_thread(self._commit, file)

    def _commit(self, file: UploadedFile) -> None:
        if self._handle is None:
            self._partial.write_bytes(b"")
        else:
            self._handle.close()
        self._partial.replace(self._base.with_suffix(".bin"))
        meta = {"name": file.name, "content_type": file.content_type, "size": file.size}
        self._base.with_suffix(".json").write_text(json.dumps(meta))
        self._done = True

    async def abort(self) -> None:
        if self._done:
            return
        self._done = True
        if self._handle is not None:
            self._handle.close()
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._partial.unlink)


class FolderUploadStore:
    """Implements `UploadStore`: a subfolder per session, a data and a metadata file each."""

    def __init__(self, root: Path, shared_folder: Path | None = None) -> None:
        self._owned = shared_folder is None
        self._folder = shared_folder or process_folder(root / "uploads")

    def _session(self, session_id: str) -> Path:
        return self._folder / _safe_name(session_id)

    async def writer(self, session_id: str, file_id: str) -> _FolderWriter:
        folder = self._session(session_id)
        await asyncio.to_thread(folder.mkdir, exist_ok=True)
        return _FolderWriter(self, folder / _safe_name(file_id))

    async def get(self, session_id: str, file_id: str) -> tuple[UploadedFile, bytes] | None:
        return await asyncio.to_thread(self._get, session_id, file_id)

    def _get(self, session_id: str, file_id: str) -> tuple[UploadedFile, bytes] | None:
        base = self._session(session_id) / _safe_name(file_id)
        try:
            meta = json.loads(base.with_suffix(".json").read_text())
            data = base.with_suffix(".bin").read_bytes()
        except (OSError, ValueError):
            return None
        file = UploadedFile(session_id, file_id, meta["name"], meta["content_type"], meta["size"])
        return file, data

    async def delete(self, session_id: str, file_id: str) -> None:
        base = self._session(session_id) / _safe_name(file_id)
        for suffix in (".json", ".bin"):
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(base.with_suffix(suffix).unlink)

    async def delete_session(self, session_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._session(session_id), True)

    def close(self) -> None:
        """Remove this process's folder (on a clean shutdown); a shared folder stays."""
        if self._owned:
            shutil.rmtree(self._folder, ignore_errors=True)
