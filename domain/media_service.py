"""Media: content-addressed ids, byte ranges, attachments — once for both stacks.

The runtime registers media through `MediaLibrary` (ids are a hash of the content, its
type and its file name, so the same bytes get the same URL and are stored once) and
removes them when no session references them any more; the `/media/{file}` routes read
through `Media`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncGenerator
from typing import Final

from hexlit.domain.byte_range import parse_range
from hexlit.domain.content_disposition import attachment
from hexlit.ports.errors import NotFound
from hexlit.ports.media import Chunk, MediaAnswer, MediaInfo, MediaKind, MediaStore

_MEDIA_ID: Final = re.compile(r"[0-9a-f]{32}")
CACHE_CONTROL: Final = "private, max-age=3600"
"""Ids are content hashes, so a URL always names the same bytes; a browser may keep them
while the page lives. (Streamlit 1.67 sends no caching headers.)"""


class MediaService:
    """Implements `MediaLibrary` and `Media` over a `MediaStore`."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store

    def media_id(
        self, data: bytes, content_type: str, kind: MediaKind, filename: str | None
    ) -> str:
        """A hash of everything the answer depends on. The kind is part of it: the same
        bytes shown inline and offered as a download are two answers (Streamlit keys
        them alike, so the second one is served with the first one's headers)."""
        digest = hashlib.blake2b(digest_size=16)
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
        digest.update(b"\0" + content_type.encode("utf-8", "replace"))
        digest.update(b"\0" + (filename or "").encode("utf-8", "replace"))
        digest.update(b"\0" + kind.value.encode())
        return digest.hexdigest()

    async def add(
        self, data: bytes, content_type: str, kind: MediaKind, filename: str | None
    ) -> str:
        media_id = self.media_id(data, content_type, kind, filename)
        await self._store.put(MediaInfo(media_id, len(data), content_type, kind, filename), data)
        return media_id

    async def remove(self, media_id: str) -> None:
        await self._store.delete(media_id)

    async def open(self, name: str, range_header: str | None, head: bool) -> MediaAnswer:
        media_id, _, extension = name.partition(".")
        if not _MEDIA_ID.fullmatch(media_id):
            raise NotFound("File not found")
        info = await self._store.info(media_id)
        if info is None:
            raise NotFound("File not found")
        wanted = parse_range(range_header, info.size)
        start, end = (wanted.start, wanted.end) if wanted else (0, info.size - 1)
        length = end - start + 1 if info.size else 0
        disposition = None
        if info.kind is MediaKind.DOWNLOADABLE:
            fallback = "streamlit_download" + (f".{extension}" if extension else "")
            disposition = attachment(info.filename, fallback)
        body = _nothing() if head or length == 0 else self._store.read(media_id, start, end)
        content_range = wanted.content_range(info.size) if wanted else None
        return MediaAnswer(info, length, content_range, disposition, CACHE_CONTROL, body)


async def _nothing() -> AsyncGenerator[Chunk, None]:
    empty: tuple[bytes, ...] = ()
    for chunk in empty:
        yield chunk
