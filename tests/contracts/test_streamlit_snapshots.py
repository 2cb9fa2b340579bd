"""The Streamlit runtime's `SessionStateAccess`: capture a session, restore it in a new
runtime (a restart), and pins on every Streamlit internal it relies on
(adapters/runtime/streamlit/snapshots.py, docs/streamlit-differences.md).

A pin fails when Streamlit renames, moves or changes the shape of what hexlit reads.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.state.session_state import KeyIdMapper, SessionState

from hexlit.adapters.runtime.streamlit.runtime import StreamlitRuntime
from hexlit.adapters.runtime.streamlit.snapshots import TRIGGER_KINDS, app_session
from hexlit.adapters.storage.memory import MemoryMediaStore, MemoryUploadStore
from hexlit.adapters.system.ids import UuidIds
from hexlit.domain.media_service import MediaService
from hexlit.domain.upload_service import UploadedFilesService
from hexlit.ports.runtime import CapturedState, ClientInfo, SessionStart

T = TypeVar("T")
TIMEOUT = 20.0

APP = """\
import threading
import streamlit as st

st.session_state.setdefault("count", 0)
st.session_state.count += 1
st.session_state.notes = {"list": [1, 2, 3]}
st.session_state.lock = threading.Lock()
name = st.text_input("Name", key="name")
pressed = st.button("Press", key="press")
st.markdown(f"count={st.session_state.count} name={name} pressed={pressed}")
"""


class Outbox:
    def __init__(self) -> None:
        self.messages: list[ForwardMsg] = []
        self.arrived = asyncio.Event()

    def push(self, frame: bytes) -> None:
        message = ForwardMsg()
        message.ParseFromString(frame)
        self.messages.append(message)
        self.arrived.set()

    def markdowns(self) -> list[str]:
        return [
            m.delta.new_element.markdown.body
            for m in self.messages
            if m.WhichOneof("type") == "delta"
            and m.delta.WhichOneof("type") == "new_element"
            and m.delta.new_element.WhichOneof("type") == "markdown"
        ]

    def widget_id(self, kind: str) -> str:
        for m in self.messages:
            if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
                element = m.delta.new_element
                if element.WhichOneof("type") == kind:
                    return str(getattr(element, kind).id)
        raise AssertionError(f"no {kind} element was sent")

    async def runs_finished(self, count: int) -> None:
        async with asyncio.timeout(TIMEOUT):
            while sum(m.WhichOneof("type") == "script_finished" for m in self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()

    async def markdown_starting(self, prefix: str) -> str:
        async with asyncio.timeout(TIMEOUT):
            while True:
                found = [text for text in self.markdowns() if text.startswith(prefix)]
                if found:
                    return found[-1]
                self.arrived.clear()
                await self.arrived.wait()


def make_runtime(folder: Path) -> StreamlitRuntime:
    script = folder / "app.py"
    script.write_text(APP)
    media = MediaService(MemoryMediaStore())
    files = UploadedFilesService(MemoryUploadStore(), UuidIds())
    return StreamlitRuntime(script, {"runner.postScriptGC": False}, 120, media, files)


async def running(folder: Path, scenario: Callable[[StreamlitRuntime], Awaitable[T]]) -> T:
    runtime = make_runtime(folder)
    await runtime.start()
    try:
        async with asyncio.timeout(60):
            return await scenario(runtime)
    finally:
        await runtime.stop()


def rerun(widgets: WidgetStates | None = None) -> bytes:
    message = BackMsg()
    message.rerun_script.query_string = "tab=2"
    if widgets is not None:
        message.rerun_script.widget_states.CopyFrom(widgets)
    return bytes(message.SerializeToString())


def start(session_id: str = "s-1") -> SessionStart:
    return SessionStart(session_id, False, ClientInfo(remote_ip="127.0.0.1"), {})


def test_a_session_restored_in_a_new_runtime_comes_back_as_it_was(tmp_path: Path) -> None:
    completed: list[str] = []

    async def before(runtime: StreamlitRuntime) -> CapturedState | None:
        runtime.when_run_completes(completed.append)
        outbox = Outbox()
        await runtime.connect(start(), outbox)
        await runtime.deliver("s-1", rerun(), outbox)
        await outbox.markdown_starting("count=1")
        await outbox.runs_finished(1)
        widgets = WidgetStates()
        typed = widgets.widgets.add()
        typed.id, typed.string_value = outbox.widget_id("text_input"), "Ada"
        press = widgets.widgets.add()
        press.id, press.trigger_value = outbox.widget_id("button"), True
        await runtime.deliver("s-1", rerun(widgets), outbox)
        await outbox.markdown_starting("count=2 name=Ada pressed=True")
        await outbox.runs_finished(2)
        return await runtime.capture("s-1")

    captured = asyncio.run(running(tmp_path, before))
    assert captured is not None
    assert completed == ["s-1", "s-1"]
    assert captured.skipped_keys == ("lock",)
    assert captured.query_string == "tab=2"
    kept = {key: pickle.loads(blob) for key, blob in pickle.loads(captured.user_state).items()}
    assert kept == {"count": 2, "notes": {"list": [1, 2, 3]}}  # widget keys travel as widgets
    widgets = WidgetStates()
    widgets.ParseFromString(captured.widget_states)
    assert {w.WhichOneof("value") for w in widgets.widgets} == {"string_value"}

    async def after(runtime: StreamlitRuntime) -> str:
        outbox = Outbox()
        session_id = await runtime.restore(start(), captured, outbox)
        assert session_id == "s-1"
        # no frame from the browser: the server reruns by itself, and presses nothing
        return await outbox.markdown_starting("count=")

    assert asyncio.run(running(tmp_path, after)) == "count=3 name=Ada pressed=False"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_restore_logs_no_missing_script_run_context_warning(tmp_path: Path) -> None:
    """Putting values back happens on the event loop, outside any script run. Streamlit's
    `SessionState[key] = value` looks up the run's context there and logs a WARNING
    ("missing ScriptRunContext! ... bare mode") for every key: seen once per restored
    key in the replicas' logs (tests/e2e/test_replicas_e2e.py), a false alarm."""
    captured = CapturedState(
        pickle.dumps({"count": pickle.dumps(5), "notes": pickle.dumps({"list": [4]})}),
        b"",
        "",
        "",
    )

    async def after(runtime: StreamlitRuntime) -> str:
        outbox = Outbox()
        await runtime.restore(start(), captured, outbox)
        return await outbox.markdown_starting("count=")

    # Streamlit's loggers do not propagate to the root logger: listen on the one that warns.
    records = _Records()
    context_logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    context_logger.addHandler(records)
    try:
        assert asyncio.run(running(tmp_path, after)) == "count=6 name= pressed=False"
    finally:
        context_logger.removeHandler(records)
    assert [m for m in records.messages if "ScriptRunContext" in m] == []


def test_capture_of_a_session_the_runtime_does_not_hold_is_none(tmp_path: Path) -> None:
    async def scenario(runtime: StreamlitRuntime) -> CapturedState | None:
        return await runtime.capture("nobody")

    assert asyncio.run(running(tmp_path, scenario)) is None


# -- pins: the Streamlit internals snapshots rely on ----------------------------------


def test_pin_the_runtime_finds_an_app_session_by_id(tmp_path: Path) -> None:
    async def scenario(runtime: StreamlitRuntime) -> Any:
        await runtime.connect(start("pinned"), Outbox())
        assert runtime._runtime is not None
        return app_session(runtime._runtime, "pinned"), app_session(runtime._runtime, "none")

    found, missing = asyncio.run(running(tmp_path, scenario))
    assert isinstance(found, AppSession)
    assert missing is None


def test_pin_app_session_state_and_last_client_state() -> None:
    assert isinstance(AppSession.session_state, property)
    assert "_client_state" in AppSession.__init__.__code__.co_names
    assert callable(AppSession.request_rerun)
    client_state = ClientState()
    assert (client_state.page_script_hash, client_state.query_string) == ("", "")
    assert client_state.widget_states.widgets is not None


def test_pin_session_state_reads_and_writes() -> None:
    state = SessionState()
    state["user_key"] = 1
    state.reset_state_value("restored_key", 2)  # what a restore uses: no context look-up
    assert state.filtered_state == {"user_key": 1, "restored_key": 2}
    assert isinstance(state._key_id_mapper, KeyIdMapper)
    assert "user_key" not in state._key_id_mapper
    assert state.get_widget_states() == []


def test_pin_trigger_kinds_are_widget_state_values() -> None:
    fields = {
        f.name for f in WidgetStates().widgets.add().DESCRIPTOR.oneofs_by_name["value"].fields
    }
    assert fields >= TRIGGER_KINDS


def test_pin_the_end_of_a_run_on_the_wire() -> None:
    message = ForwardMsg()
    message.script_finished = ForwardMsg.FINISHED_SUCCESSFULLY
    assert message.WhichOneof("type") == "script_finished"
    assert ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY != ForwardMsg.FINISHED_SUCCESSFULLY


@pytest.mark.parametrize("kind", sorted(TRIGGER_KINDS))
def test_pin_each_trigger_kind_is_a_field(kind: str) -> None:
    assert kind in WidgetStates().widgets.add().DESCRIPTOR.fields_by_name


NAVIGATION_APP = """\
import streamlit as st

def home():
    st.session_state.setdefault("runs", 0)
    st.session_state.runs += 1
    st.markdown(f"home runs={st.session_state.runs}")

st.navigation([st.Page(home, title="Home", default=True)]).run()
"""


def test_the_page_captured_is_the_page_the_browser_was_told(tmp_path: Path) -> None:
    """With `st.navigation` the page shown has a hash of its own, not the main script's;
    a restore must rerun that page, or the browser's page and the session disagree."""

    async def scenario(runtime: StreamlitRuntime) -> tuple[str, CapturedState | None]:
        runtime.when_run_completes(lambda _: None)
        outbox = Outbox()
        await runtime.connect(start(), outbox)
        await runtime.deliver("s-1", rerun(), outbox)
        await outbox.runs_finished(1)
        told = [
            m.new_session.page_script_hash for m in outbox.messages if m.HasField("new_session")
        ]
        return told[-1], await runtime.capture("s-1")

    runtime = make_runtime(tmp_path)
    (tmp_path / "app.py").write_text(NAVIGATION_APP)

    async def main() -> tuple[str, CapturedState | None]:
        await runtime.start()
        try:
            async with asyncio.timeout(60):
                return await scenario(runtime)
        finally:
            await runtime.stop()

    told, captured = asyncio.run(main())
    assert captured is not None
    assert captured.page == told
