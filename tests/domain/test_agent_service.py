"""`AgentService`: who may call the agent API, in Streamlit 1.67's order, and what a
refused caller is told. The runtime is a recording fake: only a call that passes every
rule reaches it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from hexlit.domain.agent_service import AgentService, AgentSettings
from hexlit.domain.origin_policy import OriginPolicy
from hexlit.ports.agent import AgentAnswer, AgentCall, AgentPaths, AgentReply, AgentRequest
from hexlit.ports.agent import AgentRoute as R

PAGE = "https://app.example"


class RecordingRuntime:
    def __init__(self) -> None:
        self.calls: list[tuple[str, AgentCall]] = []
        self.schemas: list[tuple[AgentPaths, bool]] = []

    def agent_schema(self, paths: AgentPaths, enabled: bool) -> bytes:
        self.schemas.append((paths, enabled))
        return json.dumps({"enabled": enabled}).encode()

    async def agent_interact(self, call: AgentCall) -> AgentReply:
        self.calls.append(("interact", call))
        return AgentReply(200, b'{"ok":true}')

    async def agent_mcp(self, call: AgentCall) -> AgentReply:
        self.calls.append(("mcp", call))
        return AgentReply(202, b"")


def service(
    runtime: RecordingRuntime | None, enabled: bool = True, **settings: Any
) -> AgentService:
    policy = OriginPolicy(
        cors_allowed_origins=(f" {PAGE} ",), allowed_hosts=settings.pop("hosts", ())
    )
    return AgentService(AgentSettings(enabled=enabled, **settings), policy, runtime)


def run(agent: AgentService, request: AgentRequest, *chunks: bytes) -> AgentAnswer:
    exchange = agent.begin(request)
    if exchange.refusal is not None:
        return exchange.refusal
    for chunk in chunks:
        refused = exchange.feed(chunk)
        if refused is not None:
            return refused
    return asyncio.run(exchange.finish())


def post(route: R, *headers: tuple[str, str]) -> AgentRequest:
    return AgentRequest(route, "POST", (("Host", "app.example"), *headers))


def error_code(answer: AgentAnswer, route: R = R.INTERACT) -> str:
    document = json.loads(answer.body)
    if route is R.MCP:
        assert document["id"] is None
        assert document["error"]["code"] == -32600
        return str(document["error"]["message"]).split(":", 1)[0]
    return str(document["error"]["code"])


@pytest.mark.parametrize("route", [R.INTERACT, R.MCP])
def test_off_answers_not_available_whatever_else_is_wrong(route: R) -> None:
    runtime = RecordingRuntime()
    agent = service(runtime, enabled=False, hosts=("only.example",))
    answer = run(agent, post(route, ("Origin", "https://evil.example")), b"{}")
    assert answer.status == (403 if route is R.INTERACT else 400)
    assert error_code(answer, route) == "not_available"
    assert runtime.calls == []


def test_off_still_serves_the_document_saying_so() -> None:
    runtime = RecordingRuntime()
    answer = run(service(runtime, enabled=False), AgentRequest(R.SCHEMA, "GET", ()))
    assert (answer.status, json.loads(answer.body)) == (200, {"enabled": False})
    assert ("Cache-Control", "no-cache") in answer.headers


def test_the_document_names_the_paths_under_the_base_path() -> None:
    runtime = RecordingRuntime()
    run(service(runtime, base_path="/a/b"), AgentRequest(R.SCHEMA, "HEAD", ()))
    paths, enabled = runtime.schemas[0]
    assert enabled
    assert paths == AgentPaths(
        "/a/b/_stcore/agent/interact",
        "/a/b/_stcore/agent/openapi.json",
        "/a/b/_stcore/agent/mcp",
        "../../../..",  # from the document back to /, where the paths start
    )


def test_without_an_agent_runtime_everything_is_not_available() -> None:
    agent = service(None)
    assert not agent.enabled
    for request in (post(R.INTERACT), AgentRequest(R.SCHEMA, "GET", ())):
        answer = run(agent, request, b"{}")
        assert (answer.status, error_code(answer)) == (403, "not_available")


@pytest.mark.parametrize(
    ("route", "method", "allow"),
    [(R.INTERACT, "GET", "POST"), (R.MCP, "PUT", "POST"), (R.SCHEMA, "POST", "GET, HEAD")],
)
def test_other_methods_are_405_with_allow(route: R, method: str, allow: str) -> None:
    answer = run(service(RecordingRuntime()), AgentRequest(route, method, ()))
    assert (answer.status, answer.body, answer.headers) == (405, b"", (("Allow", allow),))


@pytest.mark.parametrize("route", [R.INTERACT, R.MCP])
@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ((("Host", "evil.example"), ("Origin", "https://evil.example")), "host_not_allowed"),
        ((("Origin", "https://evil.example"),), "origin_not_allowed"),
        ((("Origin", "http://app.example"),), "origin_not_allowed"),  # same-origin too
        ((("Origin", PAGE), ("Content-Type", "text/plain")), "invalid_request"),
        ((("Origin", PAGE),), "invalid_request"),
    ],
)
def test_checks_run_in_streamlits_order(
    route: R, headers: tuple[tuple[str, str], ...], code: str
) -> None:
    runtime = RecordingRuntime()
    agent = service(runtime, hosts=("app.example",))
    request = AgentRequest(route, "POST", (("Host", "app.example"), *headers))
    if headers[0][0] == "Host":
        request = AgentRequest(route, "POST", headers)
    answer = run(agent, request, b"{}")
    assert error_code(answer, route) == code
    assert answer.status == (400 if code == "invalid_request" else 403)
    assert runtime.calls == []


def test_a_listed_page_sending_json_and_a_program_get_through() -> None:
    runtime = RecordingRuntime()
    agent = service(runtime, hosts=("app.example",))
    page = post(R.INTERACT, ("Origin", PAGE), ("Content-Type", "application/json; charset=utf-8"))
    assert run(agent, page, b"{}").status == 200
    assert run(agent, post(R.MCP), b"{}").status == 202
    assert [name for name, _ in runtime.calls] == ["interact", "mcp"]


@pytest.mark.parametrize("route", [R.INTERACT, R.MCP])
def test_a_declared_oversized_body_is_refused_before_reading(route: R) -> None:
    runtime = RecordingRuntime()
    agent = service(runtime, max_body_bytes=10)
    for declared in ("11", "9" * 5000):
        exchange = agent.begin(post(route, ("Content-Length", declared)))
        assert exchange.refusal is not None
        assert exchange.refusal.status == 413
        assert error_code(exchange.refusal, route) == "request_too_large"
    assert agent.begin(post(route, ("Content-Length", "10"))).refusal is None


def test_a_body_past_the_cap_is_refused_while_it_streams() -> None:
    runtime = RecordingRuntime()
    agent = service(runtime, max_body_bytes=10)
    answer = run(agent, post(R.INTERACT), b"12345", b"678901")
    assert (answer.status, error_code(answer)) == (413, "request_too_large")
    assert runtime.calls == []
    assert run(agent, post(R.INTERACT), b"12345", b"67890").status == 200
    assert runtime.calls[0][1].body == b"1234567890"


def test_the_runtime_gets_the_trusted_identity_and_no_credentials() -> None:
    runtime = RecordingRuntime()
    agent = service(runtime, trusted_headers={"X-User": "email", "X-Name": "name"})
    request = post(
        R.INTERACT,
        ("X-User", "a@example.com"),
        ("Cookie", "_streamlit_user=forged"),
        ("Authorization", "Bearer secret"),
        ("X-Trace", "1"),
    )
    run(agent, request, b"{}")
    call = runtime.calls[0][1]
    assert call.user_info == {"email": "a@example.com", "name": None}
    assert [name for name, _ in call.headers] == ["Host", "X-User", "X-Trace"]


class StuckRuntime(RecordingRuntime):
    """An app whose run never settles: the call waits until it is cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = False

    async def agent_interact(self, call: AgentCall) -> AgentReply:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        raise AssertionError("unreachable")


def test_a_client_that_leaves_cancels_its_call() -> None:
    """As Streamlit: the wait ends when the client goes, so its retry can collect the
    run instead of being told the session is busy."""
    runtime = StuckRuntime()

    async def scenario() -> AgentAnswer:
        exchange = service(runtime).begin(post(R.INTERACT))
        assert exchange.feed(b"{}") is None
        left = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(left.set_result, None)
        return await asyncio.wait_for(exchange.finish(left), timeout=5)

    answer = asyncio.run(scenario())
    assert (answer.status, error_code(answer)) == (202, "wait_timed_out")
    assert runtime.cancelled


def test_a_client_that_stays_gets_the_answer() -> None:
    runtime = RecordingRuntime()

    async def scenario() -> AgentAnswer:
        exchange = service(runtime).begin(post(R.INTERACT))
        never = asyncio.get_running_loop().create_future()
        return await asyncio.wait_for(exchange.finish(never), timeout=5)

    assert asyncio.run(scenario()).body == b'{"ok":true}'
