"""`AgentRuntime` on Streamlit 1.67's own agent runtime (`streamlit.runtime.agent`).

The sessions, their limits and TTL (`server.agentMaxSessions`, `server.agentSessionTTL`,
`server.agentWaitTimeout`, `server.agentPreviewRows`, read from Streamlit's config as
Streamlit reads them) are its `AgentSessionRegistry` over the running `Runtime`; the
snapshots, the error catalogue, the OpenAPI document and the MCP messages are its own
too. What is written here is the glue Streamlit keeps inside its Starlette routes: strict
JSON parsing, and the MCP route's dispatch. The core has already checked the caller and
capped the body.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable
from typing import Any, Final

from streamlit import config
from streamlit.runtime import Runtime
from streamlit.runtime.agent import errors, interaction, json_encoding, mcp, protocol, snapshot

from hexlit.ports.agent import AgentCall, AgentPaths, AgentReply

log = logging.getLogger("hexlit.runtime.streamlit.agent")

MEDIA_PATHS: Final = ("/media", "/app/static")
"""Where media URLs start, relative to the app's root: media, and app static files."""
APP_ROOT_FROM_ROUTE: Final = "../.."
"""From `/_stcore/agent/<route>` back to the app's root: URLs stay relative, since a
proxy that strips a prefix leaves the app no way to see where it is."""


class StreamlitAgent:
    """Implements `AgentRuntime` for the `Runtime` that `running()` returns (it raises
    `RuntimeUnavailable` while none runs). One session registry per `Runtime`."""

    def __init__(self, running: Callable[[], Runtime]) -> None:
        self._running = running
        self._registry: interaction.AgentSessionRegistry | None = None
        self._registry_runtime: Runtime | None = None

    def agent_schema(self, paths: AgentPaths, enabled: bool) -> bytes:
        document = protocol.build_openapi_document(
            interact_path=paths.interact,
            schema_path=paths.schema,
            mcp_path=paths.mcp,
            server_url=paths.server_url,
            enabled=enabled,
        )
        return json_encoding.response_body(document)

    async def agent_interact(self, call: AgentCall) -> AgentReply:
        try:
            payload = await asyncio.to_thread(parse_strict_json, call.body)
        except ValueError as bad:
            return _refused("invalid_request", f"The body is not valid JSON: {bad}.")
        if not isinstance(payload, dict):
            return _refused("invalid_request", "The body must be a JSON object.")
        return await self._interact(payload, call, "http")

    async def agent_mcp(self, call: AgentCall) -> AgentReply:
        if not call.body.strip():  # JSON-RPC has no empty message
            return _rpc_error(400, mcp.PARSE_ERROR, "Parse error: the body is empty.")
        try:
            payload = await asyncio.to_thread(parse_strict_json, call.body)
        except ValueError as bad:
            reason = f"Parse error: the body is not valid JSON: {bad}."
            return _rpc_error(400, mcp.PARSE_ERROR, reason)
        message = mcp.classify(payload)
        if message.kind == "batch":
            text = "Batches are not supported: send one message per request."
            return _rpc_error(200, mcp.INVALID_REQUEST, text)
        if message.kind == "invalid":
            text = "The body is not a JSON-RPC 2.0 request, notification, or response."
            return _rpc_error(400, mcp.INVALID_REQUEST, text)
        if message.kind != "request":  # a notification or a response: no answer
            return AgentReply(202, b"")
        version = _header(call, mcp.PROTOCOL_VERSION_HEADER)
        refused = mcp.request_refusal(message, version)
        if refused is not None:
            return AgentReply(refused[0], json_encoding.response_body(refused[1]))
        try:
            if message.method == "tools/call":
                return await self._call_tool(message, call)
            answer = mcp.answer(message, instructions=protocol.MCP_INSTRUCTIONS, tools=_tools())
            return AgentReply(200, json_encoding.response_body(answer))
        except Exception:
            log.exception("agent API MCP request failed")
            return _rpc_error(200, mcp.INTERNAL_ERROR, "Internal error.", message.id)

    async def _interact(
        self, payload: dict[str, Any], call: AgentCall, transport: Any
    ) -> AgentReply:
        """One interaction, for either route: the interact route's status and body."""
        try:
            body = await interaction.interact(
                self._sessions(),
                payload,
                transport=transport,
                user_info=dict(call.user_info),  # type: ignore[arg-type]
                headers=call.headers,
                encode=_encode_snapshot,
            )
        except errors.AgentRequestError as refused:
            return _refused(
                refused.code,
                refused.message,
                session_id=refused.session_id,
                details=refused.details,
            )
        except Exception:
            log.exception("agent API interaction failed")
            return _refused("internal_error", "The interaction could not be completed.")
        return AgentReply(200, body)

    async def _call_tool(self, message: mcp.Message, call: AgentCall) -> AgentReply:
        """`interact` through the interact route's path; `get_data` after the session's
        identity check."""
        tool = mcp.tool_call(message)
        if tool is None:
            return AgentReply(200, json_encoding.response_body(mcp.tool_call_refusal(message)))
        if tool.name == "interact":
            reply = await self._interact(tool.arguments, call, "mcp")
            rendered = await asyncio.to_thread(
                _tool_body, message.id, reply.body, reply.status >= 400
            )
            return AgentReply(200, rendered)
        sessions = self._sessions()
        try:
            arguments = mcp.parse_get_data_arguments(tool.arguments)
            session = sessions.get(arguments.session_id, dict(call.user_info))  # type: ignore[arg-type]
            sessions.app_session(session)
        except errors.AgentRequestError as refused:
            reason = refused.message
            if refused.code == "unknown_session":
                reason = mcp.unknown_session_message()
            result = mcp.tool_error(refused.code, reason)
            return AgentReply(
                200, json_encoding.response_body(mcp.jsonrpc_result(message.id, result))
            )
        media = self._running().media_file_mgr
        rendered = await asyncio.to_thread(mcp.render_get_data, message.id, media, arguments)
        return AgentReply(200, rendered)

    def close(self) -> None:
        """Forget the sessions (the runtime is stopping and closes them) and stop the
        registry's idle sweep, which would otherwise sleep on past the event loop."""
        registry, self._registry = self._registry, None
        self._registry_runtime = None
        sweeper: asyncio.Task[None] | None = getattr(registry, "_sweeper", None)
        if sweeper is not None:
            sweeper.cancel()

    def _sessions(self) -> interaction.AgentSessionRegistry:
        runtime = self._running()
        if self._registry is None or self._registry_runtime is not runtime:
            self._registry = interaction.AgentSessionRegistry(runtime)
            self._registry_runtime = runtime
        return self._registry


@functools.cache
def _tools() -> list[dict[str, Any]]:
    """The MCP tool list, built once: MCP requires it not to change during a connection,
    so the session TTL it states is read once."""
    return protocol.build_mcp_tools(session_ttl=float(config.get_option("server.agentSessionTTL")))


def _encode_snapshot(document: dict[str, Any]) -> bytes:
    snapshot.rebase_media_urls(document, paths=MEDIA_PATHS, prefix=APP_ROOT_FROM_ROUTE)
    return json_encoding.response_body(document)


def _tool_body(request_id: str | int | None, body: bytes, is_error: bool) -> bytes:
    result = mcp.tool_result(body.decode("utf-8"), is_error=is_error)
    return json_encoding.response_body(mcp.jsonrpc_result(request_id, result))


def _refused(
    code: Any,
    message: str,
    *,
    session_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AgentReply:
    body = errors.error_body(code, message, session_id=session_id, details=details)
    return AgentReply(errors.error_status(code), json_encoding.response_body(body))


def _rpc_error(
    status: int, code: int, message: str, request_id: str | int | None = None
) -> AgentReply:
    return AgentReply(
        status, json_encoding.response_body(mcp.jsonrpc_error(request_id, code, message))
    )


def _header(call: AgentCall, name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in call.headers if key.lower() == wanted), None)


def _no_constant(constant: str) -> None:
    raise json.JSONDecodeError(f"{constant} is not valid JSON", constant, 0)


def parse_strict_json(body: bytes) -> Any:
    """`body` as strict JSON (no NaN or Infinity); empty or blank is `{}`. Raises
    `ValueError` with a short reason for anything else."""
    if not body.strip():
        return {}
    try:
        # Decoded first: `json.loads` would take UTF-16 and UTF-32 bytes too.
        return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as bad:
        raise ValueError("it is not UTF-8") from bad
    except json.JSONDecodeError as bad:
        raise ValueError(bad.msg) from bad
    except RecursionError as bad:
        raise ValueError("it is nested too deeply") from bad
    except ValueError as bad:  # an integer longer than Python converts from text
        raise ValueError("it holds an integer too long to read") from bad
