"""The Tornado application: the route table as `URLSpec`s, dependencies via `initialize`."""

from __future__ import annotations

import asyncio
from typing import Any

import tornado.web
from tornado.httputil import HTTPServerRequest
from tornado.log import access_log

from hexlit.adapters.web.handlers import plain_handlers
from hexlit.adapters.web.routes import Kind, served_routes
from hexlit.adapters.web.settings import WebSettings
from hexlit.adapters.web.tornado.agent import AgentHandler
from hexlit.adapters.web.tornado.observe import finished, observe
from hexlit.adapters.web.tornado.render import NotFoundHandler, PlainRouteHandler, RefusedHandler
from hexlit.adapters.web.tornado.stream import StreamHandler
from hexlit.adapters.web.tornado.uploads import UploadHandler
from hexlit.ports.agent import AgentRoute
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.lifecycle import Lifecycle
from hexlit.ports.status import ServerStatus
from hexlit.ports.tracing import HttpObserver
from hexlit.ports.web import WebUseCases


class HexlitApplication(tornado.web.Application):
    """A `tornado.web.Application` that also starts and stops hexlit's core.

    Tornado has no lifespan protocol: call `await app.start()` before serving and
    `await app.stop()` after, on the loop that serves it.
    """

    def __init__(
        self,
        lifecycle: Lifecycle,
        status: ServerStatus,
        cors: Cors,
        handlers: list[Any],
        **settings: Any,
    ) -> None:
        super().__init__(handlers, **settings)
        self._lifecycle = lifecycle
        self._status = status
        self._cors = cors
        self.open_streams: set[Any] = set()
        """The open `/_stcore/stream` handlers, so a shutdown can wait for their closing."""

    def find_handler(
        self, request: HTTPServerRequest, **kwargs: Any
    ) -> tornado.web._HandlerDelegate:
        """Every request's Host goes through the core before any route is chosen."""
        try:
            hosts = request.headers.get_list("Host")
            self._status.check_request_hosts(hosts, request.version.removeprefix("HTTP/"))
        except HexlitError as refused:
            deps = {"cors": self._cors, "refusal": refused}
            return self.get_handler_delegate(request, RefusedHandler, deps)
        return super().find_handler(request, **kwargs)

    def get_handler_delegate(
        self, request: HTTPServerRequest, target_class: Any, *args: Any, **kwargs: Any
    ) -> tornado.web._HandlerDelegate:
        """Every request (routed, 404 or refused) is observed from here."""
        delegate = super().get_handler_delegate(request, target_class, *args, **kwargs)
        observer: HttpObserver | None = self.settings.get("hexlit_observer")
        return observe(delegate, observer, request) if observer else delegate

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        finished(handler)
        super().log_request(handler)

    async def start(self) -> None:
        await self._lifecycle.start()

    async def stop(self, grace: float = 2.0) -> None:
        """Stop the core (it closes every socket as "going away"), then wait, at most
        `grace` seconds, for those closing handshakes: tearing the connections down
        earlier would drop the close frames still in Tornado's write buffers."""
        await self._lifecycle.stop()
        waits = [asyncio.ensure_future(stream.closed.wait()) for stream in self.open_streams]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=grace)
            for waiter in pending:
                waiter.cancel()


def make_handlers(use_cases: WebUseCases, settings: WebSettings) -> list[Any]:
    """The route table (`adapters/web/routes.py`) in Tornado's terms, under
    `settings.base_path`: one `URLSpec` per row, answering only the row's methods."""
    handlers = _handlers(use_cases, settings)
    return [
        (route.pattern(settings.base_path), _answering(handler, route.methods), deps)
        for route in served_routes(use_cases, settings)
        for handler, deps in (handlers[route.kind],)
    ]


def _handlers(use_cases: WebUseCases, settings: WebSettings) -> dict[Kind, tuple[type, Any]]:
    """Each use case's handler class and its `initialize` arguments: the plain routes all
    through one (`adapters/web/handlers.py`), the streamed bodies and the WebSocket their
    own."""
    cors = use_cases.cors
    handlers: dict[Kind, tuple[type, Any]] = {
        kind: (PlainRouteHandler, {"cors": cors, "handler": handler})
        for kind, handler in plain_handlers(use_cases).items()
    }
    handlers[Kind.UPLOAD] = (UploadHandler, {"cors": cors, "uploads": use_cases.uploads})
    handlers[Kind.STREAM] = (
        StreamHandler,
        {"sessions": use_cases.sessions, "compression": settings.websocket_compression},
    )
    for kind, route in (
        (Kind.AGENT_INTERACT, AgentRoute.INTERACT),
        (Kind.AGENT_SCHEMA, AgentRoute.SCHEMA),
        (Kind.AGENT_MCP, AgentRoute.MCP),
    ):
        handlers[kind] = (AgentHandler, {"cors": cors, "agent": use_cases.agent, "route": route})
    return handlers


def _answering(handler: type, methods: tuple[str, ...]) -> type:
    """`handler`, answering only `methods`: Tornado answers any other with 405 itself."""
    return type(handler.__name__, (handler,), {"SUPPORTED_METHODS": methods})


def create_app(use_cases: WebUseCases, settings: WebSettings) -> HexlitApplication:
    """The Tornado application for these use cases and settings."""
    return HexlitApplication(
        use_cases.lifecycle,
        use_cases.status,
        use_cases.cors,
        make_handlers(use_cases, settings),
        websocket_max_message_size=settings.max_message_bytes,
        websocket_ping_interval=settings.ping_interval,
        websocket_ping_timeout=settings.ping_interval,
        log_function=_log_failures_only,
        default_handler_class=NotFoundHandler,
        default_handler_args={"cors": use_cases.cors},
        hexlit_observer=use_cases.observer,
        transforms=[NoServerHeader],
    )


class NoServerHeader(tornado.web.OutputTransform):
    """No `Server: TornadoServer/<version>` on any answer (nor a server name on the
    Starlette stack): a version only helps whoever looks for a known flaw."""

    def transform_first_chunk(
        self, status_code: int, headers: Any, chunk: bytes, finishing: bool
    ) -> tuple[int, Any, bytes]:
        headers.pop("Server", None)
        return status_code, headers, chunk


def _log_failures_only(handler: tornado.web.RequestHandler) -> None:
    """No access log (as uvicorn is run), but server errors are worth a line."""
    if handler.get_status() >= 500:
        access_log.error("%d %s", handler.get_status(), handler._request_summary())
