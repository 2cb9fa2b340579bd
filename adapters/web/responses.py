"""Use-case results rendered as plain HTTP responses, once for both stacks.

A front end asks for a `WebResponse` and writes its status, headers and body with its
framework's own calls; nothing here knows a framework.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from hexlit.adapters.web.status import http_status
from hexlit.ports.agent import AgentAnswer
from hexlit.ports.auth import AuthAnswer
from hexlit.ports.cookies import Cookie
from hexlit.ports.errors import (
    BadRequest,
    HexlitError,
    MethodNotAllowed,
    NotFound,
    RangeNotSatisfiable,
)
from hexlit.ports.frontend import FileAnswer, Redirect
from hexlit.ports.media import MediaAnswer
from hexlit.ports.metrics import MetricFamily, MetricsEncoder
from hexlit.ports.runtime import Readiness
from hexlit.ports.status import JsonValue
from hexlit.ports.uploads import UploadCors

Headers = tuple[tuple[str, str], ...]

TEXT = "text/plain; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
NO_CACHE = ("Cache-Control", "no-cache")


@dataclass(frozen=True, slots=True)
class WebResponse:
    status: int
    headers: Headers
    body: bytes
    length: int | None = None
    """Content-Length when it differs from `len(body)` (the answer to a HEAD request)."""

    @property
    def content_length(self) -> int:
        return len(self.body) if self.length is None else self.length


def _cors(allow_origin: str | None) -> Headers:
    return (("Access-Control-Allow-Origin", allow_origin),) if allow_origin else ()


def probe(readiness: Readiness, allow_origin: str | None, cookie: Cookie | None) -> WebResponse:
    """`/_stcore/health` and `/_stcore/script-health-check`: 200 or 503, never cached.

    Both answers carry the XSRF cookie: the frontend gets it here, before it uploads.
    """
    status = 200 if readiness.ready else 503
    headers = (("Content-Type", TEXT), NO_CACHE, *_cors(allow_origin), *_set_cookie(cookie))
    return WebResponse(status, headers, readiness.message.encode())


def set_cookie_header(cookie: Cookie) -> str:
    """A `Set-Cookie` value with the value written raw (Streamlit's frontend expects `|`)."""
    parts = [f"{cookie.name}={cookie.value}", f"Path={cookie.path}"]
    if cookie.max_age is not None:
        parts.append(f"Max-Age={cookie.max_age}")
    if cookie.same_site:
        parts.append(f"SameSite={cookie.same_site}")
    if cookie.secure:
        parts.append("Secure")
    if cookie.http_only:
        parts.append("HttpOnly")
    return "; ".join(parts)


def _set_cookie(cookie: Cookie | None) -> Headers:
    return (("Set-Cookie", set_cookie_header(cookie)),) if cookie else ()


def preflight(allow_origin: str | None) -> WebResponse:
    """OPTIONS on a probe: 204 with the standard CORS answer."""
    return WebResponse(204, (NO_CACHE, *_cors(allow_origin)), b"")


def json_document(document: Mapping[str, JsonValue], allow_origin: str | None) -> WebResponse:
    """A JSON body, never cached (`/_stcore/host-config`)."""
    body = json.dumps(document, separators=(",", ":")).encode()
    headers = (("Content-Type", "application/json"), NO_CACHE, *_cors(allow_origin))
    return WebResponse(200, headers, body)


NOT_FOUND = NotFound("Not Found")
METHOD_NOT_ALLOWED = MethodNotAllowed("Method Not Allowed")
NOT_AN_UPGRADE = BadRequest("expected a WebSocket upgrade request")


NOSNIFF = ("X-Content-Type-Options", "nosniff")
"""On every file answer (frontend, components, app static files, media): the browser
takes the declared type and never guesses one, so no uploaded or app-written file can
be sniffed into HTML or script. Added here, the one place every file route renders."""


def file(answer: FileAnswer) -> WebResponse:
    """A static file (the frontend build): its type, its cache policy, its bytes."""
    headers = (
        ("Content-Type", answer.asset.content_type),
        ("Cache-Control", answer.cache_control),
        NOSNIFF,
    )
    return WebResponse(200, headers, answer.body, length=answer.asset.size)


def component_file(answer: FileAnswer, allow_origin: str | None) -> WebResponse:
    """A custom component's file: its type, its cache policy, the standard CORS answer."""
    return _ranged_file(answer, _cors(allow_origin))


def app_static_file(answer: FileAnswer) -> WebResponse:
    """An app static file: any origin may load it (component iframes do), never sniffed."""
    return _ranged_file(answer, (("Access-Control-Allow-Origin", "*"),))


def _ranged_file(answer: FileAnswer, extra: Headers) -> WebResponse:
    """A file from a route that serves byte ranges: 200 with the whole file, or 206
    with `Content-Range` and the range's length."""
    headers = (*file(answer).headers, ("Accept-Ranges", "bytes"), *extra)
    if answer.content_range is None:
        return WebResponse(200, headers, answer.body, answer.asset.size)
    headers = (*headers, ("Content-Range", answer.content_range))
    return WebResponse(206, headers, answer.body, answer.length)


def app_static_preflight() -> WebResponse:
    headers = (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "GET, OPTIONS"),
        ("Access-Control-Allow-Headers", "Content-Type"),
    )
    return WebResponse(204, headers, b"")


def auth(answer: AuthAnswer) -> WebResponse:
    """A login, callback or logout answer: a 302 or a page, with its cookies; never cached."""
    cookies = tuple(("Set-Cookie", set_cookie_header(cookie)) for cookie in answer.cookies)
    no_store = ("Cache-Control", "no-store")
    if answer.page is not None:
        headers = (("Content-Type", "text/html; charset=utf-8"), no_store, *cookies)
        return WebResponse(400, headers, answer.page.html.encode())
    return WebResponse(302, (("Location", answer.location or "/"), no_store, *cookies), b"")


def redirect(answer: Redirect) -> WebResponse:
    """301, or 308 when the client must repeat its method; never cached."""
    status = 308 if answer.keep_method else 301
    return WebResponse(status, (("Location", answer.location), NO_CACHE), b"")


def metrics_text(families: Sequence[MetricFamily], allow_origin: str | None) -> WebResponse:
    """OpenMetrics text: `# TYPE`, `# UNIT`, `# HELP`, samples per family, then `# EOF`."""
    lines: list[str] = []
    for family in families:
        if not family.samples:
            continue
        lines.append(f"# TYPE {family.name} {family.type}")
        if family.unit:
            lines.append(f"# UNIT {family.name} {family.unit}")
        lines.append(f"# HELP {family.name} {family.help}")
        lines.extend(family.samples)
    lines.append("# EOF\n")
    headers = (("Content-Type", OPENMETRICS), *_cors(allow_origin))
    return WebResponse(200, headers, "\n".join(lines).encode())


def metrics(
    families: Sequence[MetricFamily], encoder: MetricsEncoder | None, allow_origin: str | None
) -> WebResponse:
    """The metrics in the form the core chose: `encoder`'s, or OpenMetrics text (None)."""
    if encoder is None:
        return metrics_text(families, allow_origin)
    headers = (("Content-Type", encoder.media_type), *_cors(allow_origin))
    return WebResponse(200, headers, encoder.encode(families))


def metrics_preflight(allow_origin: str | None) -> WebResponse:
    headers = (
        ("Access-Control-Allow-Methods", "GET, OPTIONS"),
        ("Access-Control-Allow-Headers", "Accept"),
        *_cors(allow_origin),
    )
    return WebResponse(204, headers, b"")


def upload_cors(cors: UploadCors) -> Headers:
    """The upload routes' CORS headers (spec §1.3.7)."""
    headers: list[tuple[str, str]] = [("Access-Control-Allow-Methods", "PUT, OPTIONS, DELETE")]
    if cors.credentials:
        headers += [
            ("Access-Control-Allow-Headers", "X-Xsrftoken, Content-Type"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Vary", "Origin"),
        ]
    else:
        headers.append(("Access-Control-Allow-Headers", "Content-Type"))
    return (*headers, *_cors(cors.allow_origin))


def upload_done(cors: UploadCors) -> WebResponse:
    """204 for a stored or deleted upload, and for the preflight."""
    return WebResponse(204, upload_cors(cors), b"")


def upload_failed(failure: HexlitError, cors: UploadCors) -> WebResponse:
    answer = error(failure)
    return WebResponse(answer.status, (*answer.headers, *upload_cors(cors)), answer.body)


def media(answer: MediaAnswer, allow_origin: str | None) -> WebResponse:
    """The head of a media answer; the body streams from `answer.body`."""
    headers: list[tuple[str, str]] = [
        ("Content-Type", answer.info.content_type),
        ("Accept-Ranges", "bytes"),
        ("Cache-Control", answer.cache_control),
        NOSNIFF,
    ]
    if answer.content_range:
        headers.append(("Content-Range", answer.content_range))
    if answer.disposition:
        headers.append(("Content-Disposition", answer.disposition))
    status = 206 if answer.content_range else 200
    return WebResponse(status, (*headers, *_cors(allow_origin)), b"", length=answer.length)


AGENT_LINK = ("Link", '<openapi.json>; rel="service-desc"')
"""On every agent API answer, errors most of all (RFC 8631): where the protocol is
described, relative to the route that answered (the document sits beside it)."""


def agent(answer: AgentAnswer) -> WebResponse:
    """An agent route's answer (`/_stcore/agent/*`), linking the protocol's description."""
    content_type = (("Content-Type", answer.content_type),) if answer.content_type else ()
    return WebResponse(answer.status, (*content_type, *answer.headers, AGENT_LINK), answer.body)


def framework_error(status: int) -> WebResponse:
    """An error the framework itself raised (no route, wrong method, a crash)."""
    if status == 404:
        return error(NOT_FOUND)
    if status == 405:
        return error(METHOD_NOT_ALLOWED)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return WebResponse(status, (("Content-Type", TEXT),), phrase.encode())


def error(failure: HexlitError, allow_origin: str | None = None) -> WebResponse:
    """A semantic error as a plain-text status with its (client-safe) reason."""
    headers: Headers = (("Content-Type", TEXT), *_cors(allow_origin))
    if isinstance(failure, RangeNotSatisfiable):
        headers = (*headers, ("Content-Range", f"bytes */{failure.size}"))
    return WebResponse(http_status(failure), headers, failure.reason.encode())


def refused(status: int, reason: str) -> WebResponse:
    """A request the server refuses before any route sees it (its head is not HTTP, too
    large, or too slow): the status and the reason, in plain text."""
    return WebResponse(status, (("Content-Type", TEXT),), reason.encode())


def closing_bytes(answer: WebResponse) -> bytes:
    """`answer` as HTTP/1.1 bytes that end the connection: for a server writing to the
    socket itself, before (or instead of) its HTTP library."""
    phrase = HTTPStatus(answer.status).phrase
    head = [f"HTTP/1.1 {answer.status} {phrase}"]
    head += [f"{name}: {value}" for name, value in answer.headers]
    head += [f"Content-Length: {len(answer.body)}", "Connection: close", "", ""]
    return "\r\n".join(head).encode("latin-1") + answer.body
