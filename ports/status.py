"""The `ServerStatus` use case: the probes and the host configuration the frontend reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from hexlit.ports.cookies import Cookie
from hexlit.ports.runtime import Readiness

JsonValue = str | int | float | bool | None | list["JsonValue"] | Mapping[str, "JsonValue"]


class ServerStatus(Protocol):
    """Health, script health, host config and the XSRF cookie the probes hand out.

    The CORS answer those routes share with media and component files is the `Cors` port.
    """

    async def health(self) -> Readiness:
        """Whether browsers may connect now (`/_stcore/health`)."""
        ...

    async def script_health(self) -> Readiness:
        """Whether the app script runs without error (`/_stcore/script-health-check`).

        Raises `NotFound` when `server.scriptHealthCheckEnabled` is off.
        """
        ...

    def host_config(self) -> Mapping[str, JsonValue]:
        """The JSON document `/_stcore/host-config` answers with."""
        ...

    def check_request_hosts(self, hosts: Sequence[str], http_version: str) -> None:
        """Every HTTP request's `Host` lines (`http_version` as `1.1`), before any route
        runs: raises `BadRequest` for none in HTTP/1.1 or several (RFC 9112 §3.2), and,
        when `server.allowedHosts` is set, for an empty or malformed one."""
        ...

    def xsrf_cookie(self, cookie_header: str | None) -> Cookie | None:
        """The `_streamlit_xsrf` cookie the probes hand out (None when XSRF is off).

        `cookie_header`: the request's raw `Cookie` header (an existing token is kept).
        """
        ...
