"""`GET/HEAD/OPTIONS {base}/media/{file}`: media files, streamed, with byte ranges."""

from __future__ import annotations

from hexlit.adapters.web import responses
from hexlit.adapters.web.tornado.render import WebResponseHandler
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.media import Media


class MediaHandler(WebResponseHandler):
    def initialize(self, cors: Cors, media: Media) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._media = media

    async def get(self, file: str) -> None:
        head = self.request.method == "HEAD"
        allow = self.allow_origin()
        try:
            answer = await self._media.open(file, self.request.headers.get("Range"), head)
        except HexlitError as failure:
            self.write_response(responses.error(failure, allow))
            return
        rendered = responses.media(answer, allow)
        if head:
            self.write_response(rendered)
            return
        await self.write_streamed(rendered, answer.body)

    async def head(self, file: str) -> None:
        await self.get(file)

    def options(self, file: str) -> None:
        self.write_response(responses.preflight(self.allow_origin()))
