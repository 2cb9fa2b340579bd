"""`GET/HEAD/OPTIONS {base}/media/{file}`: media files, streamed, with byte ranges."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hexlit.adapters.web import responses
from hexlit.adapters.web.starlette.render import RawHeaders, raw_headers, to_response
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.media import Chunk, Media


def media_endpoint(media: Media, cors: Cors) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return to_response(responses.preflight(allow))
        head = request.method == "HEAD"
        try:
            answer = await media.open(
                request.path_params["file"], request.headers.get("range"), head
            )
        except HexlitError as failure:
            return to_response(responses.error(failure, allow), request.method)
        rendered = responses.media(answer, allow)
        if head:
            return to_response(rendered, request.method)
        return ChunkStream(answer.body, rendered.status, raw_headers(rendered))

    return endpoint


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
