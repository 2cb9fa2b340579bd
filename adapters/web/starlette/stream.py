"""`/_stcore/stream`: the browser's WebSocket, translated into `Sessions` calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket

from hexlit.adapters.web import requests, responses
from hexlit.adapters.web.starlette.connection import StarletteConnection
from hexlit.adapters.web.starlette.render import to_response
from hexlit.adapters.web.status import HANDSHAKE_REFUSED
from hexlit.ports.errors import HexlitError, RuntimeUnavailable
from hexlit.ports.sessions import Handshake, Sessions


def handshake_of(websocket: WebSocket) -> Handshake:
    """The request parts the core decides on. Headers are read as latin-1, never failing."""
    headers = (
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, value in websocket.scope.get("headers", ())
    )
    return requests.handshake(headers, websocket.client.host if websocket.client else None)


def stream_endpoint(sessions: Sessions) -> Callable[[WebSocket], Awaitable[None]]:
    """The WebSocket endpoint for `/_stcore/stream`, closed over the `Sessions` use case."""

    async def stream(websocket: WebSocket) -> None:
        try:
            admission = sessions.admit(handshake_of(websocket))
        except HexlitError as refused:
            await _refuse(websocket, responses.error(refused))
            return
        await websocket.accept(subprotocol=admission.subprotocol)
        try:
            handle = await sessions.open(admission, StarletteConnection(websocket))
        except RuntimeUnavailable:
            return
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                await sessions.receive(
                    handle, data if data is not None else message.get("text", "")
                )
        finally:
            await sessions.close(handle)

    return stream


async def _refuse(websocket: WebSocket, answer: responses.WebResponse) -> None:
    """Answer the upgrade with a plain HTTP error, as Tornado does, when the server can.

    Servers without the denial-response extension turn a close before accept into 403.
    """
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(to_response(answer))
    else:
        await websocket.close(code=HANDSHAKE_REFUSED)
