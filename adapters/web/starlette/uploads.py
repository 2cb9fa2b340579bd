"""`PUT/DELETE/OPTIONS {base}/_stcore/upload_file/{session}/{file}`: streamed uploads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from hexlit.adapters.web import requests, responses
from hexlit.adapters.web.starlette.render import to_response
from hexlit.ports.errors import HexlitError
from hexlit.ports.uploads import UploadRequest, Uploads


def upload_request(request: Request) -> UploadRequest:
    params = request.path_params
    return requests.upload_request(params["session_id"], params["file_id"], request.headers)


def upload_endpoint(uploads: Uploads) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        cors = uploads.cors(request.headers.get("origin"), request.headers.get("host"))
        try:
            if request.method == "PUT":
                await _receive(uploads, request)
            elif request.method == "DELETE":
                await uploads.delete(upload_request(request))
        except HexlitError as failure:
            return to_response(responses.upload_failed(failure, cors))
        except ClientDisconnect:  # aborted already; nobody is left to answer
            return Response(status_code=400)
        return to_response(responses.upload_done(cors))

    return endpoint


async def _receive(uploads: Uploads, request: Request) -> None:
    sink = await uploads.begin(upload_request(request))
    try:
        async for chunk in request.stream():
            if chunk:
                await sink.feed(chunk)
        await sink.finish()
    except (ClientDisconnect, Exception):
        await sink.abort()
        raise
