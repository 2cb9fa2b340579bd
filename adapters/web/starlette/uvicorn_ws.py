"""uvicorn's WebSocket protocol, made to answer handshakes it cannot parse and to send a
burst of frames in one write.

uvicorn's `websockets-sansio` protocol hands the upgrade request to the websockets parser,
which refuses header lines longer than 8 KiB by queueing a 431 answer that uvicorn never
writes: the client waits forever. hexlit answers such a request with the same plain 400
the core gives an over-long `Sec-WebSocket-Protocol` header on the Tornado stack; the
conformance suite pins it (test_malformed_subprotocol_header_is_refused_with_400).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from hexlit.adapters.web import responses
from hexlit.ports.errors import BadRequest

UNPARSABLE = BadRequest("request header too long or malformed")


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

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.handshake_initiated and self.conn.data_to_send():
            self._refuse_unparsable()

    def _refuse_unparsable(self) -> None:
        answer = responses.error(UNPARSABLE)
        head = [f"HTTP/1.1 {answer.status} Bad Request"]
        head += [f"{name}: {value}" for name, value in answer.headers]
        head += [f"Content-Length: {len(answer.body)}", "Connection: close", "", ""]
        self.transport.write("\r\n".join(head).encode("latin-1") + answer.body)
        self.handshake_initiated = self.handshake_complete = self.close_sent = True
        self.transport.close()
