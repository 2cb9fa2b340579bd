"""`/_stcore/health`, `/_stcore/script-health-check`, `/_stcore/host-config`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hexlit.adapters.web import responses
from hexlit.adapters.web.compression import gzipped
from hexlit.adapters.web.tornado.render import WebResponseHandler
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.metrics import Metrics
from hexlit.ports.runtime import Readiness
from hexlit.ports.status import ServerStatus


class ProbeHandler(WebResponseHandler):
    """A health-style endpoint: GET/HEAD run `check`, OPTIONS answers the preflight."""

    def initialize(  # type: ignore[override]
        self, cors: Cors, status: ServerStatus, check: Callable[[], Awaitable[Readiness]]
    ) -> None:
        super().initialize(cors)
        self._status = status
        self._check = check

    async def get(self) -> None:
        try:
            readiness = await self._check()
        except HexlitError as failure:
            self.write_response(responses.error(failure, self.allow_origin()))
            return
        cookie = self._status.xsrf_cookie(self.request.headers.get("Cookie"))
        self.write_response(responses.probe(readiness, self.allow_origin(), cookie))

    async def head(self) -> None:
        await self.get()

    def options(self) -> None:
        self.write_response(responses.preflight(self.allow_origin()))


class HostConfigHandler(WebResponseHandler):
    def initialize(self, cors: Cors, status: ServerStatus) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._status = status

    def get(self) -> None:
        self.write_response(
            responses.json_document(self._status.host_config(), self.allow_origin())
        )

    def head(self) -> None:
        self.get()


class MetricsHandler(WebResponseHandler):
    """`/_stcore/metrics`: OpenMetrics text, or protobuf when `Accept` asks for it (as
    Streamlit 1.67); `families` (repeatable) selects families."""

    def initialize(self, cors: Cors, metrics: Metrics) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._metrics = metrics

    async def get(self) -> None:
        names = self.get_query_arguments("families") or None
        encoder = self._metrics.encoder_for(self.request.headers.get("Accept"))
        families = await self._metrics.collect(names)
        rendered = responses.metrics(families, encoder, self.allow_origin())
        accept_encoding = self.request.headers.get("Accept-Encoding")
        self.write_response(gzipped(rendered, self.request.method, accept_encoding))

    async def head(self) -> None:
        await self.get()

    def options(self) -> None:
        self.write_response(responses.metrics_preflight(self.allow_origin()))
