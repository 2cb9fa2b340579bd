"""An incremental parser for `multipart/form-data` request bodies (RFC 7578, RFC 2046).

Browsers upload files this way; the Streamlit frontend PUTs one part whose field name
and filename are both the file's name. The body is fed in chunks as it arrives, and the
parser answers each chunk with events: `PartStart` (the part's headers), `PartData`
(some of its bytes) and `PartEnd`. Any chunking of a body gives the same parts; only
the split of a part's bytes between `PartData` events may differ.

Memory stays bounded whatever the body's size: between two `feed` calls the parser holds
at most a part's headers (`max_header_bytes`) or the few bytes at the end of a chunk that
could start a delimiter, never a part's data.

The framing, from RFC 2046: a delimiter is CRLF `--` boundary; the first one may open the
body without its CRLF. After a delimiter comes optional transport padding (spaces and
tabs) and CRLF, then the part's headers ending with an empty line, then its data; or
`--`, which closes the body. What comes before the first delimiter (the preamble) and
after the closing one (the epilogue) is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final, TypeAlias
from urllib.parse import unquote

from hexlit.ports.errors import BadRequest

_BOUNDARY: Final = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
"""RFC 2046: 1 to 70 `bchars`, not ending with a space."""

_QUOTED: Final = re.compile(r'[ \t]*"((?:[^"\\]|\\.)*)"', re.DOTALL)
_OPEN_QUOTE: Final = re.compile(r'[ \t]*"')
_ESCAPE: Final = re.compile(r'\\(["\\])')
"""Only `\\"` and `\\\\` are unescaped: browsers send backslashes in filenames literally."""

_EXTENDED_CHARSETS: Final = frozenset({"utf-8", "iso-8859-1", "us-ascii"})
_HEADERS_END: Final = b"\r\n\r\n"
_SINGLETON_HEADERS: Final = frozenset({"content-disposition", "content-type"})
"""Said twice, two readers of one body (a proxy's scanner, this server) could disagree
on a part's name or type (RFC 9110 §5.3): such a part is refused."""
_NOT_MULTIPART: Final = "expected a multipart/form-data body"


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


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a `multipart/form-data` Content-Type header, as bytes.

    Type and parameter names are case-insensitive; the boundary may be quoted; other
    parameters may appear. Raises `BadRequest` when the header is missing, names another
    type, or has no boundary or one that RFC 2046 does not allow (empty, longer than 70
    characters, characters outside `bchars`, or a trailing space).
    """
    if content_type is None:
        raise BadRequest(_NOT_MULTIPART)
    try:
        kind, params = _parameters(content_type)
    except BadRequest:
        raise BadRequest(_NOT_MULTIPART) from None
    boundary = params.get("boundary")
    if kind != "multipart/form-data" or boundary is None or not _BOUNDARY.fullmatch(boundary):
        raise BadRequest(_NOT_MULTIPART)
    return boundary.encode("ascii")


class _State(Enum):
    PREAMBLE = auto()
    DELIMITED = auto()
    """Just after a delimiter: `--` closes the body, padding and CRLF open a part."""
    HEADERS = auto()
    DATA = auto()
    DONE = auto()
    FAILED = auto()


class MultipartParser:
    """Turns a `multipart/form-data` body, fed in chunks of any size, into events.

    `feed` raises `BadRequest` for a malformed body: a part without
    `Content-Disposition: form-data` or without a name, a repeated `Content-Disposition`
    or `Content-Type`, a malformed header or delimiter
    line, part headers longer than `max_header_bytes` (counted from the end of the
    delimiter to the end of the empty line), or more than `max_parts` parts. After an
    error, or after `close`, `feed` raises `BadRequest`. Bytes after the closing
    delimiter are ignored.
    """

    def __init__(
        self, boundary: bytes, max_header_bytes: int = 16 * 1024, max_parts: int = 64
    ) -> None:
        """Raises `ValueError` for a boundary RFC 2046 does not allow (use `boundary_of`
        to read one from a request) or limits below 1."""
        if not _BOUNDARY.fullmatch(boundary.decode("latin-1")):
            raise ValueError("not a multipart boundary")
        if max_header_bytes < 1 or max_parts < 1:
            raise ValueError("multipart limits must be positive")
        self._delimiter: Final = b"\r\n--" + boundary
        self._max_header_bytes: Final = max_header_bytes
        self._max_parts: Final = max_parts
        # The first delimiter may open the body without its CRLF: start as if after one.
        self._buffer = bytearray(b"\r\n")
        self._state = _State.PREAMBLE
        self._parts = 0
        self._scanned = 0
        """In HEADERS: how far into the buffer the search for the empty line has looked."""
        self._closed = False

    @property
    def delimiter(self) -> bytes:
        """CRLF `--` boundary: what ends a part's data."""
        return self._delimiter

    @property
    def buffered(self) -> int:
        """How many bytes the parser holds between two `feed` calls.

        At most `max_header_bytes - 1` while reading a part's headers, and at most
        `len(delimiter) - 1` otherwise.
        """
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[Event]:
        """The events the next chunk of the body completes (often none)."""
        if self._closed:
            raise BadRequest("multipart body fed after its end")
        if self._state is _State.FAILED:
            raise BadRequest("multipart body already rejected")
        if self._state is _State.DONE:
            return []
        if type(chunk) is not bytes:
            chunk = bytes(chunk)
        data: bytes | bytearray
        if self._buffer:
            self._buffer += chunk
            data = self._buffer
        else:
            data = chunk  # the common case in a part's data: no copy of the chunk
        events: list[Event] = []
        try:
            consumed = self._run(data, events)
        except BadRequest:
            self._state = _State.FAILED
            self._buffer = bytearray()
            raise
        if data is self._buffer:
            del self._buffer[:consumed]
        elif consumed < len(data):
            self._buffer += memoryview(data)[consumed:]
        return events

    def close(self) -> None:
        """The body has ended: raises `BadRequest` unless its closing delimiter was seen."""
        self._closed = True
        self._buffer = bytearray()
        if self._state is not _State.DONE:
            raise BadRequest("truncated multipart body")

    def _run(self, data: bytes | bytearray, events: list[Event]) -> int:
        """Advance through `data`, appending events; how many leading bytes are consumed."""
        delimiter = self._delimiter
        size = len(data)
        pos = 0
        while True:
            state = self._state
            if state is _State.DATA:
                found = data.find(delimiter, pos)
                if found < 0:
                    # Keep back only a tail that could start a delimiter. A delimiter holds
                    # one CR (bchars exclude it), at its start, so the last CR decides.
                    keep = size
                    cr = data.rfind(b"\r", max(pos, size - len(delimiter) + 1))
                    if cr >= 0 and delimiter.startswith(data[cr:]):
                        keep = cr
                    if keep > pos:
                        events.append(PartData(_slice(data, pos, keep)))
                    return keep
                if found > pos:
                    events.append(PartData(_slice(data, pos, found)))
                events.append(PartEnd())
                pos = found + len(delimiter)
                self._state = _State.DELIMITED
            elif state is _State.DELIMITED:
                if size - pos < 2:
                    return pos
                if data[pos] == 0x2D and data[pos + 1] == 0x2D:  # "--": the closing delimiter
                    self._state = _State.DONE
                    return size
                if data[pos] not in b" \t\r":
                    raise BadRequest("malformed multipart delimiter")
                self._parts += 1
                if self._parts > self._max_parts:
                    raise BadRequest("too many multipart parts")
                self._state = _State.HEADERS
                self._scanned = 0
            elif state is _State.HEADERS:
                end = data.find(_HEADERS_END, pos + self._scanned)
                if end < 0:
                    if size - pos >= self._max_header_bytes:
                        raise BadRequest("multipart part headers too long")
                    self._scanned = max(0, size - pos - len(_HEADERS_END) + 1)
                    return pos
                if end + len(_HEADERS_END) - pos > self._max_header_bytes:
                    raise BadRequest("multipart part headers too long")
                events.append(_part_start(_slice(data, pos, end)))
                pos = end + len(_HEADERS_END)
                self._state = _State.DATA
            elif state is _State.PREAMBLE:
                found = data.find(delimiter, pos)
                if found < 0:
                    return max(pos, size - len(delimiter) + 1)
                pos = found + len(delimiter)
                self._state = _State.DELIMITED
            else:  # DONE: the epilogue is ignored
                return size


def _slice(data: bytes | bytearray, start: int, end: int) -> bytes:
    """`data[start:end]` as bytes, copied once (not at all for a whole bytes object)."""
    if isinstance(data, bytes):
        return data[start:end]
    with memoryview(data) as view:
        return bytes(view[start:end])


def _part_start(head: bytes) -> PartStart:
    """Read a part's headers: the rest of the delimiter line, then the header lines."""
    lines = head.split(b"\r\n")
    if lines[0].strip(b" \t"):
        raise BadRequest("malformed multipart delimiter")
    fields: list[bytes] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):  # obsolete line folding continues the field
            if not fields:
                raise BadRequest("malformed multipart part header")
            fields[-1] += b" " + line.strip(b" \t")
        else:
            fields.append(line)
    headers: dict[str, str] = {}
    for field in fields:
        raw_name, colon, raw_value = field.partition(b":")
        raw_name = raw_name.strip(b" \t")
        if not colon or not raw_name:
            raise BadRequest("malformed multipart part header")
        name = raw_name.decode("utf-8", "replace").lower()
        if name in headers and name in _SINGLETON_HEADERS:
            raise BadRequest("repeated multipart part header")
        headers.setdefault(name, raw_value.strip(b" \t").decode("utf-8", "replace"))
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise BadRequest("multipart part without Content-Disposition: form-data")
    kind, params = _parameters(disposition)
    if kind != "form-data":
        raise BadRequest("multipart part without Content-Disposition: form-data")
    field_name = params.get("name")
    if field_name is None:
        raise BadRequest("multipart part without a name")
    filename = params.get("filename")
    extended = params.get("filename*")
    decoded = None if extended is None else _extended_value(extended)
    if decoded is not None:
        filename = decoded
    return PartStart(field_name, filename, headers.get("content-type"))


def _parameters(value: str) -> tuple[str, dict[str, str]]:
    """Split `kind; a=b; c="d"` into the lowercased kind and the parameters.

    Parameter names are lowercased and the first of a name wins. A quoted value has its
    `\\"` and `\\\\` unescaped (any other backslash stays); an unquoted one is stripped.
    A parameter without `=` is skipped. Raises `BadRequest` for an unterminated quote.
    """
    kind, _, rest = value.partition(";")
    params: dict[str, str] = {}
    pos = 0
    size = len(rest)
    while pos < size:
        semicolon = rest.find(";", pos)
        if semicolon < 0:
            semicolon = size
        equals = rest.find("=", pos, semicolon)
        if equals < 0:
            pos = semicolon + 1
            continue
        name = rest[pos:equals].strip(" \t").lower()
        quoted = _QUOTED.match(rest, equals + 1)
        if quoted is not None:
            param = _ESCAPE.sub(r"\1", quoted.group(1))
            end = rest.find(";", quoted.end())
            end = size if end < 0 else end
        elif _OPEN_QUOTE.match(rest, equals + 1):
            raise BadRequest("malformed multipart part header")
        else:
            end = semicolon
            param = rest[equals + 1 : end].strip(" \t")
        if name:
            params.setdefault(name, param)
        pos = end + 1
    return kind.strip(" \t").lower(), params


def _extended_value(value: str) -> str | None:
    """Decode an RFC 5987 `charset'language'percent-encoded` value; None if unusable."""
    charset, _, rest = value.partition("'")
    _language, quote, encoded = rest.partition("'")
    charset = charset.strip(" \t").lower()
    if not quote or charset not in _EXTENDED_CHARSETS:
        return None
    return unquote(encoded, encoding=charset, errors="replace")
