"""Route-level hardening (issue 17), on every stack: the Host header under
`server.allowedHosts`, for plain HTTP routes and for the WebSocket handshake."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.server import ServerUnderTest

TIMEOUT = 10.0
UPGRADE = (
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: streamlit\r\n"
)
BAD_HOST_LINES = {
    "empty": "Host: \r\n",
    "missing": "",
    "bad port": "Host: 127.0.0.1:99999\r\n",
    "userinfo": "Host: user@127.0.0.1\r\n",
    "path": "Host: 127.0.0.1/x\r\n",
}


@pytest.fixture(scope="module")
def guarded(stack: str) -> Iterator[ServerUnderTest]:
    """A server whose `server.allowedHosts` is set, to the widest pattern."""
    with ServerUnderTest(stack, {"server.allowedHosts": ["*"]}) as running:
        yield running


def status_of(server: ServerUnderTest, request_line: str, headers: str) -> tuple[int, bytes]:
    """Send a request head exactly as written; the answer's status and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"{request_line}\r\n{headers}\r\n".encode())
        answer = sock.makefile("rb")
        status = int(answer.readline().split()[1])
        length = 0
        while (line := answer.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return status, answer.read(length) if status != 101 else b""


@pytest.mark.parametrize("host_line", BAD_HOST_LINES.values(), ids=BAD_HOST_LINES.keys())
@pytest.mark.parametrize("path", ["/_stcore/health", "/", "/_stcore/host-config", "/media/x"])
def test_http_without_a_usable_host_is_400_when_allowed_hosts_is_set(
    guarded: ServerUnderTest, host_line: str, path: str
) -> None:
    assert status_of(guarded, f"GET {path} HTTP/1.1", host_line)[0] == 400


def test_the_reason_is_given(guarded: ServerUnderTest) -> None:
    status, body = status_of(guarded, "GET /_stcore/health HTTP/1.1", "Host: \r\n")
    assert (status, body) == (400, b"missing or malformed Host header")


@pytest.mark.parametrize("host_line", ["Host: \r\n", "Host: user@127.0.0.1\r\n"])
def test_a_websocket_handshake_without_a_usable_host_is_refused_with_400(
    guarded: ServerUnderTest, host_line: str
) -> None:
    status, _ = status_of(guarded, "GET /_stcore/stream HTTP/1.1", host_line + UPGRADE)
    assert status == 400


def test_a_usable_host_is_served(guarded: ServerUnderTest) -> None:
    assert status_of(guarded, "GET /_stcore/health HTTP/1.1", "Host: 127.0.0.1\r\n")[0] == 200
    handshake = status_of(guarded, "GET /_stcore/stream HTTP/1.1", "Host: x\r\n" + UPGRADE)
    assert handshake[0] == 101


def test_plain_routes_do_not_check_the_list_itself(stack: str) -> None:
    """`server.allowedHosts` guards the WebSocket (as in Streamlit): a well-formed Host
    outside it still loads the page and probes, and is refused only at the handshake."""
    with ServerUnderTest(stack, {"server.allowedHosts": ["app.example.com"]}) as server:
        host = "Host: other.example\r\n"
        assert status_of(server, "GET /_stcore/health HTTP/1.1", host)[0] == 200
        assert status_of(server, "GET /_stcore/stream HTTP/1.1", host + UPGRADE)[0] == 403


def test_without_allowed_hosts_an_empty_host_is_served(server: ServerUnderTest) -> None:
    """RFC 9112 §3.2 allows an empty Host; only a configured allow-list needs one."""
    assert status_of(server, "GET /_stcore/health HTTP/1.1", "Host: \r\n")[0] == 200
