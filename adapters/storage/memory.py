"""Stores in the process's memory: fast, per process, gone on restart (Streamlit's model)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from hexlit.ports.errors import NotFound
from hexlit.ports.media import Chunk, MediaInfo
from hexlit.ports.uploads import UploadedFile

CHUNK = 1024 * 1024
"""Media are sent in slices of this size: one copy each, a bounded extra over the stored bytes."""


class MemoryMediaStore:
    """Implements `MediaStore`."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[MediaInfo, bytes]] = {}

    @property
    def stored_bytes(self) -> int:
        return sum(info.size for info, _ in self._files.values())

    async def put(self, info: MediaInfo, data: bytes) -> None:
        self._files.setdefault(info.media_id, (info, data))

    async def info(self, media_id: str) -> MediaInfo | None:
        found = self._files.get(media_id)
        return found[0] if found else None

    async def read(self, media_id: str, start: int, end: int) -> AsyncGenerator[Chunk, None]:
        found = self._files.get(media_id)
        if found is None:
            raise NotFound("File not found")
        view = memoryview(found[1])
        for offset in range(start, end + 1, CHUNK):
            yield view[offset : min(offset + CHUNK, end + 1)]

    async def delete(self, media_id: str) -> None:
        self._files.pop(media_id, None)


class _MemoryWriter:
    def __init__(self, store: MemoryUploadStore, key: tuple[str, str]) -> None:
        self._store = store
        self._key = key
        self._buffer = bytearray()
        self._done = False

    async def write(self, chunk: bytes) -> None:
        self._buffer += chunk

    async def commit(self, file: UploadedFile) -> None:
        # Kept as the bytearray it was written into: a copy here would double the peak.
        self._store._files[self._key] = (file, self._buffer)
        self._done = True
        self._buffer = bytearray()

    async def abort(self) -> None:
        self._buffer = bytearray()
        self._done = True


class MemoryUploadStore:
    """Implements `UploadStore`."""

    def __init__(self) -> None:
        self._files: dict[tuple[str, str], tuple[UploadedFile, bytearray]] = {}

    @property
    def stored_bytes(self) -> int:
        return sum(file.size for file, _ in self._files.values())

    async def writer(self, session_id: str, file_id: str) -> _MemoryWriter:
        return _MemoryWriter(self, (session_id, file_id))

    async def get(self, session_id: str, file_id: str) -> tuple[UploadedFile, bytes] | None:
        found = self._files.get((session_id, file_id))
        return (found[0], bytes(found[1])) if found else None

    async def delete(self, session_id: str, file_id: str) -> None:
        self._files.pop((session_id, file_id), None)

    async def delete_session(self, session_id: str) -> None:
        for key in [key for key in self._files if key[0] == session_id]:
            del self._files[key]
