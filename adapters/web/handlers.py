"""The plain HTTP routes' handlers, written once for every stack (ADR 0017).

Probes, metrics, media, component and app-static files, auth and the frontend read a
few parts of the request and answer with a `WebResponse`, or a head and a body to
stream. What they read is a `PlainRequest`, which each stack builds in one small
function from its framework's request; what they return, each stack's `render.py`
writes. So neither stack holds a handler of its own for these routes: its `app.py`
routes their `Kind`s to one generic handler over `plain_handlers`.

The request-body routes (uploads, agent) and the WebSocket stay per stack: they stream
what the client sends, which is each framework's own business.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from hexlit.adapters.web import responses
from hexlit.adapters.web.compression import compressible_frontend_path, gzipped
from hexlit.adapters.web.responses import WebResponse
from hexlit.adapters.web.routes import Kind
from hexlit.ports.auth import Auth, AuthAnswer
from hexlit.ports.components import AppStatic, Components
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.frontend import FileAnswer, Frontend
from hexlit.ports.media import Chunk, Media
from hexlit.ports.metrics import Metrics
from hexlit.ports.runtime import Readiness
from hexlit.ports.status import ServerStatus
from hexlit.ports.web import WebUseCases


@dataclass(frozen=True, slots=True)
class PlainRequest:
    """What the plain handlers read of a request, taken from any framework's own."""

    method: str
    params: Mapping[str, str | None]
    """The route's path placeholders, decoded; an optional tail that is absent is
    missing or None."""
    query: str
    """The raw query string, without the `?`."""
    headers: Mapping[str, str]
    """The framework's own headers, read case-insensitively (`Cookie` as received)."""
    arguments: Callable[[str], Sequence[str]]
    """Every value of one query argument, parsed by the framework (parsed only when a
    handler asks: the frontend, the hot path, never does)."""

    def argument(self, name: str) -> str | None:
        """The last value of a query argument, as both frameworks read one."""
        values = self.arguments(name)
        return values[-1] if values else None


@dataclass(frozen=True, slots=True)
class Streamed:
    """An answer whose body streams: `head`'s status and headers, then `chunks`."""

    head: WebResponse
    chunks: AsyncGenerator[Chunk, None]


Answer = WebResponse | Streamed
PlainHandler = Callable[[PlainRequest], Awaitable[Answer]]


def plain_handlers(use_cases: WebUseCases) -> dict[Kind, PlainHandler]:
    """The handler of every plain route these use cases serve, by `Kind`."""
    status, cors = use_cases.status, use_cases.cors
    handlers: dict[Kind, PlainHandler] = {
        Kind.HEALTH: _probe(status, cors, status.health),
        Kind.SCRIPT_HEALTH: _probe(status, cors, status.script_health),
        Kind.HOST_CONFIG: _host_config(status, cors),
        Kind.METRICS: _metrics(use_cases.metrics, cors),
        Kind.MEDIA: _media(use_cases.media, cors),
        Kind.COMPONENT: _component(use_cases.components, cors),
        Kind.BIDI_COMPONENT: _component(use_cases.bidi_components, cors),
        Kind.LOGIN: _login(use_cases.auth),
        Kind.OAUTH_CALLBACK: _callback(use_cases.auth),
        Kind.LOGOUT: _logout(use_cases.auth),
    }
    if use_cases.app_static is not None:
        handlers[Kind.APP_STATIC] = _app_static(use_cases.app_static)
    if use_cases.frontend is not None:
        handlers[Kind.FRONTEND] = _frontend(use_cases.frontend)
    return handlers


def _probe(
    status: ServerStatus, cors: Cors, check: Callable[[], Awaitable[Readiness]]
) -> PlainHandler:
    """Health and script health: GET/HEAD run `check`, OPTIONS answers the preflight.
    Both carry the XSRF cookie: the frontend gets it here, before it uploads."""

    async def handle(request: PlainRequest) -> Answer:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return responses.preflight(allow)
        try:
            readiness = await check()
        except HexlitError as failure:
            return responses.error(failure, allow)
        cookie = status.xsrf_cookie(request.headers.get("cookie"))
        return responses.probe(readiness, allow, cookie)

    return handle


def _host_config(status: ServerStatus, cors: Cors) -> PlainHandler:
    async def handle(request: PlainRequest) -> Answer:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        return responses.json_document(status.host_config(), allow)

    return handle


def _metrics(metrics: Metrics, cors: Cors) -> PlainHandler:
    """`/_stcore/metrics`: OpenMetrics text, or protobuf when `Accept` asks for it (as
    Streamlit 1.67); `families` (repeatable) selects families."""

    async def handle(request: PlainRequest) -> Answer:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return responses.metrics_preflight(allow)
        names = list(request.arguments("families")) or None
        encoder = metrics.encoder_for(request.headers.get("accept"))
        families = await metrics.collect(names)
        rendered = responses.metrics(families, encoder, allow)
        return gzipped(rendered, request.method, request.headers.get("accept-encoding"))

    return handle


def _media(media: Media, cors: Cors) -> PlainHandler:
    """`/media/{file}`: streamed, with byte ranges; a HEAD answers the head alone."""

    async def handle(request: PlainRequest) -> Answer:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return responses.preflight(allow)
        head, file = request.method == "HEAD", request.params["file"] or ""
        try:
            answer = await media.open(file, request.headers.get("range"), head)
        except HexlitError as failure:
            return responses.error(failure, allow)
        rendered = responses.media(answer, allow)
        return rendered if head else Streamed(rendered, answer.body)

    return handle


def _component(components: Components, cors: Cors) -> PlainHandler:
    """`/component/{name}/{path}` and `/_stcore/bidi-components/{name}/{path}`."""

    async def handle(request: PlainRequest) -> Answer:
        allow = cors.cors_allow_origin(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return responses.preflight(allow)
        name, path = request.params["name"] or "", request.params.get("path") or ""
        try:
            answer = await components.get(
                name, path, request.method == "HEAD", request.headers.get("range")
            )
        except HexlitError as failure:
            return responses.error(failure, allow)
        return _file(request, responses.component_file(answer, allow), answer)

    return handle


def _app_static(app_static: AppStatic) -> PlainHandler:
    """`/app/static/{path}`: open to every origin, as Streamlit serves it."""

    async def handle(request: PlainRequest) -> Answer:
        if request.method == "OPTIONS":
            return responses.app_static_preflight()
        path = request.params.get("path") or ""
        try:
            answer = await app_static.get(
                path, request.method == "HEAD", request.headers.get("range")
            )
        except HexlitError as failure:
            return responses.error(failure, "*")
        return _file(request, responses.app_static_file(answer), answer)

    return handle


def _file(request: PlainRequest, rendered: WebResponse, answer: FileAnswer) -> Answer:
    """A large file streams from disk as it is; a buffered one may be gzipped."""
    if answer.stream is not None:
        return Streamed(rendered, answer.stream)
    return gzipped(rendered, request.method, request.headers.get("accept-encoding"))


def _login(auth: Auth) -> PlainHandler:
    async def handle(request: PlainRequest) -> Answer:
        answer = await auth.login(request.argument("provider"), request.headers.get("cookie"))
        return responses.auth(answer)

    return handle


def _callback(auth: Auth) -> PlainHandler:
    """The identity provider's redirect back: its code and state, or its error."""

    async def handle(request: PlainRequest) -> Answer:
        answer: AuthAnswer = await auth.callback(
            request.argument("code"),
            request.argument("state"),
            request.argument("error"),
            request.argument("error_description"),
            request.headers.get("cookie"),
        )
        return responses.auth(answer)

    return handle


def _logout(auth: Auth) -> PlainHandler:
    async def handle(request: PlainRequest) -> Answer:
        return responses.auth(await auth.logout(request.headers.get("cookie")))

    return handle


def _frontend(frontend: Frontend) -> PlainHandler:
    """Every other path under the base path: the frontend build. `path` is what follows
    the base path, with its `/`; empty for the base path itself."""

    async def handle(request: PlainRequest) -> Answer:
        rest = request.params.get("path")
        path = "" if rest is None else "/" + rest
        try:
            answer = await frontend.get(path, request.method, request.query)
        except HexlitError as failure:
            return responses.error(failure)
        if not isinstance(answer, FileAnswer):
            return responses.redirect(answer)
        rendered = responses.file(answer)
        if compressible_frontend_path(path):
            return gzipped(rendered, request.method, request.headers.get("accept-encoding"))
        return rendered

    return handle
