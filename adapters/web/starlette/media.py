"""`GET/HEAD/OPTIONS {base}/media/{file}`: media files, streamed, with byte ranges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hexlit.adapters.web import responses
from hexlit.adapters.web.starlette.render import to_response
from hexlit.ports.errors import HexlitError
from hexlit.ports.media import Media
from hexlit.ports.status import ServerStatus


def media_endpoint(media: Media, status: ServerStatus) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        allow = status.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return to_response(responses.preflight(allow))
        head = request.method == "HEAD"
        try:
            answer = await media.open(
                request.path_params["name"], request.headers.get("range"), head
            )
        except HexlitError as failure:
            return to_response(responses.error(failure, allow), request.method)
        rendered = responses.media(answer, allow)
        if head:
            return to_response(rendered, request.method)
        streamed = StreamingResponse(answer.body, status_code=rendered.status)
        for name, value in rendered.headers:
            streamed.headers.append(name, value)
        streamed.headers["content-length"] = str(rendered.content_length)
        return streamed

    return endpoint
