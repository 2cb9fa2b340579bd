"""`GET/HEAD/OPTIONS {base}/media/{file}`: media files, streamed, with byte ranges."""

from __future__ import annotations

from tornado.iostream import StreamClosedError

from hexlit.adapters.web import responses
from hexlit.adapters.web.tornado.render import WebResponseHandler
from hexlit.ports.errors import HexlitError
from hexlit.ports.media import Media
from hexlit.ports.status import ServerStatus


class MediaHandler(WebResponseHandler):
    def initialize(self, status: ServerStatus, media: Media) -> None:  # type: ignore[override]
        super().initialize(status)
        self._media = media

    async def get(self, name: str) -> None:
        head = self.request.method == "HEAD"
        allow = self.allow_origin()
        try:
            answer = await self._media.open(name, self.request.headers.get("Range"), head)
        except HexlitError as failure:
            self.write_response(responses.error(failure, allow))
            return
        rendered = responses.media(answer, allow)
        if head:
            self.write_response(rendered)
            return
        self.clear_header("Content-Type")
        self.set_status(rendered.status)
        for header, value in rendered.headers:
            self.add_header(header, value)
        self.set_header("Content-Length", str(rendered.content_length))
        body = answer.body
        try:
            await self.flush()  # the headers alone: no body chunk is copied behind them
            for_the_wire = self.request.connection
            assert for_the_wire is not None
            async for chunk in body:
                # The connection takes memoryviews as they are; `self.write` wants bytes
                # and would copy a chunk once more (docs/performance.md).
                await for_the_wire.write(chunk)  # type: ignore[arg-type]
        except StreamClosedError:
            return
        finally:
            await body.aclose()  # a body left half read closes now, not at GC
        self.finish()

    async def head(self, name: str) -> None:
        await self.get(name)

    def options(self, name: str) -> None:
        self.write_response(responses.preflight(self.allow_origin()))
