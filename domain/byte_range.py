"""The `Range` header of a media request, read the way Streamlit 1.67 reads it.

Media players (Safari/WebKit above all) probe and seek audio and video with byte
ranges, so `/media/…` answers a satisfiable `Range` with 206 and `Content-Range:
bytes a-b/size`, and an unsatisfiable one with 416 and `Content-Range: bytes */size`
(`RangeNotSatisfiable` carries the size; `adapters/web/responses.py` writes the header).

Three forms are understood, with the `bytes` unit in any letter case and optional spaces
or tabs around every token: `bytes=a-b` (the end is clamped to the last byte),
`bytes=a-` (to the end) and `bytes=-n` (the last n bytes; all of them when n is larger
than the content).

Decision: hexlit serves a single range only. A header naming several ranges (any `,`)
is answered with 416, never with `multipart/byteranges`. Media players request one range
at a time, so multipart answers are almost never needed, and they would make every web
stack build a multipart body; a 416 carrying `Content-Range: bytes */N` makes a client
retry without a range (or with a single one) and get the content. This is what Streamlit
1.67 does too.

Numbers are ASCII digits only (no signs, no `_`, no other scripts' digits), and a number
of any length is handled without converting it in full: anything at or beyond the size
behaves like the size itself (clamped end, start beyond the content, suffix covering
everything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from hexlit.ports.errors import RangeNotSatisfiable

_UNIT: Final = "bytes"
_SPEC: Final = re.compile(
    r"[ \t]*(?:(?P<start>[0-9]+)[ \t]*-[ \t]*(?P<end>[0-9]*)|-[ \t]*(?P<suffix>[0-9]+))[ \t]*"
)
"""One range after `bytes=`: `a-b`, `a-` or `-n`, with optional spaces or tabs."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    """The bytes `start` to `end` of a resource, both included (HTTP's convention)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"invalid byte range {self.start}-{self.end}")

    @property
    def length(self) -> int:
        """How many bytes the range covers: the 206 response's `Content-Length`."""
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        """The 206 response's `Content-Range` value, `bytes a-b/size`."""
        return f"{_UNIT} {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range `header` asks for in content of `size` bytes.

    Returns None when there is no header, or it is blank (Streamlit serves the whole
    content then): the caller answers 200 with everything. Otherwise returns a range
    with `0 <= start <= end < size`, or raises `RangeNotSatisfiable` (carrying `size`)
    for malformed syntax, a unit other than `bytes`, several ranges, a start after the
    end, a start at or beyond the size, an empty suffix (`bytes=-0`), and any range at
    all on empty content.
    """
    if size < 0:
        raise ValueError(f"negative content size {size}")
    if header is None or not header.strip(" \t"):
        return None
    if size == 0:
        raise RangeNotSatisfiable("range requested on empty content", size)
    unit, equals, spec = header.partition("=")
    if not equals:
        raise RangeNotSatisfiable("malformed range", size)
    unit = unit.strip(" \t")
    if not (unit.isascii() and unit.lower() == _UNIT):
        raise RangeNotSatisfiable("unsupported range unit", size)
    if "," in spec:
        raise RangeNotSatisfiable("multiple ranges are not supported", size)
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise RangeNotSatisfiable("malformed range", size)

    suffix = match.group("suffix")
    if suffix is not None:
        count = _saturated(suffix, size)
        if count == 0:
            raise RangeNotSatisfiable("empty suffix range", size)
        return ByteRange(size - count, size - 1)

    start = _saturated(match.group("start"), size)
    end_digits = match.group("end")
    end = _saturated(end_digits, size) if end_digits else size - 1
    if start > end:
        raise RangeNotSatisfiable("range starts after it ends", size)
    if start >= size:
        raise RangeNotSatisfiable("range starts beyond the content", size)
    return ByteRange(start, min(end, size - 1))


def _saturated(digits: str, size: int) -> int:
    """The value of ASCII `digits`, or `size` if it is larger (of any length)."""
    significant = digits.lstrip("0")
    if len(significant) > len(str(size)):
        return size
    return min(int(significant or "0"), size)
