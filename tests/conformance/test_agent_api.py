"""The agent API (`/_stcore/agent/interact`, `/openapi.json`, `/mcp`) on every stack,
checked against `streamlit run` 1.67 itself: the same snapshots for the same calls, the
same answers with the API off, and the core's policies (Host, Origin, body size) in
Streamlit's order. Streamlit keeps one `Runtime` per process, so each test starts its
own Streamlit-runtime server, and the reference runs in a process of its own."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import AppServer
from tests.support.net import free_port
from tests.support.server import ServerUnderTest

TIMEOUT = 40.0
"""Longer than `server.agentWaitTimeout` (30 s): a call waits for the app's run."""
APP = """\
import time

import streamlit as st

name = st.text_input("Name", key="name")
st.write(f"Hello {name or 'nobody'}")
if st.button("Slow", key="slow"):
    time.sleep(3)
    st.write("slow run done")
"""
LINK = '<openapi.json>; rel="service-desc"'
PAGE = "https://page.example"
ON = {
    "server.enableAgentApi": True,
    "server.allowedHosts": ["127.0.0.1"],
    "server.corsAllowedOrigins": [PAGE],
    "server.maxWidgetStateSize": 1,
}
"""The reference `streamlit run` gets the same options."""
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18"},
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    script = tmp_path_factory.mktemp("agent") / "app.py"
    script.write_text(APP)
    return script


@pytest.fixture(scope="module")
def streamlit_run(app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run` 1.67 on the same script with the API on: the reference."""
    extra = ["--server.enableAgentApi", "true", "--server.allowedHosts", "127.0.0.1"]
    extra += ["--server.corsAllowedOrigins", PAGE, "--server.maxWidgetStateSize", "1"]
    reference = AppServer("streamlit", free_port(), tmp_path_factory.mktemp("ref"), app, extra)
    reference.start()
    try:
        yield reference.url
    finally:
        reference.stop()


def post(base: str, route: str, body: Any = None, **headers: str) -> httpx.Response:
    content = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body)
    return httpx.post(
        f"{base}/_stcore/agent/{route}", content=content, headers=headers, timeout=TIMEOUT
    )


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without what differs per call (its session and its time)."""
    return {k: v for k, v in snapshot.items() if k not in ("session_id", "observed_at")}


def interactions(base: str) -> list[dict[str, Any]]:
    """A new session, then typing a name into it: the two snapshots."""
    first = post(base, "interact", {})
    assert first.status_code == 200, first.text
    assert first.headers["link"] == LINK
    session = first.json()["session_id"]
    second = post(base, "interact", {"session_id": session, "widget_state": {"name": "Ada"}})
    assert second.status_code == 200, second.text
    assert second.json()["session_id"] == session
    return [comparable(first.json()), comparable(second.json())]


def test_interact_drives_the_app_as_streamlit_run_does(
    make_server: Callable[..., ServerUnderTest], app: Path, streamlit_run: str
) -> None:
    running = make_server(ON, app=str(app))
    ours = interactions(running.url(""))
    assert ours == interactions(streamlit_run)
    assert ours[1]["tree"]["children"][0]["children"][1]["props"]["body"] == "Hello Ada"

    unknown = post(running.url(""), "interact", {"session_id": "s_" + "0" * 32})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_session"
    assert unknown.headers["link"] == LINK

    mcp = post(running.url(""), "mcp", INITIALIZE)
    reference = post(streamlit_run, "mcp", INITIALIZE)
    assert (mcp.status_code, mcp.json()) == (reference.status_code, reference.json())
    tools = post(running.url(""), "mcp", {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert [tool["name"] for tool in tools.json()["result"]["tools"]] == ["interact", "get_data"]
    notification = post(running.url(""), "mcp", {"jsonrpc": "2.0", "method": "ping"})
    assert (notification.status_code, notification.content) == (202, b"")

    schema = httpx.get(running.url("/_stcore/agent/openapi.json"), timeout=TIMEOUT)
    assert schema.status_code == 200
    assert schema.headers["cache-control"] == "no-cache"
    document = schema.json()
    assert set(document["paths"]) >= {"/_stcore/agent/interact", "/_stcore/agent/mcp"}
    expected = httpx.get(f"{streamlit_run}/_stcore/agent/openapi.json", timeout=TIMEOUT)
    assert document == expected.json()


def refusals(base: str) -> list[tuple[int, str | None, str]]:
    """Status, `Link` and error (code and message) for each policy case."""
    too_big = b"{" + b" " * 1_000_000 + b"}"  # past `server.maxWidgetStateSize` (1 MB)
    cases = [
        post(base, "interact", {}, Host="evil.example"),
        post(base, "interact", {}, Origin="https://evil.example"),
        post(base, "interact", {}, Origin="http://127.0.0.1"),
        post(base, "interact", {}, Origin=PAGE, **{"Content-Type": "text/plain"}),
        post(base, "interact", too_big),
        post(base, "interact", b" " * 1_500_000),  # past 1 MiB too: still the route's answer
        post(base, "mcp", INITIALIZE, Origin="https://evil.example"),
        post(base, "mcp", too_big),
        post(base, "interact", b"[1, 2]"),
        post(base, "interact", b"{NaN}"),
        post(base, "mcp", b""),
        httpx.get(f"{base}/_stcore/agent/interact", timeout=TIMEOUT),
        httpx.put(f"{base}/_stcore/agent/openapi.json", timeout=TIMEOUT),
    ]
    return [(r.status_code, r.headers.get("link"), _reason(r)) for r in cases]


def _reason(response: httpx.Response) -> str:
    if not response.content:
        return f"Allow: {response.headers.get('allow')}"
    error = response.json()["error"]
    return f"{error['code']}: {error['message']}"


def test_policies_refuse_as_streamlit_run_does(
    make_server: Callable[..., ServerUnderTest], app: Path, streamlit_run: str
) -> None:
    running = make_server(ON, app=str(app))
    ours = refusals(running.url(""))
    assert ours == refusals(streamlit_run)
    assert [status for status, _, _ in ours[:8]] == [403, 403, 403, 400, 413, 413, 403, 413]
    assert all(link == LINK for _, link, _ in ours)


def test_off_answers_as_streamlit_run_does(
    make_server: Callable[..., ServerUnderTest], app: Path, tmp_path: Path
) -> None:
    """With the API off nothing is 404: `interact` 403 `not_available`, `mcp` a JSON-RPC
    400, the document served saying the API is off; the reference is a second
    `streamlit run` with default options."""
    running = make_server(app=str(app))
    reference = AppServer("streamlit", free_port(), tmp_path, app)
    reference.start()
    try:
        for base in (running.url(""), reference.url):
            interact = post(base, "interact", {})
            assert (interact.status_code, interact.json()["error"]["code"]) == (
                403,
                "not_available",
            )
            mcp = post(base, "mcp", INITIALIZE)
            assert mcp.status_code == 400
            assert mcp.json()["error"]["message"].startswith("not_available: ")
            assert mcp.json()["id"] is None
            schema = httpx.get(f"{base}/_stcore/agent/openapi.json", timeout=TIMEOUT)
            assert schema.status_code == 200
            assert all(r.headers["link"] == LINK for r in (interact, mcp, schema))
        ours = httpx.get(running.url("/_stcore/agent/openapi.json"), timeout=TIMEOUT).json()
        theirs = httpx.get(f"{reference.url}/_stcore/agent/openapi.json", timeout=TIMEOUT)
        assert ours == theirs.json()
    finally:
        reference.stop()


def test_the_builtin_runtime_has_no_agent_api(server: ServerUnderTest) -> None:
    """Without Streamlit there is no agent runtime: every route says `not_available`
    (docs/streamlit-differences.md), never the app's HTML."""
    interact = post(server.url(""), "interact", {})
    assert (interact.status_code, interact.json()["error"]["code"]) == (403, "not_available")
    schema = httpx.get(server.url("/_stcore/agent/openapi.json"), timeout=TIMEOUT)
    assert (schema.status_code, schema.json()["error"]["code"]) == (403, "not_available")
    assert schema.headers["link"] == LINK


def collect_after_leaving(base: str) -> tuple[int, str]:
    """A client that gives up on a slow run, then sends only its `session_id` again:
    the status and error code (or "ok") of that retry."""
    session = post(base, "interact", {}).json()["session_id"]
    slow = {"session_id": session, "trigger": {"key": "slow"}}
    with pytest.raises(httpx.ReadTimeout):  # the client leaves while the run goes on
        httpx.post(f"{base}/_stcore/agent/interact", json=slow, timeout=0.5)
    time.sleep(0.3)  # not measured: lets the server see the closed socket first
    retry = post(base, "interact", {"session_id": session})
    if retry.status_code != 200:
        return retry.status_code, retry.json()["error"]["code"]
    assert "slow run done" in retry.text
    return 200, "ok"


def test_a_client_that_leaves_can_collect_its_run(
    make_server: Callable[..., ServerUnderTest], app: Path, streamlit_run: str
) -> None:
    """As Streamlit: leaving cancels the wait, so the retry collects the run instead of
    being told the session is busy (409 `session_busy`)."""
    running = make_server(ON, app=str(app))
    assert collect_after_leaving(running.url("")) == collect_after_leaving(streamlit_run)
    assert collect_after_leaving(running.url("")) == (200, "ok")
