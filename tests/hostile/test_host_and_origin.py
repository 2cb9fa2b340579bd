"""Odd `Host` values against `server.allowedHosts`, and `Origin` tricks, on the
WebSocket handshake (where both are enforced), written by hand on a raw socket.

A refused handshake is 400 or 403, never 101, never a 500 or a hang. Host names compare
case-insensitively and a trailing dot names the same host (RFC 9110 §4.2.3, RFC 1034).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.hostile.wire import exchange, get, handshake, still_serves
from tests.support.server import ServerUnderTest

ALLOWED = ["app.example.com", "*.trusted.example"]
STREAM = "/_stcore/stream"

REFUSED_HOSTS = [
    "evil.example",
    "app.example.com.evil.example",
    "evilapp.example.com",
    "app.example.com@evil.example",
    "evil.example#app.example.com",
    "evil.example/app.example.com",
    "evil.example?app.example.com",
    "app.example.com:99999",
    "app.example.com:abc",
    "app.example.com evil.example",
    "app%2eexample.com",
    "xtrusted.example",
    "trusted.example.evil.example",
    "app.ex\u0430mple.com",  # a Cyrillic "a"
    "[::1]",
    "127.0.0.1",
]
ACCEPTED_HOSTS = ["app.example.com", "APP.Example.COM", "app.example.com.", "app.example.com:8501",
                  "a.trusted.example", "deep.a.trusted.example"]  # fmt: skip


def test_odd_hosts_are_refused_by_allowed_hosts(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.allowedHosts": ALLOWED})
    wrong = []
    for host in REFUSED_HOSTS:
        reply = handshake(server.port, STREAM, [("Host", host)])
        if reply.hung or reply.status not in (400, 403, None):
            wrong.append(("refused", host, reply.status))
    for host in ACCEPTED_HOSTS:
        reply = handshake(server.port, STREAM, [("Host", host)])
        if reply.status != 101:
            wrong.append(("accepted", host, reply.status))
    assert wrong == []
    still_serves(server.port)


def test_dns_rebinding_is_refused_when_allowed_hosts_is_set(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    """A page on evil.example rebound to 127.0.0.1 sends matching Host and Origin."""
    server = make_server({"server.allowedHosts": ["127.0.0.1"]})
    rebound = f"evil.example:{server.port}"
    reply = handshake(server.port, STREAM, [("Host", rebound), ("Origin", f"http://{rebound}")])
    assert reply.status == 403
    honest = f"127.0.0.1:{server.port}"
    reply = handshake(server.port, STREAM, [("Host", honest), ("Origin", f"http://{honest}")])
    assert reply.status == 101


REFUSED_ORIGINS = [
    "null",
    "file://",
    "http://127.0.0.1.evil.example",
    "http://localhost.evil.example",
    "http://evil.example?localhost",
    "http://evil.example#localhost",
    "http://localhost@evil.example",
    "https://evil.example:443",
    "http://evil.example:{port}",  # the right port on the wrong host
    "",
    "localhost",
    "http://",
    "http://[::1",
    "x" * 4000,
]


def test_origin_tricks_are_refused_on_the_handshake(server: ServerUnderTest) -> None:
    wrong = []
    host = f"127.0.0.1:{server.port}"
    for template in REFUSED_ORIGINS:
        origin = template.replace("{port}", str(server.port))
        reply = handshake(server.port, STREAM, [("Host", host), ("Origin", origin)])
        if reply.hung or reply.status not in (400, 403):
            wrong.append((origin[:40], reply.status))
    for origin in (f"http://{host}", "http://LOCALHOST:3000", "http://[::1]:1"):
        reply = handshake(server.port, STREAM, [("Host", host), ("Origin", origin)])
        if reply.status != 101:
            wrong.append((origin, reply.status))
    assert wrong == []
    still_serves(server.port)


def test_two_origin_headers_are_refused(server: ServerUnderTest) -> None:
    """A browser sends one Origin (RFC 6454 §7); with two, trust neither."""
    host = f"127.0.0.1:{server.port}"
    pair = ("http://localhost", "https://evil.example")
    for first, second in (pair, pair[::-1]):
        headers = [("Host", host), ("Origin", first), ("Origin", second)]
        reply = handshake(server.port, STREAM, headers)
        assert not reply.hung
        assert reply.status in (400, 403), (first, second, reply.status)
    still_serves(server.port)


@pytest.mark.parametrize("host", ["evil.example", "evil.example/x", "a\tb", "%2f%2fevil.example"])
def test_redirects_never_point_at_the_request_host(server: ServerUnderTest, host: str) -> None:
    """Trailing-slash redirects are relative: a forged Host cannot redirect off site."""
    reply = exchange(server.port, get("/page2/?a=1", host=host))
    assert not reply.hung
    if reply.status in (301, 302, 307, 308):
        location = reply.first.headers["location"]
        assert location.startswith("/"), location
        assert not location.startswith("//"), location
        assert "evil" not in location
    else:
        assert reply.status == 400


MALFORMED_HOSTS = [
    "",
    "app.example.com@evil.example",
    "evil.example#app.example.com",
    "evil.example/app.example.com",
    "evil.example?app.example.com",
    "app.example.com:99999",
    "app.example.com:abc",
    "app.example.com evil.example",
    'app.example.com"<script>',
    "app.example.com\\evil.example",
]


def test_malformed_hosts_are_400_on_every_route_when_allowed_hosts_is_set(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    """ADR 0012: with a list set, every request needs one well-formed Host (RFC 9112
    §3.2, RFC 3986 §3.2.2), on plain routes as on the handshake."""
    server = make_server({"server.allowedHosts": ALLOWED})
    wrong = []
    for host in MALFORMED_HOSTS:
        for path in ("/_stcore/health", "/", "/media/x.mp4", "/_stcore/upload_file/a/b"):
            reply = exchange(server.port, get(path, host=host))
            if reply.hung or reply.status != 400:
                wrong.append((host, path, reply.status))
        reply = handshake(server.port, STREAM, [("Host", host)])
        if reply.status != 400:
            wrong.append((host, STREAM, reply.status))
    assert wrong == []
    assert exchange(server.port, get("/_stcore/health", host="app.example.com")).status == 200
