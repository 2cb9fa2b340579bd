"""Every route of the web layer, declared once; each stack renders this table.

A row says what the route is: its path template below `settings.base_path`, its methods,
the use case that answers it (`Kind`), whether it streams a request body and whether it
is a WebSocket. `adapters/web/tornado/app.py` and `adapters/web/starlette/app.py` turn
the rows into their framework's routing and map each `Kind` to a handler; nothing else
in either stack names a path. The same templates label every request in the metrics and
traces (`route_template`, which the composition root hands to the core's `HttpTelemetry`),
so a label always names the route that answered.

Template syntax: `{name}` is one path segment (no `/`, not empty). The last placeholder
may instead take the rest of the path (`Tail.REST`: slashes included, possibly empty, as
Starlette's `{name:path}`), or that and its leading `/` may both be absent
(`Tail.OPTIONAL`). Adding a route is one row here plus its handler: once in
`adapters/web/handlers.py` for a plain HTTP route, else on each stack.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from typing import Final

from hexlit.adapters.web.settings import WebSettings
from hexlit.ports.web import WebUseCases


class Kind(enum.Enum):
    """The use case a route calls: each stack maps every kind to one handler."""

    HEALTH = "health"
    SCRIPT_HEALTH = "script health"
    HOST_CONFIG = "host config"
    METRICS = "metrics"
    MEDIA = "media"
    UPLOAD = "upload"
    COMPONENT = "component"
    BIDI_COMPONENT = "bidi component"
    STREAM = "stream"
    LOGIN = "login"
    OAUTH_CALLBACK = "oauth callback"
    LOGOUT = "logout"
    APP_STATIC = "app static"
    AGENT_INTERACT = "agent interact"
    AGENT_SCHEMA = "agent schema"
    AGENT_MCP = "agent mcp"
    FRONTEND = "frontend"


class Tail(enum.Enum):
    """How the template's last placeholder matches."""

    SEGMENT = "segment"
    """One segment, like every other placeholder."""
    REST = "rest"
    """The rest of the path: slashes included, possibly empty."""
    OPTIONAL = "optional"
    """The rest of the path, and the `/` before it may be missing too."""


@dataclass(frozen=True, slots=True)
class Route:
    template: str
    """The path below the base path, as written in metrics labels and span names."""
    kind: Kind
    methods: tuple[str, ...]
    """The HTTP methods it answers; any other is 405."""
    tail: Tail = Tail.SEGMENT
    body: bool = False
    """Takes a request body, streamed to the use case as it arrives (never buffered)."""
    websocket: bool = False
    """An upgrade to a WebSocket; a plain request with `methods` gets a 400."""

    def pattern(self, base_path: str = "") -> str:
        """This route as a regular expression with named groups (anchor it yourself)."""
        parts = re.split(r"\{(\w+)\}", self.template)  # literal, name, ..., literal
        regex = re.escape(base_path)
        for index in range(0, len(parts) - 1, 2):
            literal, name = parts[index], parts[index + 1]
            tail = self.tail if index + 2 == len(parts) - 1 else Tail.SEGMENT
            if tail is Tail.OPTIONAL:
                regex += re.escape(literal.removesuffix("/")) + f"(?:/(?P<{name}>.*))?"
            else:
                group = ".*" if tail is Tail.REST else "[^/]+"
                regex += re.escape(literal) + f"(?P<{name}>{group})"
        return regex + re.escape(parts[-1])


GET: Final = ("GET", "HEAD")
"""HEAD wherever GET (RFC 9110 §9.3.2; Starlette adds it to any GET route anyway)."""
READ: Final = (*GET, "OPTIONS")
EVERY_METHOD: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

ROUTES: Final[tuple[Route, ...]] = (
    Route("/_stcore/health", Kind.HEALTH, READ),
    Route("/_stcore/host-config", Kind.HOST_CONFIG, GET),
    Route("/_stcore/metrics", Kind.METRICS, READ),
    Route("/media/{file}", Kind.MEDIA, READ, Tail.REST),
    Route(
        "/_stcore/upload_file/{session_id}/{file_id}",
        Kind.UPLOAD,
        ("PUT", "DELETE", "OPTIONS"),
        body=True,
    ),
    Route("/component/{name}/{path}", Kind.COMPONENT, READ, Tail.OPTIONAL),
    Route("/_stcore/bidi-components/{name}/{path}", Kind.BIDI_COMPONENT, READ, Tail.OPTIONAL),
    Route("/_stcore/stream", Kind.STREAM, GET, websocket=True),
    Route("/_stcore/script-health-check", Kind.SCRIPT_HEALTH, READ),
    Route("/auth/login", Kind.LOGIN, GET),
    Route("/oauth2callback", Kind.OAUTH_CALLBACK, GET),
    Route("/auth/logout", Kind.LOGOUT, GET),
    Route("/app/static/{path}", Kind.APP_STATIC, READ, Tail.REST),
    # Every method reaches the agent rows: the core answers 405 with the `Link` to the
    # document, as Streamlit does (ADR 0019).
    Route("/_stcore/agent/interact", Kind.AGENT_INTERACT, EVERY_METHOD, body=True),
    Route("/_stcore/agent/openapi.json", Kind.AGENT_SCHEMA, EVERY_METHOD),
    Route("/_stcore/agent/mcp", Kind.AGENT_MCP, EVERY_METHOD, body=True),
    Route("/{path}", Kind.FRONTEND, EVERY_METHOD, Tail.OPTIONAL),
)
"""Streamlit 1.67's endpoints. Order matters: the first match answers, so the
frontend's catch-all (every other path, and the base path itself) comes last."""

AGENT_KINDS: Final = frozenset({Kind.AGENT_INTERACT, Kind.AGENT_SCHEMA, Kind.AGENT_MCP})

FRONTEND: Final = ROUTES[-1]


def served_routes(use_cases: WebUseCases, settings: WebSettings) -> tuple[Route, ...]:
    """The rows this server answers: the optional ones only when configured."""
    skipped = set()
    if not settings.script_health_check:
        skipped.add(Kind.SCRIPT_HEALTH)
    if use_cases.app_static is None:
        skipped.add(Kind.APP_STATIC)
    if use_cases.frontend is None:
        skipped.add(Kind.FRONTEND)
    if use_cases.agent is None:
        skipped |= AGENT_KINDS
    return tuple(route for route in ROUTES if route.kind not in skipped)


def route_template(path: str) -> str:
    """The template of the row that answers `path` (below the base path), the frontend's
    when no other does: metrics labels and span names stay a small, fixed set."""
    for matcher, template in _matchers():
        if matcher.match(path):
            return template
    return FRONTEND.template


@functools.cache
def _matchers() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(route.pattern() + r"\Z"), route.template) for route in ROUTES[:-1])
