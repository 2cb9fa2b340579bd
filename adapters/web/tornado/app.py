"""The Tornado application: one `URLSpec` per route, dependencies via `initialize`."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import tornado.web
from tornado.httputil import HTTPServerRequest
from tornado.log import access_log

from hexlit.adapters.web.settings import WebSettings
from hexlit.adapters.web.tornado.auth import AuthHandler
from hexlit.adapters.web.tornado.files import AppStaticHandler, ComponentHandler
from hexlit.adapters.web.tornado.frontend import FrontendHandler
from hexlit.adapters.web.tornado.media import MediaHandler
from hexlit.adapters.web.tornado.observe import finished, observe
from hexlit.adapters.web.tornado.probes import HostConfigHandler, MetricsHandler, ProbeHandler
from hexlit.adapters.web.tornado.render import NotFoundHandler, RefusedHandler
from hexlit.adapters.web.tornado.stream import StreamHandler
from hexlit.adapters.web.tornado.uploads import UploadHandler
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
    """Every route, under `settings.base_path`; the frontend catch-all goes last."""
    base = re.escape(settings.base_path)
    status, cors = use_cases.status, use_cases.cors
    stream = {"sessions": use_cases.sessions, "compression": settings.websocket_compression}
    handlers: list[Any] = [
        (
            rf"{base}/_stcore/health",
            ProbeHandler,
            {"cors": cors, "status": status, "check": status.health},
        ),
        (rf"{base}/_stcore/host-config", HostConfigHandler, {"cors": cors, "status": status}),
        (rf"{base}/_stcore/metrics", MetricsHandler, {"cors": cors, "metrics": use_cases.metrics}),
        (rf"{base}/media/(.+)", MediaHandler, {"cors": cors, "media": use_cases.media}),
        (
            rf"{base}/_stcore/upload_file/([^/]+)/([^/]+)",
            UploadHandler,
            {"cors": cors, "uploads": use_cases.uploads},
        ),
        (
            rf"{base}/component/([^/]+)/?(.*)",
            ComponentHandler,
            {"cors": cors, "components": use_cases.components},
        ),
        (
            rf"{base}/_stcore/bidi-components/([^/]+)/?(.*)",
            ComponentHandler,
            {"cors": cors, "components": use_cases.bidi_components},
        ),
        (rf"{base}/_stcore/stream", StreamHandler, stream),
    ]
    if settings.script_health_check:
        check = {"cors": cors, "status": status, "check": status.script_health}
        handlers.append((rf"{base}/_stcore/script-health-check", ProbeHandler, check))
    for path, action in (
        ("auth/login", "login"),
        ("oauth2callback", "callback"),
        ("auth/logout", "logout"),
    ):
        deps = {"cors": cors, "auth": use_cases.auth, "action": action}
        handlers.append((rf"{base}/{path}", AuthHandler, deps))
    if use_cases.app_static is not None:
        deps = {"cors": cors, "app_static": use_cases.app_static}
        handlers.append((rf"{base}/app/static/(.*)", AppStaticHandler, deps))
    if use_cases.frontend is not None:
        deps = {"cors": cors, "frontend": use_cases.frontend}
        handlers.append((rf"{base}(/.*)?", FrontendHandler, deps))
    return handlers


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
