"""Media files (`st.image`, `st.audio`, `st.video`, `st.download_button`): ports and values.

Three ports: `MediaStore` keeps the bytes (driven), `MediaLibrary` is what the runtime
registers media through, `Media` is what the `/media/{file}` routes read through.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol


class MediaKind(enum.Enum):
    """MEDIA is shown inline; DOWNLOADABLE is served as an attachment."""

    MEDIA = "media"
    DOWNLOADABLE = "downloadable"


@dataclass(frozen=True, slots=True)
class MediaInfo:
    media_id: str
    size: int
    content_type: str
    kind: MediaKind
    filename: str | None = None


Chunk = bytes | memoryview
"""A piece of a media body. A store that holds the bytes in memory hands out views of
them, so a response is not copied once more before the server writes it."""


@dataclass(frozen=True, slots=True)
class MediaAnswer:
    """What to send for one media request.

    `content_range` is set for a partial (206) answer; `body` yields the bytes to send
    (nothing for HEAD) and must be consumed or closed by the caller.
    """

    info: MediaInfo
    length: int
    content_range: str | None
    disposition: str | None
    cache_control: str
    body: AsyncGenerator[Chunk, None]


class MediaStore(Protocol):
    """Where media bytes live. Implementations: memory, a folder, (later) Redis."""

    async def put(self, info: MediaInfo, data: bytes) -> None:
        """Store `data` under `info.media_id`; storing the same id again is a no-op."""
        ...

    async def info(self, media_id: str) -> MediaInfo | None:
        """The stored file's metadata, or None."""
        ...

    def read(self, media_id: str, start: int, end: int) -> AsyncGenerator[Chunk, None]:
        """Bytes `start..end` (inclusive) in chunks, without loading the whole file.

        Raises `NotFound` (when iterated) if the file is gone.
        """
        ...

    async def delete(self, media_id: str) -> None:
        """Remove the file; unknown ids are ignored."""
        ...


class MediaLibrary(Protocol):
    """The runtime's side: register media and get the URL the frontend will fetch."""

    def media_id(
        self, data: bytes, content_type: str, kind: MediaKind, filename: str | None
    ) -> str:
        """The id `data` is stored under: the same content always gets the same id."""
        ...

    async def add(
        self, data: bytes, content_type: str, kind: MediaKind, filename: str | None
    ) -> str:
        """Store the media (if new) and return its id."""
        ...

    async def remove(self, media_id: str) -> None:
        """The runtime no longer references this media. Idempotent."""
        ...


class Media(Protocol):
    """The web side: `GET/HEAD {base}/media/{media_id}{extension}`."""

    async def open(self, name: str, range_header: str | None, head: bool) -> MediaAnswer:
        """Resolve a request. Raises `NotFound`, `RangeNotSatisfiable`."""
        ...
