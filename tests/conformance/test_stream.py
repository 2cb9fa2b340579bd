"""The `/_stcore/stream` WebSocket: handshake rules, frames, resume, limits, on every stack.

The server runs the built-in `counter` app: on connect it sends
`hello <session-id> resumed=<0|1> count=<N>`; `inc` answers `count N`; `flood N` sends N
frames at once; non-UTF-8 frames are malformed.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.support.server import ServerUnderTest

TIMEOUT = 10.0
XSRF_LIKE_TOKEN = "2|1a2b3c4d|00112233445566778899aabbccddeeff|1700000000"


@contextmanager
def stream(
    server: ServerUnderTest,
    protocols: list[str] | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Iterator[ClientConnection]:
    offered = protocols if protocols is not None else ["streamlit", XSRF_LIKE_TOKEN]
    with connect(
        server.ws_url(),
        subprotocols=offered or None,  # type: ignore[arg-type]
        additional_headers=headers,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        **kwargs,
    ) as ws:
        yield ws


def hello(ws: ClientConnection) -> dict[str, str]:
    """Parse the built-in app's greeting into {"id":…, "resumed":…, "count":…}."""
    text = ws.recv(timeout=TIMEOUT)
    assert isinstance(text, bytes)
    word, session_id, resumed, count = text.decode().split()
    assert word == "hello"
    return {"id": session_id, "resumed": resumed[-1], "count": count.split("=")[1]}


def closed_with(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes; return its close code and reason."""
    for _ in range(100_000):
        try:
            ws.recv(timeout=TIMEOUT)
        except ConnectionClosed as closed:
            received = closed.rcvd
            break
    else:
        pytest.fail("the server never closed the connection")
    assert received is not None, "the server dropped the connection without a close frame"
    return received.code, received.reason


def close_code_or_none(ws: ClientConnection) -> int | None:
    """Read until the connection ends: the close code, or None if it was dropped."""
    for _ in range(100_000):
        try:
            ws.recv(timeout=TIMEOUT)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
    pytest.fail("the server never closed the connection")


def send_until_closed(ws: ClientConnection, frame: bytes) -> None:
    """Send a frame the server may refuse mid-way (it closes while we still write)."""
    with contextlib.suppress(ConnectionClosed):
        ws.send(frame)


def test_selects_the_streamlit_subprotocol_and_greets(server: ServerUnderTest) -> None:
    with stream(server) as ws:
        assert ws.subprotocol == "streamlit"
        greeting = hello(ws)
        assert greeting["resumed"] == "0"
        assert greeting["count"] == "0"


def test_frames_round_trip_in_order(server: ServerUnderTest) -> None:
    with stream(server) as ws:
        hello(ws)
        for expected in range(1, 6):
            ws.send(b"inc")
            assert ws.recv(timeout=TIMEOUT) == f"count {expected}".encode()


def test_large_binary_frames_pass_unchanged(server: ServerUnderTest) -> None:
    payload = ("x" * 300_000).encode()
    with stream(server) as ws:
        hello(ws)
        ws.send(payload)
        assert ws.recv(timeout=TIMEOUT) == payload


def test_no_subprotocol_is_accepted_without_one(server: ServerUnderTest) -> None:
    with stream(server, protocols=[]) as ws:
        assert ws.subprotocol is None
        assert hello(ws)["resumed"] == "0"


@pytest.mark.parametrize("header", ['not a token, "quoted"', "", "streamlit, a b"])
def test_malformed_subprotocol_header_is_refused_with_400(
    server: ServerUnderTest, header: str
) -> None:
    with (
        pytest.raises(InvalidStatus) as refused,
        stream(server, protocols=[], headers={"Sec-WebSocket-Protocol": header}),
    ):
        pass
    assert refused.value.response.status_code == 400


def test_handshake_with_a_header_line_too_long_is_refused_with_431(
    server: ServerUnderTest,
) -> None:
    """Over 8 KiB on one line: the request head rule answers, before the handshake is
    judged (adapters/web/request_head.py), on every stack."""
    with (
        pytest.raises(InvalidStatus) as refused,
        stream(server, protocols=[], headers={"Sec-WebSocket-Protocol": "x" * 9000}),
    ):
        pass
    assert refused.value.response.status_code == 431
    assert b"too large" in refused.value.response.body


def test_empty_entries_keep_their_positions(server: ServerUnderTest) -> None:
    with stream(server) as ws:
        session_id = hello(ws)["id"]
    status, first_frame = raw_handshake(server, f"streamlit, , {session_id}")
    assert status == 101
    assert first_frame == f"hello {session_id} resumed=1 count=0".encode()


def raw_handshake(server: ServerUnderTest, protocol_header: str) -> tuple[int, bytes]:
    """Open a WebSocket by hand (no client library second-guessing the header).

    Returns the status code and the payload of the server's first frame (if 101).
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {server.base_path}/_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol_header}\r\n\r\n"
        )
        sock.sendall(request.encode())
        reader = sock.makefile("rb")
        status = int(reader.readline().split()[1])
        while reader.readline() not in (b"\r\n", b""):
            pass
        if status != 101:
            return status, b""
        opcode, length = reader.read(2)
        assert opcode == 0x82, "expected an unfragmented binary frame"
        if length == 126:
            length = int.from_bytes(reader.read(2), "big")
        return status, reader.read(length)


def test_foreign_origin_is_refused_with_403(server: ServerUnderTest) -> None:
    with pytest.raises(InvalidStatus) as refused, stream(server, origin="https://evil.example"):  # type: ignore[arg-type]
        pass
    assert refused.value.response.status_code == 403
    assert b"origin not allowed" in refused.value.response.body


@pytest.mark.parametrize(
    "origin", ["http://localhost:3000", "http://127.0.0.1:9999", "https://localhost"]
)
def test_local_origins_are_accepted(server: ServerUnderTest, origin: str) -> None:
    with stream(server, origin=origin) as ws:  # type: ignore[arg-type]
        assert hello(ws)["resumed"] == "0"


def test_same_host_origin_is_accepted(make_server: Callable[..., ServerUnderTest]) -> None:
    server = make_server({"server.allowedHosts": []})
    origin = f"http://127.0.0.1:{server.port}"
    with stream(server, origin=origin) as ws:  # type: ignore[arg-type]
        assert hello(ws)["resumed"] == "0"


def test_any_origin_is_accepted_when_cors_is_off(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.enableCORS": False})
    with stream(server, origin="https://elsewhere.example") as ws:  # type: ignore[arg-type]
        assert hello(ws)["resumed"] == "0"


def test_host_outside_allowed_hosts_is_refused(make_server: Callable[..., ServerUnderTest]) -> None:
    server = make_server({"server.allowedHosts": ["app.example.com"]})
    with pytest.raises(InvalidStatus) as refused, stream(server):
        pass
    assert refused.value.response.status_code == 403


def test_text_frames_close_with_1003(server: ServerUnderTest) -> None:
    with stream(server) as ws:
        hello(ws)
        ws.send("a text frame")
        assert closed_with(ws) == (1003, "binary frames only")


def test_malformed_frames_close_with_1002(server: ServerUnderTest) -> None:
    with stream(server) as ws:
        hello(ws)
        ws.send(b"\xff\xfe not utf-8")
        assert closed_with(ws)[0] == 1002


def test_frames_over_the_widget_state_limit_close_with_1009(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.maxWidgetStateSize": 1, "server.maxMessageSize": 4})
    with stream(server) as ws:
        hello(ws)
        send_until_closed(ws, b"x" * 1_500_000)
        assert closed_with(ws)[0] == 1009


def test_frames_over_the_message_size_are_refused_by_the_protocol_layer(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    """Above `server.maxMessageSize` the WebSocket layer itself refuses the frame: it closes
    with 1009, or, when the client is still writing as it closes, the client may see the
    connection reset before the close frame. Either way the socket ends and the server
    keeps serving."""
    server = make_server({"server.maxWidgetStateSize": 1, "server.maxMessageSize": 1})
    with stream(server) as ws:
        hello(ws)
        send_until_closed(ws, b"x" * 2_500_000)
        code = close_code_or_none(ws)
        assert code in (1009, None)
    with stream(server) as ws:
        assert hello(ws)["resumed"] == "0"


def test_reconnect_resumes_the_session_with_its_state(server: ServerUnderTest) -> None:
    with stream(server) as ws:
        first = hello(ws)
        ws.send(b"inc")
        ws.recv(timeout=TIMEOUT)
        ws.send(b"inc")
        ws.recv(timeout=TIMEOUT)
    with stream(server, ["streamlit", XSRF_LIKE_TOKEN, first["id"]]) as ws:
        again = hello(ws)
    assert again == {"id": first["id"], "resumed": "1", "count": "2"}


def test_unknown_resume_id_gets_a_fresh_session(server: ServerUnderTest) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    with stream(server, ["streamlit", XSRF_LIKE_TOKEN, unknown]) as ws:
        greeting = hello(ws)
    assert greeting["id"] != unknown
    assert greeting["resumed"] == "0"


def test_traversal_looking_resume_id_is_ignored(server: ServerUnderTest) -> None:
    with stream(server, ["streamlit", XSRF_LIKE_TOKEN, "..%2f..%2fetc"]) as ws:
        assert hello(ws)["resumed"] == "0"


def test_a_second_connection_takes_over_and_the_first_is_told(server: ServerUnderTest) -> None:
    with stream(server) as first:
        original = hello(first)
        first.send(b"inc")
        first.recv(timeout=TIMEOUT)
        with stream(server, ["streamlit", XSRF_LIKE_TOKEN, original["id"]]) as second:
            taken = hello(second)
            assert taken == {"id": original["id"], "resumed": "1", "count": "1"}
            assert closed_with(first) == (1000, "replaced by a newer connection")
            second.send(b"inc")
            assert second.recv(timeout=TIMEOUT) == b"count 2"


def test_slow_consumer_is_closed_with_1013_and_can_resume(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"hexlit.queueMaxFrames": 50})
    with stream(server) as ws:
        greeting = hello(ws)
        ws.send(b"flood 5000")
        code, reason = closed_with(ws)
    assert code == 1013
    assert "reconnect" in reason
    with stream(server, ["streamlit", XSRF_LIKE_TOKEN, greeting["id"]]) as ws:
        assert hello(ws)["resumed"] == "1"


def test_shutdown_closes_open_sockets_as_going_away(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server()
    with stream(server) as ws:
        hello(ws)
        server.stop()
        assert closed_with(ws)[0] == 1001
