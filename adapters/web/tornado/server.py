"""Serving the Tornado application on a socket we bind ourselves."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable
from typing import Any, TypeVar, cast

from tornado import gen
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream, StreamClosedError

from hexlit.adapters.web import request_head, responses
from hexlit.adapters.web.request_head import BUFFERED_BODY_LIMIT
from hexlit.adapters.web.settings import BindSettings, WebSettings
from hexlit.adapters.web.sockets import bind_socket, bound_port, tls_context
from hexlit.adapters.web.tornado.app import HexlitApplication

CLOSE_TIMEOUT = 5.0
LINGER_SECONDS = 1.0
"""After a refusal, how long unread bytes are taken and dropped before the close, so the
client reads the answer instead of a reset."""
T = TypeVar("T")
TORNADO_BARE_400 = b"HTTP/1.1 400 Bad Request\r\n\r\n"
"""What Tornado writes, and nothing else, when its HTTP/1.1 parser refuses a request."""


class TornadoServer:
    """A running Tornado `HTTPServer`; `start` returns once it listens and the core runs.

    Tornado buffers request bodies whole: 1 MiB for every route but uploads, which stream
    (and raise the cap for themselves, bounded by the upload rules instead).
    """

    def __init__(self, app: HexlitApplication, web: WebSettings, bind: BindSettings) -> None:
        self._app = app
        self._bind = bind
        tls = tls_context(bind)
        self._server = GuardedHTTPServer(
            app,
            max_body_size=BUFFERED_BODY_LIMIT,
            xheaders=False,
            ssl_options=tls,
            protocol="https" if tls else None,  # the guarded stream is not an SSLIOStream
            max_header_size=2 * request_head.MAX_HEAD_BYTES,
        )
        self._server.web = web
        self._server.conn_params.header_timeout = None  # the guard times heads itself
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int | None:
        return bound_port(self._socket) if self._socket else None

    async def start(self) -> None:
        self._socket = bind_socket(self._bind)
        await self._app.start()
        self._server.add_sockets([self._socket])

    async def stop(self) -> None:
        self._server.stop()
        await self._app.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.close_all_connections(), CLOSE_TIMEOUT)


class GuardedHTTPServer(HTTPServer):
    """An `HTTPServer` whose connections read request heads through `GuardedStream`."""

    web: WebSettings

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        super().handle_stream(cast(IOStream, GuardedStream(stream, self.web)), address)


class GuardedStream:
    """A connection's `IOStream`, as Tornado's HTTP/1.1 code sees it: each request head is
    read under the rule both stacks share (`adapters/web/request_head.py`) and timed.

    Tornado reads a head with one `read_until_regex` and nothing else; that call is the one
    replaced. The wait for the first byte is the idle timeout; the rest of the head must
    come within the header timeout (else 408); a refused head gets its answer and a close.
    While a body is due, every read must be answered within the body timeout. Everything
    else is the stream's own.
    """

    def __init__(self, stream: IOStream, web: WebSettings) -> None:
        self._stream = stream
        self._web = web
        self._body_due = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def write(self, data: bytes | memoryview) -> Awaitable[None]:
        if data == TORNADO_BARE_400:  # its answer to a head its parser refused
            data = responses.closing_bytes(request_head.MALFORMED)
        return self._stream.write(data)

    def read_until_regex(self, regex: bytes, max_bytes: int | None = None) -> Awaitable[bytes]:
        return self._read_head()

    def read_bytes(self, num_bytes: int, partial: bool = False) -> Awaitable[bytes]:
        return self._body_read(self._stream.read_bytes(num_bytes, partial))

    def read_until(self, delimiter: bytes, max_bytes: int | None = None) -> Awaitable[bytes]:
        return self._body_read(self._stream.read_until(delimiter, max_bytes))

    def _body_read(self, read: Awaitable[bytes]) -> Awaitable[bytes]:
        if not self._body_due:
            return read
        return asyncio.ensure_future(self._within(self._web.body_timeout, read))

    async def _read_head(self) -> bytes:
        self._body_due = False
        stream = self._stream
        idle = stream.io_loop.call_later(self._web.idle_timeout, stream.close)
        try:
            first = await stream.read_bytes(1)
        finally:
            stream.io_loop.remove_timeout(idle)
        if not request_head.may_start_a_request(first):
            await self._refuse(request_head.NOT_HTTP)
        late = stream.io_loop.call_later(self._web.header_timeout, self._head_timed_out)
        try:
            rest = await stream.read_until_regex(request_head.HEAD_STOP.pattern)
        finally:
            stream.io_loop.remove_timeout(late)
        head = first + rest
        refusal = request_head.refusal(head, self._web.base_path)
        if refusal is not None:
            await self._refuse(refusal)
        self._body_due = request_head.declares_a_body(head)
        return head

    def _head_timed_out(self) -> None:
        """408, then the close (which ends the pending read); the client is too slow to
        wait for."""
        stream = self._stream
        if not stream.closed():
            sent = stream.write(responses.closing_bytes(request_head.HEAD_TIMEOUT))
            sent.add_done_callback(lambda _: stream.close())

    async def _within(self, seconds: float, read: Awaitable[T]) -> T:
        """`read`, or a close (and `StreamClosedError`) when it takes over `seconds`."""
        try:
            return await gen.with_timeout(
                self._stream.io_loop.time() + seconds, read, quiet_exceptions=StreamClosedError
            )
        except TimeoutError:
            self._stream.close()
            raise StreamClosedError() from None

    async def _refuse(self, answer: responses.WebResponse) -> Any:
        """Answer, stop sending, drop what the client still sends for a moment, close;
        Tornado sees a closed stream and ends the connection quietly."""
        stream = self._stream
        with contextlib.suppress(StreamClosedError, OSError, TimeoutError):
            await stream.write(responses.closing_bytes(answer))
            stream.socket.shutdown(socket.SHUT_WR)
            deadline = stream.io_loop.time() + LINGER_SECONDS
            while True:
                await gen.with_timeout(
                    deadline,
                    stream.read_bytes(64 * 1024, partial=True),
                    quiet_exceptions=StreamClosedError,
                )
        stream.close()
        raise StreamClosedError()
