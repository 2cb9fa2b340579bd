"""From option values to the typed slices each service and adapter is built with."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hexlit.adapters.web.settings import BindSettings, WebSettings
from hexlit.composition.settings import ConfigError
from hexlit.composition.speedups import http_parser
from hexlit.domain.agent_service import AgentSettings
from hexlit.domain.base_path import normalize_base_path
from hexlit.domain.origin_policy import OriginPolicy
from hexlit.domain.outbound_queue import QueueBounds
from hexlit.domain.session_service import SessionLimits
from hexlit.domain.status_service import HostConfig, XsrfCookiePolicy
from hexlit.domain.upload_service import UploadLimits

MB = 1000 * 1000
MIB = 1024 * 1024
DEFAULT_PING_SECONDS = 30.0


def origin_policy(server: dict[str, Any], browser: dict[str, Any]) -> OriginPolicy:
    trusted = set()
    if browser["serverAddress"] and browser["serverAddress"] != "localhost":
        trusted.add(str(browser["serverAddress"]).lower())
    if server["address"] and not str(server["address"]).startswith("unix://"):
        trusted.add(str(server["address"]).lower())
    return OriginPolicy(
        enable_cors=bool(server["enableCORS"]),
        cors_allowed_origins=tuple(server["corsAllowedOrigins"]),
        trusted_hostnames=frozenset(trusted),
        allowed_hosts=tuple(server["allowedHosts"]),
    )


def session_limits(server: dict[str, Any], hexlit: dict[str, Any]) -> SessionLimits:
    return SessionLimits(
        max_frame_bytes=int(server["maxWidgetStateSize"]) * MB,
        queue=QueueBounds(int(hexlit["queueMaxFrames"]), int(hexlit["queueMaxBytes"])),
        reconnect_ttl=float(server["disconnectedSessionTTL"]),
        max_detached=int(hexlit["maxDisconnectedSessions"]),
    )


def agent_settings(server: dict[str, Any], base_path: str) -> AgentSettings:
    trusted = server["trustedUserHeaders"] or {}
    return AgentSettings(
        enabled=bool(server["enableAgentApi"]),
        base_path=base_path,
        max_body_bytes=int(server["maxWidgetStateSize"]) * MB,
        trusted_headers={str(header): str(key) for header, key in trusted.items()},
    )


def host_config(client: dict[str, Any]) -> HostConfig:
    return HostConfig(allowed_origins=tuple(client["allowedOrigins"]))


def web_settings(server: dict[str, Any], hexlit: dict[str, Any]) -> WebSettings:
    ping = server["websocketPingInterval"]
    return WebSettings(
        base_path=normalize_base_path(server["baseUrlPath"] or ""),
        max_message_bytes=int(server["maxMessageSize"]) * MB,
        ping_interval=float(ping) if ping else DEFAULT_PING_SECONDS,
        websocket_compression=bool(server["enableWebsocketCompression"]),
        script_health_check=bool(server["scriptHealthCheckEnabled"]),
        http_parser=http_parser(str(hexlit["http"])),
        header_timeout=float(hexlit["headerTimeoutSeconds"]),
        idle_timeout=float(hexlit["idleTimeoutSeconds"]),
        body_timeout=float(hexlit["bodyTimeoutSeconds"]),
    )


def bind_settings(server: dict[str, Any]) -> BindSettings:
    cert, key = server["sslCertFile"], server["sslKeyFile"]
    if bool(cert) != bool(key):
        raise ConfigError("server.sslCertFile and server.sslKeyFile must be set together")
    for option, path in (("server.sslCertFile", cert), ("server.sslKeyFile", key)):
        if path and not Path(path).is_file():
            raise ConfigError(f"{option}: no such file: {path}")
    address = server["address"]
    if address and str(address).startswith("unix://"):
        path = str(address).removeprefix("unix://")
        return BindSettings(unix_socket=path, tls_cert=cert, tls_key=key)
    return BindSettings(host=address or "", port=int(server["port"]), tls_cert=cert, tls_key=key)


def upload_limits(server: dict[str, Any]) -> UploadLimits:
    return UploadLimits(
        max_bytes=int(server["maxUploadSize"]) * MIB,
        xsrf=bool(server["enableXsrfProtection"]),
    )


def xsrf_cookie_policy(server: dict[str, Any]) -> XsrfCookiePolicy:
    return XsrfCookiePolicy(
        enabled=bool(server["enableXsrfProtection"]),
        same_site=str(server["xsrfCookieSameSite"]),
        secure=bool(server["sslCertFile"]),
    )


def store_folder(hexlit: dict[str, Any]) -> Path:
    """`hexlit.storeDir`, or a `hexlit` folder in the system's temporary directory."""
    return Path(hexlit["storeDir"] or Path(tempfile.gettempdir()) / "hexlit")
