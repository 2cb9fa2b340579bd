"""Writing a framework-free `WebResponse` with Starlette."""

from __future__ import annotations

from starlette.responses import Response

from hexlit.adapters.web import responses

RawHeaders = list[tuple[bytes, bytes]]
BODILESS = frozenset({204, 304})


def raw_headers(answer: responses.WebResponse) -> RawHeaders:
    """The answer's headers as ASGI wants them, with its Content-Length.

    Built in one go (names lowercased, as Starlette's own `append` does): this runs for
    every frontend file and media answer, and per-header appends showed in profiles.
    """
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers
    ]
    if answer.status >= 200 and answer.status not in BODILESS:
        headers.append((b"content-length", str(answer.content_length).encode("latin-1")))
    return headers


def to_response(answer: responses.WebResponse, method: str = "GET") -> Response:
    """A framework-free `WebResponse` as a Starlette `Response` (no body for HEAD)."""
    response = Response(content=b"" if method == "HEAD" else answer.body, status_code=answer.status)
    response.raw_headers = raw_headers(answer)
    return response
