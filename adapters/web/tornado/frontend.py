"""Every other path under the base path: the frontend build, via the `Frontend` use case."""

from __future__ import annotations

from hexlit.adapters.web import responses
from hexlit.adapters.web.compression import compressible_frontend_path, gzipped
from hexlit.adapters.web.tornado.render import WebResponseHandler
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.frontend import FileAnswer, Frontend


class FrontendHandler(WebResponseHandler):
    def initialize(self, cors: Cors, frontend: Frontend) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._frontend = frontend

    async def _serve(self, path: str | None = None) -> None:
        """`path`: what follows the base path and its `/`, None for the base path itself."""
        method = self.request.method or "GET"
        path = "" if path is None else "/" + path
        try:
            answer = await self._frontend.get(path, method, self.request.query)
        except HexlitError as failure:
            self.write_response(responses.error(failure))
            return
        if isinstance(answer, FileAnswer):
            rendered = responses.file(answer)
            if compressible_frontend_path(path):
                rendered = gzipped(rendered, method, self.request.headers.get("Accept-Encoding"))
            self.write_response(rendered)
        else:
            self.write_response(responses.redirect(answer))

    get = head = post = put = patch = delete = options = _serve
