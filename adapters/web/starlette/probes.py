"""`/_stcore/health`, `/_stcore/script-health-check`, `/_stcore/host-config`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from hexlit.adapters.web import responses
from hexlit.adapters.web.compression import gzipped
from hexlit.adapters.web.starlette.render import to_response
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.metrics import Metrics
from hexlit.ports.runtime import Readiness
from hexlit.ports.status import ServerStatus

Endpoint = Callable[[Request], Awaitable[Response]]


def probe_endpoint(
    status: ServerStatus, cors: Cors, check: Callable[[], Awaitable[Readiness]]
) -> Endpoint:
    """A health-style endpoint: GET/HEAD run `check`, OPTIONS answers the preflight."""

    async def endpoint(request: Request) -> Response:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return to_response(responses.preflight(allow))
        try:
            readiness = await check()
        except HexlitError as failure:
            return to_response(responses.error(failure, allow), request.method)
        cookie = status.xsrf_cookie(request.headers.get("cookie"))
        return to_response(responses.probe(readiness, allow, cookie), request.method)

    return endpoint


def host_config_endpoint(status: ServerStatus, cors: Cors) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        return to_response(responses.json_document(status.host_config(), allow), request.method)

    return endpoint


def metrics_endpoint(cors: Cors, metrics: Metrics) -> Endpoint:
    """`/_stcore/metrics`: OpenMetrics text, or protobuf when `Accept` asks for it (as
    Streamlit 1.67); `families` (repeatable) selects families."""

    async def endpoint(request: Request) -> Response:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return to_response(responses.metrics_preflight(allow))
        names = request.query_params.getlist("families") or None
        encoder = metrics.encoder_for(request.headers.get("accept"))
        families = await metrics.collect(names)
        rendered = responses.metrics(families, encoder, allow)
        accept_encoding = request.headers.get("accept-encoding")
        return to_response(gzipped(rendered, request.method, accept_encoding), request.method)

    return endpoint
