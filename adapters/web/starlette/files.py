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
        rendered = responses.component_file(answer, allow)
        if answer.stream is not None:
            return ChunkStream(answer.stream, rendered.status, raw_headers(rendered))
        if request.method == "GET":
            rendered = gzipped(rendered, request.headers.get("accept-encoding"))
        return to_response(rendered, request.method)

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
        rendered = responses.app_static_file(answer)
        if answer.stream is not None:
            return ChunkStream(answer.stream, rendered.status, raw_headers(rendered))
        if request.method == "GET":
            rendered = gzipped(rendered, request.headers.get("accept-encoding"))
        return to_response(rendered, request.method)

    return endpoint
