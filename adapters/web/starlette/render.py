"""Writing a framework-free `WebResponse` with Starlette."""

from __future__ import annotations

from starlette.responses import Response

from hexlit.adapters.web import responses


def to_response(answer: responses.WebResponse, method: str = "GET") -> Response:
    """A framework-free `WebResponse` as a Starlette `Response` (no body for HEAD)."""
    body = b"" if method == "HEAD" else answer.body
    response = Response(content=body, status_code=answer.status)
    for name, value in answer.headers:
        response.headers.append(name, value)
    if method == "HEAD" or answer.length is not None:
        response.headers["content-length"] = str(answer.content_length)
    return response
