"""`/component/{name}/{path}` and `/app/static/{path}`: files from the app's folders."""

from __future__ import annotations

from hexlit.adapters.web import responses
from hexlit.adapters.web.compression import gzipped
from hexlit.adapters.web.tornado.render import WebResponseHandler
from hexlit.ports.components import AppStatic, Components
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.frontend import FileAnswer


class ComponentHandler(WebResponseHandler):
    def initialize(self, cors: Cors, components: Components) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._components = components

    async def get(self, name: str, path: str = "") -> None:
        allow = self.allow_origin()
        try:
            answer = await self._components.get(
                name, path or "", self.request.method == "HEAD", self.request.headers.get("Range")
            )
        except HexlitError as failure:
            self.write_response(responses.error(failure, allow))
            return
        await _write_file(self, responses.component_file(answer, allow), answer)

    async def head(self, name: str, path: str = "") -> None:
        await self.get(name, path)

    def options(self, name: str, path: str = "") -> None:
        self.write_response(responses.preflight(self.allow_origin()))


class AppStaticHandler(WebResponseHandler):
    def initialize(self, cors: Cors, app_static: AppStatic) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._app_static = app_static

    async def get(self, path: str) -> None:
        try:
            answer = await self._app_static.get(
                path, self.request.method == "HEAD", self.request.headers.get("Range")
            )
        except HexlitError as failure:
            self.write_response(responses.error(failure, "*"))
            return
        await _write_file(self, responses.app_static_file(answer), answer)

    async def head(self, path: str) -> None:
        await self.get(path)

    def options(self, path: str) -> None:
        self.write_response(responses.app_static_preflight())


async def _write_file(
    handler: WebResponseHandler, rendered: responses.WebResponse, answer: FileAnswer
) -> None:
    """A large file streams from disk as it is; a buffered one may be gzipped."""
    if answer.stream is not None:
        await handler.write_streamed(rendered, answer.stream)
        return
    accept_encoding = handler.request.headers.get("Accept-Encoding")
    handler.write_response(gzipped(rendered, handler.request.method, accept_encoding))
