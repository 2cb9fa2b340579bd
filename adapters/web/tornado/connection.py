"""`ClientConnection` over a Tornado `WebSocketHandler`."""

from __future__ import annotations

import asyncio

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from hexlit.adapters.web.status import close_code, close_reason
from hexlit.ports.connection import CloseCause
from hexlit.ports.errors import ClientGone


class TornadoConnection:
    """Implements `ClientConnection`."""

    def __init__(self, handler: WebSocketHandler) -> None:
        self._handler = handler

    async def send(self, frame: bytes) -> None:
        """The write is shielded: the core cancels a sender stuck on a client that stopped
        reading, and a cancel reaching Tornado's write future makes Tornado log an ERROR
        traceback for every slow client. The write itself ends when the socket closes."""
        try:
            await asyncio.shield(self._handler.write_message(frame, binary=True))
        except (WebSocketClosedError, StreamClosedError) as error:
            raise ClientGone("connection closed") from error

    async def close(self, cause: CloseCause, reason: str) -> None:
        if self._handler.ws_connection is None or self._handler.ws_connection.is_closing():
            return
        self._handler.close(close_code(cause), close_reason(reason))
