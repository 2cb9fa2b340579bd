"""uvicorn's WebSocket protocol, made to answer handshakes it cannot parse.

uvicorn's `websockets-sansio` protocol hands the upgrade request to the websockets parser,
which refuses header lines longer than 8 KiB by queueing a 431 answer that uvicorn never
writes: the client waits forever. hexlit answers such a request with the same plain 400
the core gives an over-long `Sec-WebSocket-Protocol` header on the Tornado stack; the
conformance suite pins it (test_malformed_subprotocol_header_is_refused_with_400).
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from hexlit.adapters.web import responses
from hexlit.ports.errors import BadRequest

UNPARSABLE = BadRequest("request header too long or malformed")


class HandshakeSafeWebSocketProtocol(WebSocketsSansIOProtocol):
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
