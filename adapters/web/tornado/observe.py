"""Every request and WebSocket upgrade, reported to the core's `HttpObserver`.

Tornado has no middleware: `HexlitApplication.get_handler_delegate` (every route, the
default 404 and the refusals go through it) calls `observe` once. The exchange begins
when the headers are read; the handler runs in a context where the request's span is
current (Tornado starts the handler's task inside `execute`, which copies the context
we set there, and leaves the connection's own context alone). It ends when Tornado logs
the request (`log_request`, from every `finish`: the status is known, the 101 of an
upgrade included).
"""

from __future__ import annotations

import contextvars
from typing import Any

import tornado.web
from tornado.httputil import HTTPServerRequest

from hexlit.ports.tracing import Exchange, HttpObserver

_EXCHANGE = "_hexlit_exchange"


def observe(
    delegate: tornado.web._HandlerDelegate, observer: HttpObserver, request: HTTPServerRequest
) -> tornado.web._HandlerDelegate:
    """`delegate`, with its request observed from now until its status is sent."""
    exchange = observer.begin(request.method or "GET", request.path, request.headers.get)
    setattr(request, _EXCHANGE, exchange)
    execute = delegate.execute

    def observed_execute() -> Any:
        def run() -> Any:
            with exchange.active():
                return execute()

        prepared = contextvars.copy_context().run(run)
        # The handler exists now, and its task has not run yet.
        for name, value in exchange.response_headers():
            delegate.handler.add_header(name, value)
        return prepared

    delegate.execute = observed_execute  # type: ignore[method-assign]
    return delegate


def finished(handler: tornado.web.RequestHandler | None) -> None:
    """The handler's status is final (or it will send nothing more)."""
    if handler is None:
        return
    exchange: Exchange | None = getattr(handler.request, _EXCHANGE, None)
    if exchange is not None:
        exchange.finish(handler.get_status())
