"""Writing framework-free answers with Starlette: the plain routes' one endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hexlit.adapters.web import responses
from hexlit.adapters.web.handlers import Answer, PlainHandler, PlainRequest, Streamed
from hexlit.ports.media import Chunk

RawHeaders = list[tuple[bytes, bytes]]
BODILESS = frozenset({204, 304})


def plain_endpoint(handler: PlainHandler) -> Callable[[Request], Awaitable[Response]]:
    """`handler` (`adapters/web/handlers.py`) as a Starlette endpoint."""

    async def endpoint(request: Request) -> Response:
        return to_response(await handler(plain_request(request)), request.method)

    return endpoint


def plain_request(request: Request) -> PlainRequest:
    """What the plain handlers read; the query is parsed only if one asks."""
    return PlainRequest(
        method=request.method,
        params=request.path_params,
        query=request.scope["query_string"].decode("latin-1"),  # no URL object built
        headers=request.headers,
        arguments=lambda name: request.query_params.getlist(name),
    )


def raw_headers(answer: responses.WebResponse) -> RawHeaders:
    """The answer's headers as ASGI wants them, with its Content-Length.

    Built in one go (names lowercased, as Starlette's own `append` does): this runs for
    every frontend file and media answer, and per-header appends showed in profiles.
    """
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers
    ]
    if answer.status >= 200 and answer.status not in BODILESS:
        headers.append((b"content-length", str(answer.content_length).encode("latin-1")))
    return headers


def to_response(answer: Answer, method: str = "GET") -> Response:
    """A framework-free answer as a Starlette `Response` (no body for HEAD)."""
    if isinstance(answer, Streamed):
        return ChunkStream(answer.chunks, answer.head.status, raw_headers(answer.head))
    response = Response(content=b"" if method == "HEAD" else answer.body, status_code=answer.status)
    response.raw_headers = raw_headers(answer)
    return response


class ChunkStream(Response):
    """Sends a store's chunks as they come, and stops reading when the client leaves.

    Starlette's `StreamingResponse` opens an anyio task group per response to watch for
    the disconnect. Here one plain task watches, and only from a second chunk on: most
    media answers (a range, a small file) are one chunk and need no watcher at all.
    """

    def __init__(
        self, chunks: AsyncGenerator[Chunk, None], status: int, headers: RawHeaders
    ) -> None:
        self.status_code = status
        self.raw_headers = headers
        self.background = None
        self._chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        left: asyncio.Task[None] | None = None
        first = True
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code,
                 "headers": self.raw_headers}
            )  # fmt: skip
            async for chunk in self._chunks:
                if not first:
                    if left is None:
                        left = asyncio.ensure_future(_disconnected(receive))
                    # A send to a client that left returns at once: yield, so the
                    # watcher runs and a long body stops within a chunk or two.
                    await asyncio.sleep(0)
                    if left.done():
                        return
                first = False
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # ASGI 2.4 servers raise when the client has gone
            return
        finally:
            if left is not None:
                left.cancel()  # it ends on the next loop turn; nothing waits for it
            await self._chunks.aclose()  # a body left half read closes now, not at GC


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
