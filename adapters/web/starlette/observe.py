"""Every request and WebSocket upgrade, reported to the core's `HttpObserver`.

The outermost middleware, so requests refused before routing (a bad Host) are seen too.
The exchange ends when the response status is sent; for a WebSocket, at the accept (101)
or at the refusal, as on Tornado, whose upgrade request ends there too.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hexlit.ports.tracing import HttpObserver


class ObserveRequests:
    """ASGI middleware: `observer.begin` per request, `finish(status)` once it is known."""

    def __init__(self, app: ASGIApp, observer: HttpObserver) -> None:
        self._app = app
        self._observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])

        def header(name: str) -> str | None:
            wanted = name.encode("latin-1")
            return next((v.decode("latin-1") for k, v in headers if k == wanted), None)

        method = scope.get("method", "GET")  # a WebSocket upgrade is a GET
        exchange = self._observer.begin(method, scope.get("path", ""), header)
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = message["status"]
                if added := exchange.response_headers():
                    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in added]
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
                if kind == "websocket.http.response.start":
                    exchange.finish(status)
            elif kind == "websocket.accept":
                exchange.finish(101)
            elif kind == "websocket.close":
                exchange.finish(403)  # closed before accepting: the server says 403
            await send(message)

        with exchange.active():
            try:
                await self._app(scope, receive, sending)
            finally:
                exchange.finish(status)
