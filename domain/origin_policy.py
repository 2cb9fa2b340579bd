"""Which origins and hosts may talk to the server: one policy for both web stacks.

Streamlit's rules (spec §2.1, §4.2, §4.3), with one deliberate difference: the policy
never looks anything up on the network (Streamlit 1.67 fetches the machine's external IP
inside the handshake). Any further trusted hostnames, such as the configured server
address, are handed in once, at start-up, by the composition root.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from hexlit.ports.errors import BadRequest, HostRejected, OriginRejected

LOCAL_HOSTNAMES: Final = frozenset({"localhost", "0.0.0.0", "127.0.0.1", "::1"})
MALFORMED_HOST: Final = "missing or malformed Host header"
_HOST_HEADER: Final = re.compile(
    r"(?:\[[0-9A-Za-z:.%~_-]+\]|(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+)(?::[0-9]*)?"
)
"""RFC 9110 §7.2 `Host = uri-host [ ":" port ]`, with RFC 3986's `IP-literal` (bracketed)
or `reg-name` (unreserved, percent-encoded and sub-delims characters only) as `uri-host`.
A space, a quote, `<` or a backslash is no part of a host, whatever `urlsplit` makes of it."""


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    """The origin and host rules, built once from configuration.

    enable_cors: `server.enableCORS`; False accepts every origin (and answers `*`).
    cors_allowed_origins: `server.corsAllowedOrigins`, exact origins like
        `https://example.com`.
    trusted_hostnames: further hostnames a WebSocket may come from (the configured
        `browser.serverAddress`, the machine's own addresses).
    allowed_hosts: `server.allowedHosts` patterns; empty allows every Host.
    """

    enable_cors: bool = True
    cors_allowed_origins: tuple[str, ...] = ()
    trusted_hostnames: frozenset[str] = field(default_factory=frozenset)
    allowed_hosts: tuple[str, ...] = ()

    def check_host(self, host: str | None) -> None:
        """With `server.allowedHosts` set, every request (any route, and the WebSocket
        handshake) must name a well-formed host: raise `BadRequest` (400) for a missing,
        empty or malformed `Host`. Whether a well-formed host is on the list is asked
        of the handshake only (`check_websocket`), as Streamlit does."""
        if self.allowed_hosts and _hostname_of_host_header(host) is None:
            raise BadRequest(MALFORMED_HOST)

    def check_request_hosts(self, hosts: Sequence[str], http_version: str) -> None:
        """An HTTP request's `Host` lines, before any route runs: RFC 9112 §3.2 makes an
        HTTP/1.1 request without one, or any request with several, a bad request (400),
        whatever the server's library let through; then `check_host` on the one given."""
        if len(hosts) > 1 or (not hosts and http_version == "1.1"):
            raise BadRequest(MALFORMED_HOST)
        self.check_host(hosts[0] if hosts else None)

    def check_websocket(self, origin: str | None, host: str | None) -> None:
        """Raise `BadRequest` (see `check_host`), `HostRejected` or `OriginRejected`
        unless this handshake may proceed."""
        self.check_host(host)
        if not self.host_allowed(host):
            raise HostRejected("host not allowed")
        if not self.websocket_origin_allowed(origin, host):
            raise OriginRejected("origin not allowed")

    def websocket_origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """Streamlit's WebSocket origin rule.

        No Origin (a non-browser client) is allowed; so is an Origin whose host:port is
        the request's Host. Otherwise, with CORS enforcement on, only the hostname of the
        Origin counts (scheme and port are ignored, as Streamlit does): it must be a
        local name, a trusted hostname or the hostname of an allowed CORS origin.
        """
        if origin is None:
            return True
        parts = _split(origin)
        if parts is None:
            return not self.enable_cors
        netloc, hostname = parts
        if host is not None and netloc == host.strip().lower():
            return True
        if not self.enable_cors:
            return True
        return hostname in self._hostnames()

    def cors_allow_origin(self, origin: str | None) -> str | None:
        """The standard CORS answer: `*` with CORS off, else echo an allow-listed origin."""
        if not self.enable_cors:
            return "*"
        if origin is None:
            return None
        stripped = origin.strip()
        return stripped if stripped in self.cors_allowed_origins else None

    def host_allowed(self, host: str | None) -> bool:
        """`server.allowedHosts`: empty allows all; `*`, `*.suffix` and exact names."""
        if not self.allowed_hosts:
            return True
        hostname = _hostname_of_host_header(host)
        if hostname is None:
            return False
        return any(_host_matches(pattern, hostname) for pattern in self.allowed_hosts)

    def _hostnames(self) -> frozenset[str]:
        configured = (_split(origin) for origin in self.cors_allowed_origins)
        return (
            LOCAL_HOSTNAMES
            | self.trusted_hostnames
            | {parts[1] for parts in configured if parts is not None}
        )


def _split(origin: str) -> tuple[str, str] | None:
    """(lower-cased netloc, hostname) of an origin URL, or None if it has no host."""
    try:
        parts = urlsplit(origin.strip())
        hostname = parts.hostname
    except ValueError:
        return None
    if not parts.scheme or not hostname:
        return None
    return parts.netloc.lower(), hostname


def _hostname_of_host_header(host: str | None) -> str | None:
    if not host or not _HOST_HEADER.fullmatch(host.strip()):
        return None
    try:
        parts = urlsplit("//" + host.strip())
        hostname = parts.hostname
        _ = parts.port  # raises ValueError on a bad or out-of-range port
    except ValueError:
        return None
    if not hostname or parts.username is not None or parts.path or parts.query:
        return None
    if parts.fragment or "#" in host:
        return None
    return hostname.rstrip(".")


def _host_matches(pattern: str, hostname: str) -> bool:
    pattern = pattern.strip().lower().rstrip(".")
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return hostname.endswith(pattern[1:])
    return hostname == pattern
