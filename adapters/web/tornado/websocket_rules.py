"""Two RFC 6455 rules Tornado's WebSocket server does not enforce, added to its protocol.

The Starlette stack's WebSocket library (websockets) fails the connection on both; Tornado
6.6 does neither:

- §5.1: every client frame is masked; a server MUST close the connection on one that is
  not. Tornado unmasks when the bit is set and otherwise takes the frame as it comes.
- §5.5.1, §7.4: a close frame's body is empty or a valid code (1000-1003, 1007-1014,
  3000-4999) then UTF-8. Tornado echoes any code back (999 included), answers a one-byte
  body with a close without a code, and fails on a reason that is not UTF-8 only by
  raising out of its read loop.

Each breach is answered as the Starlette stack does: a close with 1002 (1007 for bad
UTF-8), then the connection dropped. This leans on Tornado internals (listed in
`docs/maintenance.md`, tornado bounded `<6.7`): `WebSocketProtocol13._receive_frame`
reads each frame's two-byte header first, with `_read_bytes`, and hands a whole close
frame to `_handle_message`.
"""

from __future__ import annotations

from tornado.concurrent import Future
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketHandler, WebSocketProtocol, WebSocketProtocol13

CLOSE_OPCODE = 0x8
MASK_BIT = 0x80
PROTOCOL_ERROR = 1002
INVALID_PAYLOAD = 1007
CLOSE_CODES_A_PEER_MAY_SEND = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})
"""RFC 6455 §7.4.1 and the IANA registry (1012-1014), less those never sent on the wire
(1004 reserved, 1005 and 1006 local only, 1015 TLS); 3000-4999 are also allowed."""


def close_frame_problem(body: bytes) -> tuple[int, str] | None:
    """(close code, reason) failing a close frame with `body`, or None if it is valid."""
    if not body:
        return None
    if len(body) == 1:
        return PROTOCOL_ERROR, "close frame with a one-byte body"
    code = int.from_bytes(body[:2], "big")
    if code not in CLOSE_CODES_A_PEER_MAY_SEND and not 3000 <= code <= 4999:
        return PROTOCOL_ERROR, "invalid close code"
    try:
        body[2:].decode("utf-8")
    except UnicodeDecodeError:
        return INVALID_PAYLOAD, "close reason is not UTF-8"
    return None


class RfcWebSocketProtocol13(WebSocketProtocol13):
    """Tornado's protocol, failing unmasked frames and invalid close frames."""

    _at_frame_header = False

    async def _receive_frame(self) -> None:
        self._at_frame_header = True
        await super()._receive_frame()

    async def _read_bytes(self, n: int) -> bytes:
        data = await super()._read_bytes(n)
        if self._at_frame_header:
            self._at_frame_header = False
            if not data[1] & MASK_BIT:
                self._fail(PROTOCOL_ERROR, "client frame not masked")
                raise StreamClosedError()  # ends Tornado's read loop, as a closed socket does
        return data

    def _handle_message(self, opcode: int, data: bytes) -> Future[None] | None:
        if opcode == CLOSE_OPCODE and not self.client_terminated:
            problem = close_frame_problem(data)
            if problem is not None:
                self._fail(*problem)
                return None
        return super()._handle_message(opcode, data)

    def _fail(self, code: int, reason: str) -> None:
        """Send the close frame, then drop the connection (RFC 6455 §7.1.7)."""
        self.close(code, reason)
        self._abort()


def rfc_protocol(handler: WebSocketHandler) -> WebSocketProtocol | None:
    """`handler`'s protocol as Tornado builds it, with the rules above when it is the
    version 13 one (every browser's). Swapping the class keeps whatever Tornado passes
    to its constructor, which is private and changes between releases."""
    protocol = WebSocketHandler.get_websocket_protocol(handler)
    if type(protocol) is WebSocketProtocol13:
        protocol.__class__ = RfcWebSocketProtocol13
    return protocol
