"""The slice of configuration a web front end needs; filled in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WebSettings:
    """How a front end serves the routes.

    base_path: normalised `server.baseUrlPath` (`""` or `"/a/b"`).
    max_message_bytes: protocol-level cap on one inbound WebSocket message
        (`server.maxMessageSize`, MB).
    ping_interval: seconds between server pings (`server.websocketPingInterval`), and
        how long to wait for the pong.
    websocket_compression: `server.enableWebsocketCompression`.
    script_health_check: whether `/_stcore/script-health-check` is served.
    http_parser: uvicorn's HTTP/1.1 parser, "h11" or "httptools" (Starlette stack only).
    header_timeout: seconds from the first byte of a request head to its end
        (`hexlit.headerTimeoutSeconds`); then 408 and a close.
    idle_timeout: seconds a connection may wait for the first byte of a request, new or
        kept alive (`hexlit.idleTimeoutSeconds`); then a close.
    body_timeout: the longest silence, in seconds, while a request body is still due
        (`hexlit.bodyTimeoutSeconds`); then a close.
    """

    base_path: str = ""
    max_message_bytes: int = 200 * 1000 * 1000
    ping_interval: float = 30.0
    websocket_compression: bool = False
    script_health_check: bool = False
    http_parser: str = "h11"
    header_timeout: float = 10.0
    idle_timeout: float = 5.0
    body_timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class BindSettings:
    """Where a server listens: a TCP address and port, or a Unix socket path."""

    host: str = ""
    """Empty: every interface, IPv6 and IPv4 (dual-stack `::`, else `0.0.0.0`)."""
    port: int = 8501
    unix_socket: str | None = None
    tls_cert: str | None = None
    """PEM certificate file (`server.sslCertFile`); serve HTTPS when set, with `tls_key`."""
    tls_key: str | None = None
    inherited_fd: int | None = None
    """A listening socket a supervisor bound and handed down (`hexlit.workers`): served
    as it is, the address fields then only describe it."""
