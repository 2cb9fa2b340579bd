"""Sessions that outlive their process, on every stack: two servers share a snapshot
folder (`hexlit.store = "filesystem"`, one `hexlit.storeDir`, one cookie secret), as two
replicas or a restart would.

The built-in counter app is the runtime: each `inc` is a completed run, its snapshot the
count. A reconnect offering a session id the server does not hold gets that session
back from its snapshot (`hello <id> resumed=1 count=<N>`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.conformance.test_stream import TIMEOUT, XSRF_LIKE_TOKEN, closed_with, hello, stream
from tests.support.redis import redis_server
from tests.support.server import ServerUnderTest

SECRET = "a secret every replica shares"
SNAPSHOT_WAIT = 5.0


def shared_options(folder: Path, **more: Any) -> dict[str, Any]:
    return {
        "hexlit.store": "filesystem",
        "hexlit.storeDir": str(folder),
        "server.cookieSecret": SECRET,
        "server.trustedUserHeaders": {"X-Forwarded-Email": "email"},
        **more,
    }


def counted(server: ServerUnderTest, ws: Any, times: int) -> None:
    for _ in range(times):
        ws.send(b"inc")
        ws.recv(timeout=TIMEOUT)


def wait_for_snapshot(server: ServerUnderTest, at_least: int = 1) -> None:
    """Until the server's metrics say it wrote `at_least` snapshots (bounded)."""
    deadline = time.monotonic() + SNAPSHOT_WAIT
    while time.monotonic() < deadline:
        text = httpx.get(server.url("/_stcore/metrics"), timeout=TIMEOUT).text
        found = re.search(r"^hexlit_snapshots_saved_total (\d+)", text, re.M)
        if found and int(found.group(1)) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"no snapshot within {SNAPSHOT_WAIT}s")


def offer(session_id: str) -> list[str]:
    return ["streamlit", XSRF_LIKE_TOKEN, session_id]


def test_state_set_on_one_server_is_there_after_reconnecting_to_the_other(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    first = make_server(shared_options(tmp_path))
    second = make_server(shared_options(tmp_path))
    with stream(first) as ws:
        opened = hello(ws)
        counted(first, ws, 3)
        wait_for_snapshot(first)
    with stream(second, offer(opened["id"])) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "3"}
        counted(second, ws, 1)
        wait_for_snapshot(second)
    # and back: the first server's copy is stale now, the snapshot is not
    with stream(first, offer(opened["id"])) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "4"}


def test_a_session_survives_a_restart_of_its_only_server(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    before = make_server(shared_options(tmp_path))
    with stream(before) as ws:
        opened = hello(ws)
        counted(before, ws, 2)
        wait_for_snapshot(before)
    before.stop()
    after = make_server(shared_options(tmp_path))
    with stream(after, offer(opened["id"])) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "2"}


def test_the_old_owner_closes_its_copy_when_the_session_moved(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    first = make_server(shared_options(tmp_path))
    second = make_server(shared_options(tmp_path))
    with stream(first) as stale:
        opened = hello(stale)
        counted(first, stale, 1)
        wait_for_snapshot(first)
        with stream(second, offer(opened["id"])) as ws:
            assert hello(ws)["count"] == "1"
        stale.send(b"inc")  # a run on the stale copy: its snapshot is refused
        assert stale.recv(timeout=TIMEOUT) == b"count 2"
        assert closed_with(stale) == (1000, "session continued elsewhere")
    with stream(second, offer(opened["id"])) as ws:
        assert hello(ws)["count"] == "1"


def test_a_leaked_session_id_does_not_hand_over_another_user_s_state(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    first = make_server(shared_options(tmp_path))
    second = make_server(shared_options(tmp_path))
    alice = {"X-Forwarded-Email": "alice@example.com"}
    mallory = {"X-Forwarded-Email": "mallory@example.com"}
    with stream(first, headers=alice) as ws:
        opened = hello(ws)
        counted(first, ws, 5)
        wait_for_snapshot(first)
    with stream(second, offer(opened["id"]), headers=mallory) as ws:
        stolen = hello(ws)
    assert stolen["id"] != opened["id"]
    assert (stolen["resumed"], stolen["count"]) == ("0", "0")
    with stream(second, offer(opened["id"]), headers=alice) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "5"}


def test_a_server_with_another_secret_restores_nothing(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    first = make_server(shared_options(tmp_path))
    other = make_server({**shared_options(tmp_path), "server.cookieSecret": "not the same"})
    with stream(first) as ws:
        opened = hello(ws)
        counted(first, ws, 2)
        wait_for_snapshot(first)
    with stream(other, offer(opened["id"])) as ws:
        greeting = hello(ws)
    assert (greeting["resumed"], greeting["count"]) == ("0", "0")
    metrics = httpx.get(other.url("/_stcore/metrics"), timeout=TIMEOUT).text
    assert "hexlit_snapshots_rejected_total 1" in metrics


def test_snapshots_off_means_no_resume_elsewhere(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    off = shared_options(tmp_path, **{"hexlit.sessionSnapshots": "off"})
    first, second = make_server(off), make_server(off)
    with stream(first) as ws:
        opened = hello(ws)
        counted(first, ws, 2)
    with stream(second, offer(opened["id"])) as ws:
        assert hello(ws)["resumed"] == "0"
    assert not (tmp_path / "snapshots").exists()


def test_a_redis_store_carries_sessions_between_servers(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    with redis_server() as redis:
        options = {
            **shared_options(tmp_path),
            "hexlit.store": "redis",
            "hexlit.redis_url": redis.url,
        }
        first, second = make_server(options), make_server(options)
        with stream(first) as ws:
            opened = hello(ws)
            counted(first, ws, 2)
            wait_for_snapshot(first)
        with stream(second, offer(opened["id"])) as ws:
            assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "2"}
        for server in (first, second):  # its Redis client goes before the Redis does
            server.call(server.container.sessions().stop())
            server.call(server.container.redis_client().aclose())
            server.stop()


STREAMLIT_APP = """\
import streamlit as st

st.session_state.setdefault("runs", 0)
st.session_state.runs += 1
name = st.text_input("Name", key="name")
st.markdown(f"runs={st.session_state.runs} name={name}")
"""


def forward_messages(ws: Any) -> Iterator[ForwardMsg]:
    while True:
        frame = ws.recv(timeout=TIMEOUT)
        message = ForwardMsg()
        message.ParseFromString(frame)
        yield message


def markdown_of(message: ForwardMsg) -> str | None:
    if message.WhichOneof("type") != "delta" or message.delta.WhichOneof("type") != "new_element":
        return None
    element = message.delta.new_element
    return element.markdown.body if element.WhichOneof("type") == "markdown" else None


def rerun_frame(widget_id: str = "", value: str = "") -> bytes:
    message = BackMsg()
    message.rerun_script.query_string = ""
    if widget_id:
        widget = message.rerun_script.widget_states.widgets.add()
        widget.id, widget.string_value = widget_id, value
    return bytes(message.SerializeToString())


def test_a_streamlit_session_comes_back_after_a_restart_without_a_rerun_from_the_browser(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    app = tmp_path / "app.py"
    app.write_text(STREAMLIT_APP)
    options = shared_options(tmp_path / "store")
    before = make_server(options, app=str(app))
    with stream(before, ["streamlit", XSRF_LIKE_TOKEN]) as ws:
        ws.send(rerun_frame())
        text_input, session_id = "", ""
        for message in forward_messages(ws):
            if message.WhichOneof("type") == "new_session":
                session_id = message.new_session.initialize.session_id
            element = message.delta.new_element if message.HasField("delta") else None
            if element is not None and element.WhichOneof("type") == "text_input":
                text_input = element.text_input.id
            if message.WhichOneof("type") == "script_finished":
                break
        wait_for_snapshot(before, at_least=1)  # so the next run needs a write of its own
        ws.send(rerun_frame(text_input, "Ada"))
        for message in forward_messages(ws):
            if message.WhichOneof("type") == "script_finished":
                break
        wait_for_snapshot(before, at_least=2)
    before.stop()
    after = make_server(options, app=str(app))
    with stream(after, offer(session_id)) as ws:
        # the browser sends nothing: the server reruns the restored session by itself
        shown = next(text for m in forward_messages(ws) if (text := markdown_of(m)) is not None)
    assert shown == "runs=3 name=Ada"


def test_a_drain_fails_readiness_snapshots_and_closes_with_1012(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    leaving = make_server(shared_options(tmp_path))
    staying = make_server(shared_options(tmp_path))
    with stream(leaving) as ws:
        opened = hello(ws)
        counted(leaving, ws, 2)  # no wait: the drain itself must write the snapshot
        draining = asyncio.run_coroutine_threadsafe(
            leaving.container.sessions().drain(), leaving.loop
        )
        assert closed_with(ws) == (1012, "server is restarting")  # read while it drains
        draining.result(TIMEOUT)
    health = httpx.get(leaving.url("/_stcore/health"), timeout=TIMEOUT)
    assert (health.status_code, health.text) == (503, "server is draining")
    with stream(staying, offer(opened["id"])) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "2"}
