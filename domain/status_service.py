"""Health, script health and host config: the probes the frontend and operators call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hexlit.domain.origin_policy import OriginPolicy
from hexlit.ports.errors import NotFound
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


class StatusService:
    """Implements `ServerStatus`."""

    def __init__(
        self,
        runtime: AppRuntime,
        policy: OriginPolicy,
        host_config: HostConfig,
        script_health_enabled: bool,
    ) -> None:
        self._runtime = runtime
        self._policy = policy
        self._host_config = host_config.as_json()
        self._script_health_enabled = script_health_enabled

    async def health(self) -> Readiness:
        return await self._runtime.readiness()

    async def script_health(self) -> Readiness:
        if not self._script_health_enabled:
            raise NotFound("script health check is not enabled")
        return await self._runtime.script_health()

    def host_config(self) -> Mapping[str, JsonValue]:
        return self._host_config

    def cors_allow_origin(self, origin: str | None) -> str | None:
        return self._policy.cors_allow_origin(origin)
