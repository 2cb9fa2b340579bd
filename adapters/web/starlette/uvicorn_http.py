"""uvicorn's HTTP protocols (h11 and httptools), made to read each request head under the
rule both stacks share (`adapters/web/request_head.py`) and to time connections out.

uvicorn times out a keep-alive connection between requests, but not a fresh connection
that sends nothing, nor a head or a body sent a byte at a time (slowloris); its head size
limit depends on the parser (h11 bounds an incomplete head only, httptools not at all).
Here every connection has:

- an idle timeout: no byte of a request yet (on a new connection, or after a response);
- a header timeout: from the first byte of a head to its empty line (then 408);
- a body timeout: the longest silence while a request body is still due.

Heads are judged before the parser sees them. A pipelined request whose head arrived
with the previous request's bytes is judged when h11 holds it whole (httptools refuses
`Content-Length` with `Transfer-Encoding` itself); otherwise it is left to the parser's
own limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

from hexlit.adapters.web import request_head, responses
from hexlit.adapters.web.settings import WebSettings

LINGER_SECONDS = 1.0
"""After a refusal, how long unread bytes are taken and dropped before the close, so the
client reads the answer instead of a reset."""


class GuardedHttp:
    """The guard, mixed into a uvicorn HTTP protocol (it must come first in the bases)."""

    web: ClassVar[WebSettings]
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    access_log: bool
    flow: Any
    cycle: Any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.access_log = False  # never, whatever handlers the access logger has
        self._head = bytearray()
        self._refused = False
        self._timer: asyncio.TimerHandle | None = None
        self._arm(self.web.idle_timeout, self._close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._head or self.between_requests():
            if not self._head:
                self._arm(self.web.header_timeout, self._head_timed_out)
            self._head += data
            stop = request_head.HEAD_STOP.match(self._head)
            if stop is not None:
                head = bytes(self._head[: stop.end()])
                self._head.clear()
                self._disarm()
                refusal = request_head.refusal(head, self.web.base_path)
                if refusal is not None:
                    self.refuse(refusal)
                    return
        super().data_received(data)  # type: ignore[misc]
        if not self._head and not self._refused:
            self._watch_body()

    def between_requests(self) -> bool:
        """Whether the parser waits for a new request and holds no byte of one."""
        raise NotImplementedError

    def send_400_response(self, msg: str) -> None:
        """The parser refused what it read: the shared plain answer, then a close."""
        self.refuse(request_head.MALFORMED)

    def handle_websocket_upgrade(self, *args: Any) -> None:
        self._disarm()  # the WebSocket protocol takes the transport, and its own timers
        super().handle_websocket_upgrade(*args)  # type: ignore[misc]

    def refuse(self, answer: responses.WebResponse) -> None:
        """Answer, stop sending, and drop what the client still sends for a moment.

        A route already running (its body turned out malformed) is told the client left:
        its own answer is dropped instead of failing, and logged as an ASGI exception,
        on a connection that has had its answer."""
        self._refused = True
        self._disarm()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.write(responses.closing_bytes(answer))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm(LINGER_SECONDS, self._close)

    def _watch_body(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.disconnected:
            self._arm(self.web.body_timeout, self._body_timed_out)
        elif self._timer is not None:
            self._disarm()

    def _body_timed_out(self) -> None:
        if self.flow.read_paused:  # the app has not taken the last chunk: not a stall
            self._arm(self.web.body_timeout, self._body_timed_out)
        else:
            self._close()

    def _head_timed_out(self) -> None:
        self._head.clear()
        self.refuse(request_head.HEAD_TIMEOUT)

    def _close(self) -> None:
        self._timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _arm(self, seconds: float, then: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, then)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()  # type: ignore[misc]


class GuardedH11(GuardedHttp, H11Protocol):
    def between_requests(self) -> bool:
        import h11

        return self.conn.their_state in (h11.IDLE, h11.DONE) and not self.conn.trailing_data[0]

    def on_response_complete(self) -> None:
        """A pipelined head h11 already holds whole is judged before h11 serves it: h11
        alone would serve `Content-Length` with `Transfer-Encoding` and keep reading."""
        import h11

        pending = bytes(self.conn.trailing_data[0])
        if pending and self.conn.their_state is h11.DONE and not self.transport.is_closing():
            stop = request_head.HEAD_STOP.match(pending)
            if stop is not None:
                refusal = request_head.refusal(pending[: stop.end()], self.web.base_path)
                if refusal is not None:
                    self.refuse(refusal)
                    return
        super().on_response_complete()


def _guarded_httptools() -> type[GuardedHttp]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpTools(GuardedHttp, HttpToolsProtocol):
        """httptools consumes every byte it is fed, so between two messages its buffer is
        empty: the next byte starts a head."""

        _in_message = False

        def between_requests(self) -> bool:
            return not self._in_message

        def on_message_begin(self) -> None:
            self._in_message = True
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self._in_message = False
            super().on_message_complete()

    return GuardedHttpTools


def guarded_protocol(web: WebSettings) -> type[asyncio.Protocol]:
    """The HTTP protocol class for uvicorn's `http=`, for the parser `web` names."""
    base = GuardedH11 if web.http_parser == "h11" else _guarded_httptools()
    return type(f"Hexlit{base.__name__}", (base,), {"web": web})
