"""The ASGI application: the route table as Starlette routes, closed over the use cases."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from hexlit.adapters.web import responses, routes
from hexlit.adapters.web.handlers import plain_handlers
from hexlit.adapters.web.routes import served_routes
from hexlit.adapters.web.settings import WebSettings
from hexlit.adapters.web.starlette.agent import agent_endpoint
from hexlit.adapters.web.starlette.observe import ObserveRequests
from hexlit.adapters.web.starlette.render import plain_endpoint, to_response
from hexlit.adapters.web.starlette.stream import stream_endpoint
from hexlit.adapters.web.starlette.uploads import upload_endpoint
from hexlit.ports.agent import AgentRoute
from hexlit.ports.errors import HexlitError
from hexlit.ports.status import ServerStatus
from hexlit.ports.web import WebUseCases


def make_routes(use_cases: WebUseCases, settings: WebSettings) -> list[BaseRoute]:
    """The route table (`adapters/web/routes.py`) in Starlette's terms, under
    `settings.base_path`; a WebSocket row also answers a plain request with a 400."""
    endpoints = _endpoints(use_cases)
    routes: list[BaseRoute] = []
    for route in served_routes(use_cases, settings):
        methods = list(route.methods)
        for path in _paths(route, settings.base_path):
            if route.websocket:
                routes.append(WebSocketRoute(path, endpoints[route.kind]))
                routes.append(Route(path, _not_an_upgrade, methods=methods))
            else:
                routes.append(Route(path, endpoints[route.kind], methods=methods))
    return routes


def _paths(route: routes.Route, base_path: str) -> list[str]:
    """The row's template in Starlette's syntax: a tail is `{name:path}`, and an optional
    one is also the path without it (none when that is the empty base path)."""
    path = base_path + route.template
    if route.tail is routes.Tail.SEGMENT:
        return [path]
    head, _, name = path.rstrip("}").rpartition("{")
    with_tail = f"{head}{{{name}:path}}"
    without = head.removesuffix("/")
    return [with_tail, without] if route.tail is routes.Tail.OPTIONAL and without else [with_tail]


def _endpoints(use_cases: WebUseCases) -> dict[routes.Kind, Any]:
    """Each use case's endpoint, closed over its port: the plain routes all through one
    (`adapters/web/handlers.py`), the streamed bodies and the WebSocket their own."""
    endpoints: dict[routes.Kind, Any] = {
        kind: plain_endpoint(handler) for kind, handler in plain_handlers(use_cases).items()
    }
    endpoints[routes.Kind.UPLOAD] = upload_endpoint(use_cases.uploads)
    endpoints[routes.Kind.STREAM] = stream_endpoint(use_cases.sessions)
    if (agent := use_cases.agent) is not None:
        endpoints[routes.Kind.AGENT_INTERACT] = agent_endpoint(agent, AgentRoute.INTERACT)
        endpoints[routes.Kind.AGENT_SCHEMA] = agent_endpoint(agent, AgentRoute.SCHEMA)
        endpoints[routes.Kind.AGENT_MCP] = agent_endpoint(agent, AgentRoute.MCP)
    return endpoints


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
