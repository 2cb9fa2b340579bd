"""Every other path under the base path: the frontend build, via the `Frontend` use case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from hexlit.adapters.web import responses
from hexlit.adapters.web.compression import compressible_frontend_path, gzipped
from hexlit.adapters.web.starlette.render import to_response
from hexlit.ports.errors import HexlitError
from hexlit.ports.frontend import FileAnswer, Frontend


def frontend_endpoint(frontend: Frontend) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        rest = request.path_params.get("path")
        path = "" if rest is None else "/" + rest
        try:
            query = request.scope["query_string"].decode("latin-1")  # no URL object built
            answer = await frontend.get(path, request.method, query)
        except HexlitError as failure:
            return to_response(responses.error(failure), request.method)
        if isinstance(answer, FileAnswer):
            rendered = responses.file(answer)
            if compressible_frontend_path(path):
                rendered = gzipped(rendered, request.method, request.headers.get("accept-encoding"))
            return to_response(rendered, request.method)
        return to_response(responses.redirect(answer), request.method)

    return endpoint
