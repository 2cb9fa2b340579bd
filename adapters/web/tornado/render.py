"""Writing framework-free answers with Tornado: the base of every HTTP handler, and the
plain routes' one handler."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from tornado.iostream import StreamClosedError
from tornado.web import RequestHandler

from hexlit.adapters.web import responses
from hexlit.adapters.web.handlers import PlainHandler, PlainRequest, Streamed
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.media import Chunk


class WebResponseHandler(RequestHandler):
    """Writes framework-free `WebResponse`s; the base of every plain HTTP handler here."""

    def write_response(self, answer: responses.WebResponse) -> None:
        self.clear_header("Content-Type")
        self.set_status(answer.status)
        for name, value in answer.headers:
            self.add_header(name, value)
        if self.request.method == "HEAD":
            self.set_header("Content-Length", str(answer.content_length))
            self.finish()
        elif answer.body:
            self.finish(answer.body)
        else:
            self.finish()

    async def write_streamed(
        self, answer: responses.WebResponse, chunks: AsyncGenerator[Chunk, None]
    ) -> None:
        """The head of `answer`, then `chunks` as they come (media, large files), each
        sent before the next is read; stops reading when the client leaves."""
        self.clear_header("Content-Type")
        self.set_status(answer.status)
        for header, value in answer.headers:
            self.add_header(header, value)
        self.set_header("Content-Length", str(answer.content_length))
        try:
            await self.flush()  # the headers alone: no body chunk is copied behind them
            for_the_wire = self.request.connection
            assert for_the_wire is not None
            async for chunk in chunks:
                # The connection takes memoryviews as they are; `self.write` wants bytes
                # and would copy a chunk once more (docs/performance.md).
                await for_the_wire.write(chunk)  # type: ignore[arg-type]
        except StreamClosedError:
            return
        finally:
            await chunks.aclose()  # a body left half read closes now, not at GC
        self.finish()

    def initialize(self, cors: Cors) -> None:
        self._cors_policy = cors

    def compute_etag(self) -> None:
        return None  # probes are never cached; answer exactly as the Starlette stack does

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's own errors (404, 405), answered exactly as the Starlette stack does."""
        self.write_response(responses.framework_error(status_code))

    def allow_origin(self) -> str | None:
        return self._cors_policy.cors_allow_origin(self.request.headers.get("Origin"))


class PlainRouteHandler(WebResponseHandler):
    """Any plain route: its handler (`adapters/web/handlers.py`) decides, this writes."""

    def initialize(self, cors: Cors, handler: PlainHandler) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._handler = handler

    async def _serve(self, **params: str | None) -> None:
        answer = await self._handler(plain_request(self, params))
        if isinstance(answer, Streamed):
            await self.write_streamed(answer.head, answer.chunks)
        else:
            self.write_response(answer)

    get = head = post = put = patch = delete = options = _serve


def plain_request(handler: RequestHandler, params: dict[str, str | None]) -> PlainRequest:
    """What the plain handlers read; `params` are Tornado's decoded path arguments."""
    request = handler.request
    return PlainRequest(
        method=request.method or "GET",
        params=params,
        query=request.query,
        headers=request.headers,
        arguments=handler.get_query_arguments,
    )


class NotFoundHandler(WebResponseHandler):
    """Every path no route matches: 404 for every method."""

    def prepare(self) -> None:
        self.write_response(responses.error(responses.NOT_FOUND))


class RefusedHandler(WebResponseHandler):
    """A request the core refused before routing (a bad Host): its error, any method."""

    def initialize(self, cors: Cors, refusal: HexlitError) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._refusal = refusal

    def prepare(self) -> None:
        self.write_response(responses.error(self._refusal))
