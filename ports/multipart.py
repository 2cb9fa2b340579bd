"""Multipart bodies (`multipart/form-data`, RFC 7578): the events an upload body is read
as, and the parser port that reads them.

The core decides what the events mean (one file part, the size limits: see
`domain/upload_service.py`); the framing and the part headers are the format's, read by
the adapter over python-multipart (`adapters/formats/multipart.py`, ADR 0021).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias


@dataclass(frozen=True, slots=True)
class PartStart:
    """A part begins: its form field name, its filename (None for a plain field) and its
    Content-Type (None when the part has none)."""

    name: str
    filename: str | None
    content_type: str | None

    @property
    def is_file(self) -> bool:
        """RFC 7578 §4.2: a part is a file when it has a filename; a part without one, or
        with an empty one, is a plain form field (as Tornado, and so Streamlit, read it)."""
        return bool(self.filename)


@dataclass(frozen=True, slots=True)
class PartData:
    """Some of the current part's bytes, in order; never empty."""

    data: bytes


@dataclass(frozen=True, slots=True)
class PartEnd:
    """The current part is complete."""


Event: TypeAlias = PartStart | PartData | PartEnd


@dataclass(frozen=True, slots=True)
class MultipartLimits:
    """What one body may hold besides its data (the core's rule, the parser's duty).

    max_header_bytes: a part's header names and values, together;
    max_parts: parts in the body, form fields included.
    """

    max_header_bytes: int = 16 * 1024
    max_parts: int = 64


class MultipartBody(Protocol):
    """One body being read, fed in chunks of any size as they arrive.

    Any chunking of a body gives the same parts; only the split of a part's bytes between
    `PartData` events may differ. Memory stays bounded whatever the body's size: between
    two `feed` calls at most a part's headers (`max_header_bytes`) or a delimiter's worth
    of bytes are held, never a part's data.
    """

    def feed(self, chunk: bytes) -> list[Event]:
        """The events the next chunk completes (often none). Raises `BadRequest` for a
        malformed body or one over its limits, and for any feed after an error or after
        `close`. Bytes after the closing delimiter (the epilogue) are ignored."""
        ...

    def close(self) -> None:
        """The body has ended: raises `BadRequest` unless its closing delimiter was seen."""
        ...


class MultipartParser(Protocol):
    """Opens a `MultipartBody` for a request's Content-Type."""

    def body(self, content_type: str | None, limits: MultipartLimits) -> MultipartBody:
        """Raises `BadRequest` unless `content_type` is `multipart/form-data` with a
        boundary RFC 2046 allows."""
        ...
