"""The ASGI application: routes as data, closed over the use cases."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from hexlit.adapters.web import responses
from hexlit.adapters.web.settings import WebSettings
from hexlit.adapters.web.starlette.auth import auth_routes
from hexlit.adapters.web.starlette.files import app_static_endpoint, component_endpoint
from hexlit.adapters.web.starlette.frontend import frontend_routes
from hexlit.adapters.web.starlette.media import media_endpoint
from hexlit.adapters.web.starlette.observe import ObserveRequests
from hexlit.adapters.web.starlette.probes import (
    host_config_endpoint,
    metrics_endpoint,
    probe_endpoint,
)
from hexlit.adapters.web.starlette.render import to_response
from hexlit.adapters.web.starlette.stream import stream_endpoint
from hexlit.adapters.web.starlette.uploads import upload_endpoint
from hexlit.ports.errors import HexlitError
from hexlit.ports.status import ServerStatus
from hexlit.ports.web import WebUseCases

PROBE_METHODS = ["GET", "HEAD", "OPTIONS"]


def make_routes(use_cases: WebUseCases, settings: WebSettings) -> list[BaseRoute]:
    """Every route, under `settings.base_path`; the frontend catch-all goes last."""
    base = settings.base_path
    status, cors = use_cases.status, use_cases.cors
    routes: list[BaseRoute] = [
        Route(
            f"{base}/_stcore/health",
            probe_endpoint(status, cors, status.health),
            methods=PROBE_METHODS,
        ),
        Route(
            f"{base}/_stcore/host-config",
            host_config_endpoint(status, cors),
            methods=["GET", "HEAD"],
        ),
        Route(
            f"{base}/_stcore/metrics",
            metrics_endpoint(cors, use_cases.metrics),
            methods=["GET", "OPTIONS"],
        ),
        Route(
            f"{base}/media/{{name:path}}",
            media_endpoint(use_cases.media, cors),
            methods=["GET", "HEAD", "OPTIONS"],
        ),
        Route(
            f"{base}/_stcore/upload_file/{{session_id}}/{{file_id}}",
            upload_endpoint(use_cases.uploads),
            methods=["PUT", "DELETE", "OPTIONS"],
        ),
        Route(
            f"{base}/component/{{name}}/{{path:path}}",
            component_endpoint(use_cases.components, cors),
            methods=["GET", "HEAD", "OPTIONS"],
        ),
        Route(
            f"{base}/_stcore/bidi-components/{{name}}/{{path:path}}",
            component_endpoint(use_cases.bidi_components, cors),
            methods=["GET", "HEAD", "OPTIONS"],
        ),
        WebSocketRoute(f"{base}/_stcore/stream", stream_endpoint(use_cases.sessions)),
        Route(f"{base}/_stcore/stream", _not_an_upgrade, methods=["GET", "HEAD"]),
    ]
    if settings.script_health_check:
        routes.append(
            Route(
                f"{base}/_stcore/script-health-check",
                probe_endpoint(status, cors, status.script_health),
                methods=PROBE_METHODS,
            )
        )
    routes += auth_routes(use_cases.auth, base)
    if use_cases.app_static is not None:
        routes.append(
            Route(
                f"{base}/app/static/{{path:path}}",
                app_static_endpoint(use_cases.app_static),
                methods=["GET", "HEAD", "OPTIONS"],
            )
        )
    if use_cases.frontend is not None:
        routes += frontend_routes(use_cases.frontend, base)
    return routes


def create_app(use_cases: WebUseCases, settings: WebSettings) -> Starlette:
    """The ASGI app; its lifespan starts and stops the core.

    Mount it in your own Starlette or FastAPI app as any ASGI app, and run its lifespan
    from yours (Starlette does not run the lifespans of mounted apps; docs/embedding.md).
    """
    lifecycle = use_cases.lifecycle

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await lifecycle.start()
        try:
            yield
        finally:
            await lifecycle.stop()

    app = Starlette(
        routes=make_routes(use_cases, settings),
        lifespan=lifespan,
        exception_handlers={404: _http_error, 405: _http_error},
        middleware=[Middleware(HostCheck, status=use_cases.status)],
    )
    if use_cases.observer is not None:  # outermost: it sees refused requests too
        app.add_middleware(ObserveRequests, observer=use_cases.observer)
    return app


class HostCheck:
    """Refuses an HTTP request whose `Host` the core refuses, before any route runs.

    WebSocket handshakes pass through: the session core's admission checks their Host
    (against the allow-list too), so an app that mounts these routes gets that as well.
    """

    def __init__(self, app: ASGIApp, status: ServerStatus) -> None:
        self._app = app
        self._status = status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hosts = [value.decode("latin-1") for name, value in scope["headers"] if name == b"host"]
            try:
                self._status.check_request_hosts(hosts, scope.get("http_version", "1.1"))
            except HexlitError as refused:
                answer = to_response(responses.error(refused), scope["method"])
                await answer(scope, receive, send)
                return
        await self._app(scope, receive, send)


async def _not_an_upgrade(request: Request) -> Response:
    return to_response(responses.error(responses.NOT_AN_UPGRADE), request.method)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405, answered exactly as the Tornado stack answers them."""
    code = exc.status_code if isinstance(exc, HTTPException) else 404
    return to_response(responses.framework_error(code), request.method)
