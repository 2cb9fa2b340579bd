"""Talking HTTP by hand: requests sent byte for byte as an attacker writes them.

No client library normalises the request line, folds headers or fixes framing here.
Every read is bounded by `TIMEOUT`; a server that neither answers nor closes in that
time counts as a hang (`Reply.hung`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.support.files import BOUNDARY, LiveSession

TIMEOUT = 10.0


@dataclass
class Reply:
    """What came back on one connection: the responses in order, and how it ended."""

    responses: list[Response] = field(default_factory=list)
    closed: bool = False
    """The server closed (or reset) the connection."""
    hung: bool = False
    """Neither an answer nor a close within the timeout."""

    @property
    def status(self) -> int | None:
        return self.responses[0].status if self.responses else None

    @property
    def first(self) -> Response:
        assert self.responses, f"no response at all (closed={self.closed}, hung={self.hung})"
        return self.responses[0]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def exchange(port: int, raw: bytes, timeout: float = TIMEOUT) -> Reply:
    """Send `raw` on a fresh connection and read every response until the server closes.

    Requests written for it end with `Connection: close`, so a server that behaves closes
    after its last answer; one that neither answers nor closes within `timeout` is `hung`.
    """
    reply = Reply()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may refuse and close mid-way
            sock.sendall(raw)
        reader = _Reader(sock)
        while True:
            try:
                reply.responses.append(reader.response())
            except TimeoutError:
                reply.hung = True
                return reply
            except (_Closed, ConnectionError):
                reply.closed = True
                return reply


def status_of(port: int, raw: bytes, timeout: float = TIMEOUT) -> int | None:
    """The first status for `raw` (None if the server closed without answering)."""
    reply = exchange(port, raw, timeout)
    assert not reply.hung, f"no answer and no close within {timeout}s for {raw[:80]!r}"
    return reply.status


def get(path: str, host: str = "127.0.0.1", extra: str = "") -> bytes:
    """A GET written by hand, that closes the connection after the answer."""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode(
        "latin-1"
    )


class _Closed(Exception):
    """The server closed the connection."""


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def _fill(self) -> None:
        data = self._sock.recv(65536)
        if not data:
            raise _Closed
        self._buffer += data

    def _line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def _exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def response(self) -> Response:
        status_line = self._line()
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while line := self._line():
            name, _, value = line.decode("latin-1").partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if status in (101, 204, 304) or 100 <= status < 200:
            return Response(status, headers, b"")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return Response(status, headers, self._chunked())
        if "content-length" in headers:
            return Response(status, headers, self._exactly(int(headers["content-length"])))
        body = self._buffer
        try:
            while True:
                self._fill()
        except _Closed:
            body = self._buffer
        self._buffer = b""
        return Response(status, headers, body)

    def _chunked(self) -> bytes:
        body = b""
        while size := int(self._line().split(b";")[0], 16):
            body += self._exactly(size)
            self._line()
        while self._line():
            pass
        return body


def still_serves(port: int) -> None:
    """The server answers an ordinary request after an attack."""
    reply = exchange(port, get("/_stcore/health"))
    assert not reply.hung, "the server no longer answers"
    assert reply.status == 200, f"health after the attack: {reply.status}"
    assert reply.first.body == b"ok"


def put_upload(session: LiveSession, url: str, body: bytes, content_type: str = "") -> Reply:
    """PUT `body` to an upload URL with the session's XSRF token, over a raw socket."""
    path = url.split(str(session.server.port), 1)[1]
    kind = content_type or f"multipart/form-data; boundary={BOUNDARY}"
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{session.server.port}\r\n"
        f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        f"X-Xsrftoken: {session.xsrf}\r\nCookie: _streamlit_xsrf={session.xsrf}\r\n"
        "Connection: close\r\n\r\n"
    )
    return exchange(session.server.port, head.encode() + body)


def handshake(port: int, path: str, headers: list[tuple[str, str]]) -> Reply:
    """A WebSocket opening handshake written by hand: `headers` go after the request line
    as given (no Host is added), then the upgrade headers. The connection is closed by us
    after the answer's head (a 101 is not read further)."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    raw = (
        f"GET {path} HTTP/1.1\r\n{lines}Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    reply = Reply()
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(raw.encode("utf-8"))
        reader = _Reader(sock)
        try:
            reply.responses.append(reader.response())
        except TimeoutError:
            reply.hung = True
        except (_Closed, ConnectionError):
            reply.closed = True
    return reply


def ws_frame(payload: bytes, opcode: int = 0x2) -> bytes:
    """One final client frame, masked with a zero key (RFC 6455 requires the mask bit,
    not a random key; a zero key leaves the payload as is, so no XOR is needed)."""
    size = len(payload)
    if size < 126:
        length = bytes([0x80 | size])
    elif size < 1 << 16:
        length = bytes([0x80 | 126]) + size.to_bytes(2, "big")
    else:
        length = bytes([0x80 | 127]) + size.to_bytes(8, "big")
    return bytes([0x80 | opcode]) + length + b"\0\0\0\0" + payload


class FrameReader:
    """Reads the server's frames from a raw WebSocket, after its 101 head."""

    def __init__(self, sock: socket.socket, leftover: bytes = b"") -> None:
        self._reader = _Reader(sock)
        self._reader._buffer = leftover

    def frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame; raises EOFError when the socket ends."""
        try:
            first, second = self._reader._exactly(2)
            size = second & 0x7F
            if size == 126:
                size = int.from_bytes(self._reader._exactly(2), "big")
            elif size == 127:
                size = int.from_bytes(self._reader._exactly(8), "big")
            return first & 0x0F, self._reader._exactly(size)
        except (_Closed, ConnectionError) as ended:
            raise EOFError from ended


def open_raw_websocket(port: int, path: str, rcvbuf: int = 0) -> tuple[socket.socket, FrameReader]:
    """A WebSocket opened by hand (the caller closes the socket). `rcvbuf` shrinks this
    side's receive buffer before connecting, so a reader that stalls stalls soon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(TIMEOUT)
        sock.connect(("127.0.0.1", port))
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n\r\n".encode()
        )
        reader = _Reader(sock)
        head = reader.response()
        assert head.status == 101, head.status
        return sock, FrameReader(sock, reader._buffer)
    except BaseException:
        sock.close()
        raise


ERROR_LOGGERS = ("", "asyncio", "uvicorn", "uvicorn.error", "tornado", "hexlit")
"""Where a traceback could be written: the root and the loggers that may not propagate."""


@contextlib.contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """Collect every ERROR record logged while the block runs (on the server's threads
    too), whether or not the logger propagates to the root."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(logging.ERROR)
    loggers = [logging.getLogger(name) for name in ERROR_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
