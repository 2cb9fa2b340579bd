"""The rule for a request head, read before any HTTP parser or route sees it; both stacks.

A server reads a request head from the first byte up to the empty line. Until then it
only knows bytes, and must decide early: bytes that cannot start a request (a TLS
ClientHello sent to a plain port, noise) get 400; a head over the limits below gets
414 or 431; a head declaring its body's length twice (`Content-Length` and
`Transfer-Encoding`) gets 400; a body over `BUFFERED_BODY_LIMIT` sent to a route that takes
no body gets 413 before it is read. Each answer names the problem, and the connection is closed.

`HEAD_STOP` says where reading a head can stop: at its end, or as soon as the bytes so far
are refused whatever follows. `refusal` then judges the bytes read. The Tornado stack
hands `HEAD_STOP` to its stream; the uvicorn stack searches its own buffer with it.
"""

from __future__ import annotations

import re
from typing import Final

from hexlit.adapters.web import responses

MAX_LINE_BYTES: Final = 8 * 1024
"""The request line, or one header line (as Apache, nginx and the websockets parser)."""
MAX_HEAD_BYTES: Final = 32 * 1024
"""The whole head (as nginx's default `large_client_header_buffers`)."""
MAX_FIELDS: Final = 100
"""Header lines in one head (as Apache; the websockets parser allows 128)."""
BUFFERED_BODY_LIMIT: Final = 1024 * 1024
"""The largest body a route that takes none is sent; only uploads stream more."""

_NOT_IN_A_REQUEST_LINE = rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xff]"
_LINE = rb"[^\n]{0,%d}+\n" % MAX_LINE_BYTES
_ALTERNATIVES = (
    rb"(?P<complete>(?:%s){1,%d}?\r?\n)" % (_LINE, MAX_FIELDS + 1),
    rb"(?P<not_http>[^\n]*?%s)" % _NOT_IN_A_REQUEST_LINE,
    rb"(?P<long_line>(?:%s){0,%d}?[^\n]{%d})" % (_LINE, MAX_FIELDS + 1, MAX_LINE_BYTES + 1),
    rb"(?P<many_fields>(?:%s){%d})" % (_LINE, MAX_FIELDS + 2),
    rb"(?P<too_large>(?=[\s\S]{%d}))" % (MAX_HEAD_BYTES + 1),
)
HEAD_STOP: Final = re.compile(rb"\A(?:" + b"|".join(_ALTERNATIVES) + rb")")
"""Matches a whole head, or the bytes that already refuse one (first match wins; each
alternative is anchored and linear, so a search costs about a microsecond a head)."""
_REQUEST_LINE = re.compile(rb"(?:\r?\n)?([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/\d\.\d\r?\n")
_METHOD_START = re.compile(rb"\A(?:\r?\n)?[!#$%&'*+.^_`|~0-9A-Za-z-]")
_DECLARES_A_BODY = re.compile(rb"\n(?:content-length[ \t]*:[ \t]*0*[1-9]|transfer-encoding)", re.I)
_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*(\d+)", re.I)
_CONTENT_LENGTH_FIELD = re.compile(rb"\ncontent-length[ \t]*:", re.I)
_TRANSFER_ENCODING_FIELD = re.compile(rb"\ntransfer-encoding[ \t]*:", re.I)

NOT_HTTP = responses.refused(400, "not an HTTP/1.1 request")
URI_TOO_LONG = responses.refused(414, f"request line longer than {MAX_LINE_BYTES} bytes")
FIELDS_TOO_LARGE = responses.refused(
    431,
    f"request header fields too large: at most {MAX_FIELDS} lines of {MAX_LINE_BYTES} bytes, "
    f"{MAX_HEAD_BYTES} bytes in all",
)
BODY_NOT_TAKEN = responses.refused(
    413, f"request body too large: this route takes at most {BUFFERED_BODY_LIMIT} bytes"
)
TWO_BODY_LENGTHS = responses.refused(
    400, "both Content-Length and Transfer-Encoding: the body's end is ambiguous"
)
"""RFC 9112 §6.1: such a request may be refused, and if served, its connection must be
closed; refusing it on every stack means no parser's choice between the two decides where
a request hidden in the body starts (request smuggling)."""
HEAD_TIMEOUT = responses.refused(408, "request head not received in time")
MALFORMED = responses.refused(400, "malformed HTTP request")
"""What an HTTP parser refused after the rule let the head through (a header line
without a colon, a NUL, bad framing)."""


def may_start_a_request(first: bytes) -> bool:
    """Whether the first bytes of a connection (or of the next request) can begin one."""
    return bool(_METHOD_START.match(first)) or first in (b"\r", b"\n", b"\r\n")


def refusal(head: bytes, base_path: str) -> responses.WebResponse | None:
    """The answer refusing `head` (bytes read up to a `HEAD_STOP` match), or None to serve it.

    `base_path` locates the upload route, the one route that takes a large body.
    """
    stop = HEAD_STOP.match(head)
    if stop is None or stop.lastgroup == "too_large":
        return FIELDS_TOO_LARGE
    if stop.lastgroup == "not_http" or not may_start_a_request(head[:2]):
        return NOT_HTTP
    if stop.lastgroup == "long_line":
        request_line = head.lstrip(b"\r\n").split(b"\n", 1)[0]
        return URI_TOO_LONG if len(request_line) > MAX_LINE_BYTES else FIELDS_TOO_LARGE
    if stop.lastgroup == "many_fields" or stop.end() > MAX_HEAD_BYTES:
        return FIELDS_TOO_LARGE
    request = _REQUEST_LINE.match(head)
    if request is None:
        return NOT_HTTP
    if _CONTENT_LENGTH_FIELD.search(head) and _TRANSFER_ENCODING_FIELD.search(head):
        return TWO_BODY_LENGTHS
    if _takes_no_large_body(request[1], request[2], base_path) and _large_body(head):
        return BODY_NOT_TAKEN
    return None


def _takes_no_large_body(method: bytes, target: bytes, base_path: str) -> bool:
    """Uploads stream more; the agent API's calls cap their own body, at
    `server.maxWidgetStateSize`, and answer a larger one in their own form (ADR 0019)."""
    upload_route = f"{base_path}/_stcore/upload_file/".encode()
    if method == b"PUT" and target.startswith(upload_route):
        return False
    agent_calls = (f"{base_path}/_stcore/agent/interact", f"{base_path}/_stcore/agent/mcp")
    return not (method == b"POST" and target.split(b"?", 1)[0].decode("latin-1") in agent_calls)


def _large_body(head: bytes) -> bool:
    """A `Content-Length` over the limit. A chunked body is left to the parsers, which
    refuse bad framing with 400 (and Tornado one over the limit as it reads)."""
    length = _CONTENT_LENGTH.search(head)
    return length is not None and int(length[1]) > BUFFERED_BODY_LIMIT


def declares_a_body(head: bytes) -> bool:
    """Whether the request read as `head` has a body to read after it."""
    return bool(_DECLARES_A_BODY.search(head))
