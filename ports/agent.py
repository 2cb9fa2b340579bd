"""The agent API: a client without a browser drives the app over HTTP
(`/_stcore/agent/interact`) or as a remote MCP server (`/_stcore/agent/mcp`), and reads
how at `/_stcore/agent/openapi.json` (Streamlit 1.67's `server.enableAgentApi`).

The core decides who may call (Host, Origin, content type, body size, on or off); the
runtime, which alone knows the app, answers a call that got through.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from hexlit.ports.runtime import UserInfo

Headers = tuple[tuple[str, str], ...]


class AgentRoute(enum.Enum):
    """The three paths, named by their last segment below `/_stcore/agent/`."""

    INTERACT = "interact"
    SCHEMA = "openapi.json"
    MCP = "mcp"


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """One request to an agent route: its method and its headers as received."""

    route: AgentRoute
    method: str
    headers: Headers

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class AgentAnswer:
    """What an agent route answers: a status, a body and its type (None for no body),
    and any further headers (`Allow` on a 405, `Cache-Control` on the document)."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: Headers = ()


class AgentExchange(Protocol):
    """One request in progress: refused at once, or fed its body, then finished."""

    @property
    def refusal(self) -> AgentAnswer | None:
        """The answer when the request is decided without (more of) its body."""
        ...

    def feed(self, chunk: bytes) -> AgentAnswer | None:
        """Take the next piece of the body; the refusal once the body is too large
        (then stop reading and send it)."""
        ...

    async def finish(self, gone: Awaitable[object] | None = None) -> AgentAnswer:
        """The answer, once the whole body has been fed. `gone` completes when the client
        has left: the call is then cancelled (a retry collects its run), as Streamlit
        does, and the answer is one nobody reads."""
        ...


class Agent(Protocol):
    """The inbound port the web stacks call for `/_stcore/agent/*`."""

    def begin(self, request: AgentRequest) -> AgentExchange:
        """Start answering `request`; check `refusal` before reading any body."""
        ...


@dataclass(frozen=True, slots=True)
class AgentPaths:
    """Where the routes are served (base path included), and the OpenAPI document's
    server URL, relative to the document itself (a proxy may strip a prefix)."""

    interact: str
    schema: str
    mcp: str
    server_url: str


@dataclass(frozen=True, slots=True)
class AgentCall:
    """A call the core let through, for the runtime: the whole body (at most the cap),
    who the caller is (`st.user`, from the trusted identity headers) and the headers the
    app may read (`st.context.headers`)."""

    body: bytes
    user_info: UserInfo
    headers: Headers


@dataclass(frozen=True, slots=True)
class AgentReply:
    """The runtime's answer to a call: a status and a JSON body (empty: no body)."""

    status: int
    body: bytes


class AgentRuntime(Protocol):
    """What a runtime offers to serve the agent API. All methods run on the event loop."""

    def agent_schema(self, paths: AgentPaths, enabled: bool) -> bytes:
        """The OpenAPI document, saying whether the API is on."""
        ...

    async def agent_interact(self, call: AgentCall) -> AgentReply:
        """Answer one `interact` request (its body is the request, as JSON)."""
        ...

    async def agent_mcp(self, call: AgentCall) -> AgentReply:
        """Answer one JSON-RPC message of MCP's Streamable HTTP transport."""
        ...
