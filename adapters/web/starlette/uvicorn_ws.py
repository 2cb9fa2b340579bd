"""uvicorn's WebSocket protocol, made to answer handshakes it cannot parse as both stacks
do, and to send a burst of frames in one write.

uvicorn's `websockets-sansio` protocol hands the upgrade request to the websockets parser
again. The HTTP protocol before it already judged the head (`request_head`), so a head too
large is answered 414 or 431 there; should the websockets parser refuse one anyway, it
gets the same shared answer, not the websockets library's own text.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import HeaderLineTooLong, RequestLineTooLong, TooManyHeaders

from hexlit.adapters.web import request_head, responses

UNPARSABLE = responses.refused(400, "malformed WebSocket handshake request")


class CoalescingTransport:
    """Frames written in one event-loop turn leave in one `send`.

    A rerun sends a burst of small frames. With `TCP_NODELAY` (needed for latency) each
    write is a packet of its own; joining the writes of one turn sends the burst in as few
    packets as the kernel likes, for the cost of one loop turn of delay.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HandshakeSafeWebSocketProtocol(WebSocketsSansIOProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # uvloop's transports are not asyncio.Transport subclasses; both write the same way.
        real = cast(asyncio.Transport, transport)
        self.transport = CoalescingTransport(real, self.loop)  # type: ignore[assignment]

    def handle_handshake_exception(self) -> None:
        """A handshake request the websockets parser refused: the shared answer, a close."""
        self.conn.data_to_send()  # the parser's own answer, not sent
        failure = self.conn.handshake_exc
        if isinstance(failure, RequestLineTooLong):
            answer = request_head.URI_TOO_LONG
        elif isinstance(failure, (HeaderLineTooLong, TooManyHeaders)):
            answer = request_head.FIELDS_TOO_LARGE
        else:
            answer = UNPARSABLE
        self.handshake_initiated = self.handshake_complete = self.close_sent = True
        self.transport.write(responses.closing_bytes(answer))
        self.transport.close()
