"""What the server itself does with requests no route should ever see: bytes that are not
HTTP, heads too large, bodies where none is taken, clients that stall. Raw sockets, so
the bytes on the wire are exactly the ones written here.

Every answer is a status with a reason, then a close; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.server import ServerUnderTest

WAIT = 10.0
"""The longest any answer or close may take; far above what the server needs."""

WS_HEAD = (
    "GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n"
)
TLS_CLIENT_HELLO = bytes.fromhex(
    "16030100c4010000c00303"
    + "ab" * 32
    + "00"
    + "0020"
    + "c02b" * 16
    + "0100"
    + "0075"
    + "00" * 117
)
"""The first record a browser sends for `https://` to a plain-HTTP port."""
RANDOM_BYTES = random.Random(17).randbytes(300)


@dataclass(frozen=True)
class Answer:
    status: int | None
    """None: the connection closed without a status line."""
    head: bytes
    body: bytes
    closed: bool
    """The server closed the connection (EOF or reset) within `WAIT` after answering."""


def exchange(server: ServerUnderTest, data: bytes, pause: float = 0.0) -> Answer:
    """Send `data` as written, then read until the server closes (at most `WAIT`)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # the server may answer and close before taking it all
        if pause:
            time.sleep(pause)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket, wait: float = WAIT) -> Answer:
    received = b""
    closed = False
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head.startswith(b"HTTP/1.") else None
    return Answer(status, head, body, closed)


@pytest.mark.parametrize("data", [TLS_CLIENT_HELLO, RANDOM_BYTES], ids=["tls-hello", "random"])
def test_bytes_that_are_not_http_get_400_and_a_close(server: ServerUnderTest, data: bytes) -> None:
    answer = exchange(server, data)
    assert answer.status == 400
    assert answer.body  # a reason
    assert answer.closed


@pytest.mark.parametrize(
    "head",
    [
        "GET / HTTP/1.1\r\nHost: x\r\ngarbage\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n",
    ],
    ids=["line-without-colon", "nul-in-value"],
)
def test_a_head_the_parser_refuses_gets_400_with_a_reason(
    server: ServerUnderTest, head: str
) -> None:
    answer = exchange(server, head.encode())
    assert answer.status == 400
    assert answer.body == b"malformed HTTP request"
    assert answer.closed


HEADS_TOO_LARGE: dict[str, tuple[bytes, int]] = {
    "url-64KB": (b"GET /" + b"a" * 64_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "cookie-64KiB": (b"GET / HTTP/1.1\r\nHost: x\r\nCookie: a=" + b"b" * 65536 + b"\r\n\r\n", 431),
    "cookie-1MiB": (b"GET / HTTP/1.1\r\nHost: x\r\nCookie: a=" + b"b" * 2**20 + b"\r\n\r\n", 431),
    "ws-cookie-64KiB": ((WS_HEAD + "Cookie: a=" + "b" * 65536 + "\r\n\r\n").encode(), 431),
    "many-small-fields": (
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: %s\r\n" % (n, b"v" * 400) for n in range(90))
        + b"\r\n",
        431,
    ),
    "too-many-fields": (
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: v\r\n" % n for n in range(200))
        + b"\r\n",
        431,
    ),
}


@pytest.mark.parametrize("case", list(HEADS_TOO_LARGE))
def test_a_request_head_too_large_is_answered_and_closed(
    server: ServerUnderTest, case: str
) -> None:
    data, status = HEADS_TOO_LARGE[case]
    answer = exchange(server, data)
    assert answer.status == status
    assert answer.body  # a reason
    assert answer.closed


def test_a_head_within_the_limits_is_served(server: ServerUnderTest) -> None:
    cookie = "; ".join(f"c{n}={'v' * 4000}" for n in range(2))  # two full browser cookies
    response = httpx.get(server.url("/_stcore/health"), headers={"Cookie": cookie}, timeout=WAIT)
    assert response.status_code == 200


def test_a_large_body_where_none_is_taken_gets_413_and_a_close(server: ServerUnderTest) -> None:
    body = b"x" * (2 * 2**20)
    head = b"POST /_stcore/health HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    answer = exchange(server, head + body)
    assert answer.status == 413
    assert answer.body  # a reason
    assert answer.closed


def test_no_response_names_the_server_software(server: ServerUnderTest) -> None:
    response = httpx.get(server.url("/_stcore/health"), timeout=WAIT)
    assert "server" not in response.headers
    with connect(server.ws_url(), subprotocols=["streamlit"], open_timeout=WAIT) as ws:  # type: ignore[list-item]
        assert ws.response is not None
        assert "Server" not in ws.response.headers


CLOSE_WAIT = 3.0
"""With timeouts of half a second to a second, a close must come well within this."""

TIMEOUTS = {
    "hexlit.idleTimeoutSeconds": 0.5,
    "hexlit.headerTimeoutSeconds": 1.0,
    "hexlit.bodyTimeoutSeconds": 0.5,
}


@pytest.fixture
def impatient(make_server: Callable[..., ServerUnderTest]) -> ServerUnderTest:
    return make_server(TIMEOUTS)


def test_an_idle_connection_is_closed(impatient: ServerUnderTest) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=WAIT) as sock:
        assert read_until_closed(sock, CLOSE_WAIT) == Answer(None, b"", b"", closed=True)
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=WAIT) as sock:
        sock.sendall(b"GET /_stcore/health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_closed(sock, CLOSE_WAIT)  # kept alive, then idle
        assert (answer.status, answer.closed) == (200, True)


def test_a_head_sent_too_slowly_gets_408_and_a_close(impatient: ServerUnderTest) -> None:
    """Slowloris: a byte every 0.2 s keeps the connection busy but never ends the head."""
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=WAIT) as sock:
        sock.sendall(b"GET /_stcore/health HTTP/1.1\r\n")
        deadline = time.monotonic() + CLOSE_WAIT
        try:
            while time.monotonic() < deadline:
                sock.sendall(b"X")
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_until_closed(sock, CLOSE_WAIT)
    assert answer.status == 408
    assert answer.closed


def test_a_body_that_stalls_is_closed(impatient: ServerUnderTest) -> None:
    head = b"POST /_stcore/health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=WAIT) as sock:
        sock.sendall(head + b"x" * 10)
        assert read_until_closed(sock, CLOSE_WAIT).closed
