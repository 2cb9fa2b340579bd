"""Slow clients and floods, with bounded counts and sizes: slowloris heads, a WebSocket
reader that stalls, message floods, and a few hundred idle sockets.

The server must go on answering others meanwhile; a reader that stalls is closed with
1013 before the server has buffered more than its queue bound (plus kernel buffers);
a flood is either served in order or ended with 1013.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from tests.hostile.wire import (
    FrameReader,
    errors_logged,
    exchange,
    get,
    open_raw_websocket,
    still_serves,
    ws_frame,
)
from tests.support.server import ServerUnderTest

MIB = 1024 * 1024
STREAM = "/_stcore/stream"
CLOSE = 0x8
TRY_AGAIN_LATER = 1013


@contextmanager
def raw_websocket(
    server: ServerUnderTest, rcvbuf: int = 0
) -> Iterator[tuple[socket.socket, FrameReader]]:
    sock, frames = open_raw_websocket(server.port, STREAM, rcvbuf)
    with sock:
        _, hello = frames.frame()
        assert hello.startswith(b"hello "), hello
        yield sock, frames


def drain(frames: FrameReader) -> tuple[list[bytes], int | None]:
    """Every data frame until the server's close frame (or the end): (frames, close code)."""
    received: list[bytes] = []
    with contextlib.suppress(EOFError):
        while True:
            opcode, payload = frames.frame()
            if opcode == CLOSE:
                return received, int.from_bytes(payload[:2], "big")
            received.append(payload)
    return received, None


def test_a_stalled_reader_is_closed_with_1013_and_memory_stays_bounded(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    """The client asks for 32 MiB of echoes and reads none of them while it asks."""
    server = make_server({"hexlit.queueMaxBytes": MIB})
    stall_and_check(server)


def stall_and_check(server: ServerUnderTest) -> None:
    chunk = b"e" * (64 * 1024)
    sent = 0
    with raw_websocket(server, rcvbuf=8192) as (sock, frames):
        sock.settimeout(3.0)  # a server that stops reading instead of closing
        with contextlib.suppress(OSError):
            for _ in range(512):
                sock.sendall(ws_frame(chunk))
                sent += len(chunk)
        sock.settimeout(10.0)
        received, code = drain(frames)
    assert code == TRY_AGAIN_LATER
    echoed = sum(len(frame) for frame in received)
    assert echoed < 12 * MIB, f"{echoed / MIB:.1f} MiB buffered for a reader that stalled"
    assert echoed < sent
    still_serves(server.port)


def test_closing_a_stalled_reader_logs_no_error(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    """An attacker must not be able to write tracebacks into the log at will."""
    server = make_server({"hexlit.queueMaxBytes": MIB})
    with errors_logged() as errors:
        stall_and_check(server)
    assert [record.getMessage()[:80] for record in errors] == []


def test_a_flood_of_small_messages_is_served_in_order_or_closed(server: ServerUnderTest) -> None:
    count = 5_000
    with raw_websocket(server) as (sock, frames):
        sock.sendall(ws_frame(b"inc") * count)  # all of it before reading a single answer
        received, code = drain_until(frames, f"count {count}".encode())
    numbers = [int(frame.split()[1]) for frame in received]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) == count or code == TRY_AGAIN_LATER, (len(numbers), code)
    still_serves(server.port)


def drain_until(frames: FrameReader, last: bytes) -> tuple[list[bytes], int | None]:
    received: list[bytes] = []
    with contextlib.suppress(EOFError):
        while True:
            opcode, payload = frames.frame()
            if opcode == CLOSE:
                return received, int.from_bytes(payload[:2], "big")
            received.append(payload)
            if payload == last:
                return received, None
    return received, None


def test_an_amplifying_flood_is_closed_with_1013(server: ServerUnderTest) -> None:
    """Fifty requests for 100,000 answers each, sent at once, read by nobody for a while."""
    with raw_websocket(server, rcvbuf=8192) as (sock, frames):
        sock.sendall(ws_frame(b"flood 100000") * 50)
        _, code = drain(frames)
    assert code == TRY_AGAIN_LATER
    still_serves(server.port)


def test_slowloris_heads_do_not_starve_other_clients(server: ServerUnderTest) -> None:
    """A hundred clients dribble their heads a line at a time; others are still served,
    and each slow head, once complete, gets its answer."""
    with ExitStack() as stack:
        slow = []
        for _ in range(100):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", server.port), 10))
            sock.sendall(b"GET /_stcore/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(sock)
        for line in range(5):
            for sock in slow:
                sock.sendall(f"X-Slow-{line}: a\r\n".encode())
            still_serves(server.port)
        for sock in slow:
            sock.sendall(b"Connection: close\r\n\r\n")
        for sock in slow:
            assert sock.makefile("rb").readline().split()[1] == b"200"
    still_serves(server.port)


def test_hundreds_of_idle_sockets_do_not_stop_the_server(server: ServerUnderTest) -> None:
    with ExitStack() as stack:
        for _ in range(300):
            stack.enter_context(socket.create_connection(("127.0.0.1", server.port), 10))
        for _ in range(50):
            stack.enter_context(raw_websocket(server))
        still_serves(server.port)
        assert exchange(server.port, get("/")).status == 200
    still_serves(server.port)
