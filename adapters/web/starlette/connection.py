"""`ClientConnection` over a Starlette `WebSocket`."""

from __future__ import annotations

import contextlib

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from hexlit.adapters.web.status import close_code, close_reason
from hexlit.ports.connection import CloseCause
from hexlit.ports.errors import ClientGone


class StarletteConnection:
    """Implements `ClientConnection`."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def send(self, frame: bytes) -> None:
        if self._websocket.application_state != WebSocketState.CONNECTED:
            raise ClientGone("connection closed")
        try:
            await self._websocket.send_bytes(frame)
        except (WebSocketDisconnect, RuntimeError, OSError) as error:
            raise ClientGone("connection closed") from error

    async def close(self, cause: CloseCause, reason: str) -> None:
        if self._websocket.application_state != WebSocketState.CONNECTED:
            return
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self._websocket.close(close_code(cause), close_reason(reason))
