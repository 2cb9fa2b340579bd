"""`/_stcore/stream`: the browser's WebSocket, translated into `Sessions` calls."""

from __future__ import annotations

import asyncio
from typing import Any

from tornado.websocket import WebSocketHandler, WebSocketProtocol

from hexlit.adapters.web import requests, responses
from hexlit.adapters.web.tornado.connection import TornadoConnection
from hexlit.adapters.web.tornado.websocket_rules import rfc_protocol
from hexlit.ports.errors import HexlitError, RuntimeUnavailable
from hexlit.ports.sessions import Admission, SessionHandle, Sessions


class StreamHandler(WebSocketHandler):
    """Admit in `prepare` (before the upgrade), then open, receive, close."""

    def initialize(self, sessions: Sessions, compression: bool) -> None:
        self._sessions = sessions
        self._compression = compression
        self._admission: Admission | None = None
        self._handle: SessionHandle | None = None
        self._socket_closed = False
        self.closed = asyncio.Event()
        self._closing: asyncio.Task[None] | None = None

    def prepare(self) -> None:
        if self.request.headers.get("Upgrade", "").lower() != "websocket":
            self._refuse(responses.error(responses.NOT_AN_UPGRADE))
            return
        try:
            handshake = requests.handshake(self.request.headers.get_all(), self.request.remote_ip)
            self._admission = self._sessions.admit(handshake)
        except HexlitError as refused:
            self._refuse(responses.error(refused))

    def _refuse(self, answer: responses.WebResponse) -> None:
        """Answer the upgrade request with a plain HTTP error instead of switching."""
        self.set_status(answer.status)
        for name, value in answer.headers:
            self.set_header(name, value)
        self.finish(answer.body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's own errors (405), answered exactly as the Starlette stack does."""
        self._refuse(responses.framework_error(status_code))

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        return rfc_protocol(self)  # Tornado's, failing frames RFC 6455 forbids

    def check_origin(self, origin: str) -> bool:
        return True  # decided by the core's origin policy in `prepare`

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return self._admission.subprotocol if self._admission else None

    def get_compression_options(self) -> dict[str, Any] | None:
        return {} if self._compression else None

    async def open(self, *args: str, **kwargs: str) -> None:
        assert self._admission is not None
        self.application.open_streams.add(self)  # type: ignore[attr-defined]
        self.set_nodelay(True)
        try:
            handle = await self._sessions.open(self._admission, TornadoConnection(self))
        except RuntimeUnavailable:
            return
        if self._socket_closed:  # the client left while the session was opening
            await self._sessions.close(handle)
        else:
            self._handle = handle

    async def on_message(self, message: str | bytes) -> None:
        if self._handle is not None:
            await self._sessions.receive(self._handle, message)

    def on_close(self) -> None:
        self._socket_closed = True
        self.closed.set()
        self.application.open_streams.discard(self)  # type: ignore[attr-defined]
        if self._handle is not None:
            handle, self._handle = self._handle, None
            self._closing = asyncio.ensure_future(self._sessions.close(handle))
