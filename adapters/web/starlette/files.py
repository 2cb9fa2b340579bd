"""`/component/{name}/{path}` and `/app/static/{path}`: files from the app's folders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from hexlit.adapters.web import responses
from hexlit.adapters.web.compression import gzipped
from hexlit.adapters.web.starlette.media import ChunkStream
from hexlit.adapters.web.starlette.render import raw_headers, to_response
from hexlit.ports.components import AppStatic, Components
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.frontend import FileAnswer

Endpoint = Callable[[Request], Awaitable[Response]]


def component_endpoint(components: Components, cors: Cors) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return to_response(responses.preflight(allow))
        name, path = request.path_params["name"], request.path_params.get("path", "")
        try:
            answer = await components.get(
                name, path, request.method == "HEAD", request.headers.get("range")
            )
        except HexlitError as failure:
            return to_response(responses.error(failure, allow), request.method)
        return _file_response(request, responses.component_file(answer, allow), answer)

    return endpoint


def app_static_endpoint(app_static: AppStatic) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return to_response(responses.app_static_preflight())
        try:
            answer = await app_static.get(
                request.path_params["path"], request.method == "HEAD", request.headers.get("range")
            )
        except HexlitError as failure:
            return to_response(responses.error(failure, "*"), request.method)
        return _file_response(request, responses.app_static_file(answer), answer)

    return endpoint


def _file_response(
    request: Request, rendered: responses.WebResponse, answer: FileAnswer
) -> Response:
    """A large file streams from disk as it is; a buffered one may be gzipped."""
    if answer.stream is not None:
        return ChunkStream(answer.stream, rendered.status, raw_headers(rendered))
    accept_encoding = request.headers.get("accept-encoding")
    return to_response(gzipped(rendered, request.method, accept_encoding), request.method)
