"""`MultipartParser` over python-multipart, the parser Starlette (and so Streamlit's
Starlette server) uses.

python-multipart does the framing: delimiters, header lines, part data, the closing
delimiter, the epilogue. Around it, this adapter adds what python-multipart leaves to
its caller, with the answers hexlit gave before (ADR 0021):

- the Content-Type: `multipart/form-data` with an RFC 2046 boundary (1 to 70 `bchars`,
  not ending with a space), else `BadRequest`;
- a preamble before the first delimiter is skipped, as RFC 2046 says (python-multipart
  only skips leading CRLFs);
- the part headers: `Content-Disposition: form-data` with a `name` is required, a
  repeated `Content-Disposition` or `Content-Type` is refused (two readers of one body
  could disagree on the part, RFC 9110 §5.3), `filename*` (RFC 5987) wins over
  `filename`, quoted values have only `\\"` and `\\\\` unescaped (browsers send
  backslashes in filenames literally);
- the limits: header names and values of a part together, and parts per body;
- the end: a body whose closing delimiter never came is refused at `close`
  (python-multipart's `finalize` checks nothing);
- every python-multipart error becomes a `BadRequest` with a reason.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser as _Framing

from hexlit.ports.errors import BadRequest
from hexlit.ports.multipart import Event, MultipartLimits, PartData, PartEnd, PartStart

_BOUNDARY: Final = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
"""RFC 2046: 1 to 70 `bchars`, not ending with a space."""

_QUOTED: Final = re.compile(r'[ \t]*"((?:[^"\\]|\\.)*)"', re.DOTALL)
_OPEN_QUOTE: Final = re.compile(r'[ \t]*"')
_ESCAPE: Final = re.compile(r'\\(["\\])')
"""Only `\\"` and `\\\\` are unescaped: browsers send backslashes in filenames literally."""

_EXTENDED_CHARSETS: Final = frozenset({"utf-8", "iso-8859-1", "us-ascii"})
_SINGLETON_HEADERS: Final = frozenset({"content-disposition", "content-type"})
_NOT_MULTIPART: Final = "expected a multipart/form-data body"


class PythonMultipart:
    """Implements `MultipartParser`."""

    def body(self, content_type: str | None, limits: MultipartLimits) -> PythonMultipartBody:
        return PythonMultipartBody(boundary_of(content_type), limits)


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a `multipart/form-data` Content-Type header, as bytes.

    Type and parameter names are case-insensitive; the boundary may be quoted; other
    parameters may appear. Raises `BadRequest` when the header is missing, names another
    type, or has no boundary or one that RFC 2046 does not allow.
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


class PythonMultipartBody:
    """Implements `MultipartBody`: one body, through one python-multipart parser."""

    def __init__(self, boundary: bytes, limits: MultipartLimits) -> None:
        """Raises `ValueError` for a boundary RFC 2046 does not allow (use `boundary_of`
        to read one from a request) or limits below 1."""
        if not _BOUNDARY.fullmatch(boundary.decode("latin-1")):
            raise ValueError("not a multipart boundary")
        if limits.max_header_bytes < 1 or limits.max_parts < 1:
            raise ValueError("multipart limits must be positive")
        self._limits = limits
        self._delimiter: Final = b"\r\n--" + boundary
        self._preamble: bytearray | None = bytearray(b"\r\n")
        """Until the first delimiter: the tail that could start one (the body may open
        with the delimiter's `--`, so it starts as if after a CRLF)."""
        self._framing = _Framing(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_begin": self._header_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
            # The limits that count are this adapter's (all of a part's headers); these
            # only keep python-multipart from refusing what they allow.
            max_header_count=limits.max_header_bytes,
            max_header_size=limits.max_header_bytes + 2,
        )
        self._events: list[Event] = []
        self._fields: list[tuple[bytearray, bytearray]] = []
        self._header_bytes = 0
        self._parts = 0
        self._ended = False
        self._failed = False
        self._closed = False

    @property
    def delimiter(self) -> bytes:
        """CRLF `--` boundary: what ends a part's data."""
        return self._delimiter

    @property
    def buffered(self) -> int:
        """How many bytes of the body this adapter holds between two `feed` calls: a
        part's header names and values so far, or the preamble's tail. (python-multipart
        holds none: it hands out slices of the chunk it is given.)"""
        held = self._header_bytes
        return held + (len(self._preamble) if self._preamble is not None else 0)

    def feed(self, chunk: bytes) -> list[Event]:
        if self._closed:
            raise BadRequest("multipart body fed after its end")
        if self._failed:
            raise BadRequest("multipart body already rejected")
        if self._ended:
            return []
        self._events = []
        try:
            if self._preamble is not None:
                chunk = self._skip_preamble(bytes(chunk))
            if chunk:
                self._framing.write(bytes(chunk))
        except MultipartParseError as error:
            self._fail()
            raise BadRequest(self._reason(error)) from None
        except BadRequest:
            self._fail()
            raise
        events, self._events = self._events, []
        return events

    def close(self) -> None:
        self._closed = True
        self._preamble = None
        self._fields = []
        self._header_bytes = 0
        if not self._ended:
            raise BadRequest("truncated multipart body")

    # -- the preamble ---------------------------------------------------------------------

    def _skip_preamble(self, chunk: bytes) -> bytes:
        """What of `chunk` python-multipart reads: from the first delimiter's `--` on.

        Transport padding after that delimiter (RFC 2046: spaces and tabs before its
        CRLF) is dropped here too, since python-multipart only allows it after later ones.
        """
        assert self._preamble is not None
        buffer = self._preamble
        buffer += chunk
        found = buffer.find(self._delimiter)
        if found < 0:
            del buffer[: max(0, len(buffer) - len(self._delimiter) + 1)]
            return b""
        after = found + len(self._delimiter)
        line = after
        while line < len(buffer) and buffer[line] in b" \t":
            line += 1
        if line == len(buffer):  # the padding may go on in the next chunk
            if line - after >= self._limits.max_header_bytes:
                raise BadRequest("multipart part headers too long")
            del buffer[:found]
            return b""
        rest = buffer[line:] if buffer[line] == 0x0D else buffer[after:]
        self._preamble = None
        return self._delimiter[2:] + bytes(rest)

    # -- python-multipart's callbacks -------------------------------------------------------

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > self._limits.max_parts:
            raise BadRequest("too many multipart parts")
        self._fields = []
        self._header_bytes = 0

    def _header_begin(self) -> None:
        self._fields.append((bytearray(), bytearray()))

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._fields[-1][0].extend(data[start:end])

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._fields[-1][1].extend(data[start:end])

    def _count_header_bytes(self, count: int) -> None:
        self._header_bytes += count
        if self._header_bytes > self._limits.max_header_bytes:
            raise BadRequest("multipart part headers too long")

    def _headers_finished(self) -> None:
        self._events.append(part_start(self._fields))
        self._fields = []
        self._header_bytes = 0

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append(PartData(data[start:end]))

    def _part_end(self) -> None:
        self._events.append(PartEnd())

    def _end(self) -> None:
        self._ended = True

    # -- errors ---------------------------------------------------------------------------

    def _fail(self) -> None:
        self._failed = True
        self._fields = []
        self._header_bytes = 0
        self._events = []

    @staticmethod
    def _reason(error: MultipartParseError) -> str:
        """The reason a client reads. python-multipart says where it stopped only in its
        message (its state is saved after a chunk, not at an error), so the message is
        read: every one about part headers names them (tests/contracts pin this)."""
        message = str(error)
        if message.startswith("Maximum header"):
            return "multipart part headers too long"
        if "header" in message:
            return "malformed multipart part header"
        return "malformed multipart delimiter"


def part_start(fields: list[tuple[bytearray, bytearray]]) -> PartStart:
    """The part a header block describes (names and values as python-multipart read them)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in fields:
        name = raw_name.decode("latin-1").lower()  # python-multipart allows only tokens
        if name in headers and name in _SINGLETON_HEADERS:
            raise BadRequest("repeated multipart part header")
        headers.setdefault(name, bytes(raw_value).strip(b" \t").decode("utf-8", "replace"))
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
