"""Health, script health and host config: the probes the frontend and operators call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hexlit.domain.cookie_header import cookie_values
from hexlit.domain.origin_policy import OriginPolicy
from hexlit.domain.xsrf import XSRF_COOKIE, cookie_value_for
from hexlit.ports.clock import Clock
from hexlit.ports.cookies import Cookie
from hexlit.ports.errors import NotFound
from hexlit.ports.ids import IdSource
from hexlit.ports.runtime import AppRuntime, Readiness
from hexlit.ports.status import JsonValue


@dataclass(frozen=True, slots=True)
class HostConfig:
    """What `/_stcore/host-config` tells the frontend (spec §1.3.4).

    allowed_origins: `client.allowedOrigins`, the parent frames that may post messages
        into an embedded app.
    """

    allowed_origins: tuple[str, ...] = ()

    def as_json(self) -> Mapping[str, JsonValue]:
        return {
            "allowedOrigins": list(self.allowed_origins),
            "useExternalAuthToken": False,
            "enableCustomParentMessages": False,
            "enforceDownloadInNewTab": False,
            "metricsUrl": "",
            "blockErrorDialogs": False,
            "resourceCrossOriginMode": None,
        }


@dataclass(frozen=True, slots=True)
class XsrfCookiePolicy:
    """How the `_streamlit_xsrf` cookie is handed out (`server.enableXsrfProtection`,
    `server.xsrfCookieSameSite`; `secure` when serving HTTPS)."""

    enabled: bool = True
    same_site: str = "lax"
    secure: bool = False


class StatusService:
    """Implements `ServerStatus`."""

    def __init__(
        self,
        runtime: AppRuntime,
        policy: OriginPolicy,
        host_config: HostConfig,
        script_health_enabled: bool,
        xsrf: XsrfCookiePolicy,
        clock: Clock,
        ids: IdSource,
        draining: Callable[[], bool] | None = None,
    ) -> None:
        """`draining`: whether the server is handing its sessions on before it stops
        (readiness then fails at once, so load balancers stop sending browsers here)."""
        self._draining = draining
        self._runtime = runtime
        self._policy = policy
        self._host_config = host_config.as_json()
        self._script_health_enabled = script_health_enabled
        self._xsrf = xsrf
        self._clock = clock
        self._ids = ids

    async def health(self) -> Readiness:
        if self._draining is not None and self._draining():
            return Readiness(False, "server is draining")
        return await self._runtime.readiness()

    async def script_health(self) -> Readiness:
        if not self._script_health_enabled:
            raise NotFound("script health check is not enabled")
        return await self._runtime.script_health()

    def host_config(self) -> Mapping[str, JsonValue]:
        return self._host_config

    def check_request_hosts(self, hosts: Sequence[str], http_version: str) -> None:
        self._policy.check_request_hosts(hosts, http_version)

    def xsrf_cookie(self, cookie_header: str | None) -> Cookie | None:
        """The XSRF cookie: the same token as before (a new mask), else a fresh one.

        Not HttpOnly (the frontend reads it), path `/`, `SameSite=None` forces `Secure`.
        """
        if not self._xsrf.enabled:
            return None
        value = cookie_value_for(
            cookie_values(cookie_header, XSRF_COOKIE),
            self._ids.random_bytes(16),
            self._ids.random_bytes(4),
            int(self._clock.now()),
        )
        same_site = _SAME_SITE[self._xsrf.same_site]
        secure = self._xsrf.secure or same_site == "None"
        return Cookie(XSRF_COOKIE, value, path="/", same_site=same_site, secure=secure)


_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None"}
