"""Who may call the agent API, and what a refused caller is told (Streamlit 1.67's rules).

All three routes are always served, so the app's link to the document is never a dead
end: with the API off, `interact` answers 403 `not_available`, `mcp` a JSON-RPC error
with 400 (MCP clients read a 403 as an authorization failure), and the document says
`enabled: false`. Every answer links the document (`Link: <openapi.json>`, RFC 8631),
added where the web layer renders it (`adapters/web/responses.py`).

The checks run in Streamlit's order, before the body is read: the method, the Host
allow-list, the Origin (any `Origin` outside `server.corsAllowedOrigins` is refused,
same-origin included: programs send none, and a rebound page still sends its own), a
JSON `Content-Type` for a page's request, then, with the API on, the body cap
(`server.maxWidgetStateSize`, the bound a WebSocket frame has). No XSRF token: Streamlit
asks none here, the Origin and content-type rules stand in for it. The interact route's
errors are `{"error": {"code", "message"}}`; the MCP route's are JSON-RPC errors with
`id: null` and code -32600, the message prefixed with the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from hexlit.domain.origin_policy import OriginPolicy
from hexlit.ports.agent import (
    AgentAnswer,
    AgentCall,
    AgentPaths,
    AgentReply,
    AgentRequest,
    AgentRoute,
    AgentRuntime,
)
from hexlit.ports.runtime import UserInfo, UserInfoValue

AGENT_PREFIX: Final = "/_stcore/agent/"
JSONRPC_INVALID_REQUEST: Final = -32600
WITHHELD_HEADERS: Final = frozenset({"cookie", "authorization", "proxy-authorization"})
"""Never handed to the app as `st.context.headers`: credentials for whatever fronts it."""

# The words are Streamlit 1.67's, so a client sees the same answer from either server.
OFF: Final = (
    "This app does not serve the agent API. Its operator can turn it on with "
    "`server.enableAgentApi`."
)
NO_AGENT_RUNTIME: Final = (
    "This app's runtime cannot be driven by an agent: the agent API needs a Streamlit app."
)
BAD_HOST: Final = (
    "This request's Host is not in `server.allowedHosts`, which the app enforces for its "
    "WebSocket too."
)
BAD_ORIGIN: Final = (
    "This request came from a web page (it has an `Origin` header) whose origin is not in "
    "`server.corsAllowedOrigins`. Call the API from a program, which sends no `Origin` "
    "header."
)
PAGE_WITHOUT_JSON: Final = (
    "A request from a web page (it has an `Origin` header) must send "
    "`Content-Type: application/json`."
)

STATUS: Final[dict[str, int]] = {
    "not_available": 403,
    "host_not_allowed": 403,
    "origin_not_allowed": 403,
    "invalid_request": 400,
    "request_too_large": 413,
    "wait_timed_out": 202,
}


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """enabled: `server.enableAgentApi`. base_path: the normalised `server.baseUrlPath`.
    max_body_bytes: `server.maxWidgetStateSize` in bytes (MB of 10^6, as Streamlit).
    trusted_headers: `server.trustedUserHeaders` (header name -> `st.user` key)."""

    enabled: bool = False
    base_path: str = ""
    max_body_bytes: int = 25 * 1000 * 1000
    trusted_headers: Mapping[str, str] = field(default_factory=dict)


class AgentService:
    """Implements `Agent`: the rules above, then the runtime (None: it has no agent API,
    so every route answers as with the API off, the document included)."""

    def __init__(
        self, settings: AgentSettings, origins: OriginPolicy, runtime: AgentRuntime | None
    ) -> None:
        self._settings = settings
        self._origins = origins
        self._runtime = runtime
        self._listed = frozenset(origin.strip() for origin in origins.cors_allowed_origins)
        self._schema: bytes | None = None
        base = settings.base_path + AGENT_PREFIX
        schema = base + AgentRoute.SCHEMA.value
        self._paths = AgentPaths(
            interact=base + AgentRoute.INTERACT.value,
            schema=schema,
            mcp=base + AgentRoute.MCP.value,
            # One `..` per directory of the document's path, back to where paths start.
            server_url="/".join([".."] * (schema.count("/") - 1)),
        )

    @property
    def enabled(self) -> bool:
        return self._settings.enabled and self._runtime is not None

    def begin(self, request: AgentRequest) -> AgentExchange:
        return AgentExchange(self, request, self._refusal(request))

    def _refusal(self, request: AgentRequest) -> AgentAnswer | None:
        route = request.route
        if route is AgentRoute.SCHEMA:
            if request.method not in ("GET", "HEAD"):
                return AgentAnswer(405, content_type=None, headers=(("Allow", "GET, HEAD"),))
            return self._document()
        if request.method != "POST":
            return AgentAnswer(405, content_type=None, headers=(("Allow", "POST"),))
        if not self.enabled:  # whatever else is wrong with the request, as Streamlit
            message = NO_AGENT_RUNTIME if self._settings.enabled else OFF
            status = 400 if route is AgentRoute.MCP else None
            return refusal(route, "not_available", message, status)
        checked = self._checked(request)
        if checked is not None:
            return refusal(route, *checked)
        declared = request.header("content-length") or ""
        limit = self._settings.max_body_bytes
        # Compared by length first: `int` of thousands of digits is slow.
        digits = declared.isascii() and declared.isdigit()
        if digits and (len(declared) > len(str(limit)) or int(declared) > limit):
            return self.too_large(route)
        return None

    def _checked(self, request: AgentRequest) -> tuple[str, str] | None:
        """Host, Origin and a page's content type, in Streamlit's order."""
        if not self._origins.host_allowed(request.header("host")):
            return "host_not_allowed", BAD_HOST
        origin = request.header("origin")
        if origin is None:
            return None
        if origin not in self._listed:
            return "origin_not_allowed", BAD_ORIGIN
        content_type = request.header("content-type") or ""
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            return "invalid_request", PAGE_WITHOUT_JSON
        return None

    def _document(self) -> AgentAnswer:
        if self._schema is None:
            self._schema = (
                self._runtime.agent_schema(self._paths, self.enabled)
                if self._runtime is not None
                else None
            ) or b""
        if not self._schema:
            return refusal(AgentRoute.INTERACT, "not_available", NO_AGENT_RUNTIME)
        # Revalidated: the document changes when the API is turned on, and per release.
        return AgentAnswer(200, self._schema, headers=(("Cache-Control", "no-cache"),))

    def too_large(self, route: AgentRoute) -> AgentAnswer:
        limit = self._settings.max_body_bytes
        message = (
            f"The request body exceeds {limit} bytes, the limit `server.maxWidgetStateSize` sets."
        )
        return refusal(route, "request_too_large", message)

    async def answer(self, request: AgentRequest, body: bytes) -> AgentAnswer:
        assert self._runtime is not None  # only reached with the API on
        call = AgentCall(body, self.user_info(request), _app_headers(request))
        if request.route is AgentRoute.MCP:
            reply = await self._runtime.agent_mcp(call)
        else:
            reply = await self._runtime.agent_interact(call)
        return _from_reply(reply)

    def user_info(self, request: AgentRequest) -> UserInfo:
        """`st.user` from the trusted identity headers, as the WebSocket maps them (a
        missing header is None). Never the auth cookie: that is honoured only behind an
        XSRF token, which a cross-site request here could otherwise ride."""
        info: dict[str, UserInfoValue] = {}
        for header, key in self._settings.trusted_headers.items():
            info[key] = request.header(header)
        return info


class AgentExchange:
    """One request: its refusal, or its body gathered up to the cap, then the runtime."""

    def __init__(
        self, service: AgentService, request: AgentRequest, refused: AgentAnswer | None
    ) -> None:
        self._service = service
        self._request = request
        self._refusal = refused
        self._chunks: list[bytes] = []
        self._size = 0

    @property
    def refusal(self) -> AgentAnswer | None:
        return self._refusal

    def feed(self, chunk: bytes) -> AgentAnswer | None:
        if self._refusal is not None:
            return self._refusal
        self._size += len(chunk)
        if self._size > self._service._settings.max_body_bytes:
            self._chunks.clear()
            self._refusal = self._service.too_large(self._request.route)
            return self._refusal
        self._chunks.append(chunk)
        return None

    async def finish(self, gone: Awaitable[object] | None = None) -> AgentAnswer:
        if self._refusal is not None:
            return self._refusal
        call = self._service.answer(self._request, b"".join(self._chunks))
        if gone is None:
            return await call
        return await _unless_gone(call, gone, self._request.route)


async def _unless_gone(
    call: Awaitable[AgentAnswer], gone: Awaitable[object], route: AgentRoute
) -> AgentAnswer:
    """`call`'s answer, or, once the client has left, `call` cancelled: a client whose own
    timeout is shorter than `server.agentWaitTimeout` would otherwise leave its call in
    flight, and its retry would be told the session is busy. Cancelled, the call becomes
    a timed-out run, which the retry collects."""
    work = asyncio.ensure_future(call)
    left = asyncio.ensure_future(gone)
    try:
        await asyncio.wait({work, left}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        work.cancel()
        raise
    finally:
        left.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await left
    if work.done():
        return work.result()
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await work
    return refusal(route, "wait_timed_out", "The client disconnected before the run settled.")


def refusal(route: AgentRoute, code: str, message: str, status: int | None = None) -> AgentAnswer:
    """A request refused before its body is parsed, in the route's own error form."""
    if route is AgentRoute.MCP:
        document: dict[str, Any] = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": JSONRPC_INVALID_REQUEST, "message": f"{code}: {message}"},
        }
    else:
        document = {"error": {"code": code, "message": message}}
    return AgentAnswer(STATUS[code] if status is None else status, _json(document))


def _json(document: Any) -> bytes:
    """Compact, non-ASCII kept, as the agent API's bodies are written."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _app_headers(request: AgentRequest) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, value) for name, value in request.headers if name.lower() not in WITHHELD_HEADERS
    )


def _from_reply(reply: AgentReply) -> AgentAnswer:
    return AgentAnswer(reply.status, reply.body, "application/json" if reply.body else None)
