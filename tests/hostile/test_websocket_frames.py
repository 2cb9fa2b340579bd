"""WebSocket frames that break RFC 6455, written by hand after a real handshake.

A frame the protocol forbids fails the connection (§7.1.7): the server closes it, with
1002 (protocol error), 1007 (bad UTF-8) or 1009 (too big) when it says why, and never
keeps reading as if nothing happened. An invalid close frame is not echoed back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from tests.hostile.wire import FrameReader, open_raw_websocket, still_serves
from tests.support.server import ServerUnderTest

STREAM = "/_stcore/stream"
FAILURE_CODES = (1002, 1007, 1009)
HANG_BOUND = 3.0
"""A server that means to close does so in milliseconds; this bounds the wait."""


def frame(first_byte: int, payload: bytes, masked: bool = True) -> bytes:
    """A frame with any first byte (FIN, RSV bits, opcode), masked with a zero key."""
    size = len(payload)
    bit = 0x80 if masked else 0
    if size < 126:
        length = bytes([bit | size])
    elif size < 1 << 16:
        length = bytes([bit | 126]) + size.to_bytes(2, "big")
    else:
        length = bytes([bit | 127]) + size.to_bytes(8, "big")
    return bytes([first_byte]) + length + (b"\0\0\0\0" if masked else b"") + payload


def ending(server: ServerUnderTest, data: bytes) -> tuple[str, int | None]:
    """Send `data` on a fresh session; how the server ended it: ("close", code),
    ("eof", None) when it dropped the connection, or ("hung", None)."""
    sock, frames = open_raw_websocket(server.port, STREAM)
    with sock:
        frames.frame()  # the app's hello
        with contextlib.suppress(OSError):
            sock.sendall(data)
        sock.settimeout(HANG_BOUND)
        return _read_to_the_end(frames)


def _read_to_the_end(frames: FrameReader) -> tuple[str, int | None]:
    try:
        while True:
            opcode, payload = frames.frame()
            if opcode == 0x8:
                return "close", int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
    except EOFError:
        return "eof", None
    except TimeoutError:
        return "hung", None


FRAMING_ERRORS = {
    "reserved opcode 3": frame(0x83, b"inc"),
    "RSV1 without an extension": frame(0xC2, b"inc"),
    "a 200-byte ping": frame(0x89, b"p" * 200),
    "a fragmented ping": frame(0x09, b"p"),
    "a continuation with nothing to continue": frame(0x80, b"inc"),
    "2 MiB in 2,048 fragments over a 1 MiB limit": b"".join(
        [frame(0x02, b"a" * 1024)]
        + [frame(0x00, b"a" * 1024) for _ in range(2046)]
        + [frame(0x80, b"a" * 1024)]
    ),
}


def test_framing_errors_fail_the_connection(make_server: Callable[..., ServerUnderTest]) -> None:
    server = make_server({"server.maxMessageSize": 1})
    wrong = []
    for shape, data in FRAMING_ERRORS.items():
        how, code = ending(server, data)
        if how == "hung" or (how == "close" and code not in FAILURE_CODES):
            wrong.append((shape, how, code))
    assert wrong == []
    still_serves(server.port)


def test_an_unmasked_client_frame_fails_the_connection(server: ServerUnderTest) -> None:
    """RFC 6455 §5.1: a server MUST close the connection on an unmasked frame."""
    how, code = ending(server, frame(0x82, b"inc", masked=False))
    assert how != "hung"
    assert how == "eof" or code in FAILURE_CODES
    still_serves(server.port)


INVALID_CLOSE_FRAMES = {
    "code 999": frame(0x88, (999).to_bytes(2, "big")),
    "code 1005, never sent on the wire": frame(0x88, (1005).to_bytes(2, "big")),
    "code 5000": frame(0x88, (5000).to_bytes(2, "big")),
    "a one-byte body": frame(0x88, b"\x03"),
    "a reason that is not UTF-8": frame(0x88, (1000).to_bytes(2, "big") + b"\xff"),
}


def test_an_invalid_close_frame_is_a_protocol_error(server: ServerUnderTest) -> None:
    """RFC 6455 §5.5.1 and §7.4: such a close is itself an error, never echoed as is."""
    wrong = []
    for shape, data in INVALID_CLOSE_FRAMES.items():
        how, code = ending(server, data)
        if how == "hung" or (how == "close" and code not in FAILURE_CODES):
            wrong.append((shape, how, code))
    assert wrong == []
    still_serves(server.port)
