"""The `AppRuntime` contract: what every runtime adapter must do, whichever it is.

Each runtime comes with a harness that knows how to make it and which inbound frame makes
it answer; the assertions are the same for all. Streamlit answers asynchronously (its
script runs in a thread), so frames are awaited, and absence is asserted after a quiet
period.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hexlit.adapters.runtime.builtin import BuiltinRuntime
from hexlit.adapters.storage.memory import MemoryMediaStore, MemoryUploadStore
from hexlit.adapters.system.ids import UuidIds
from hexlit.domain.media_service import MediaService
from hexlit.domain.upload_service import UploadedFilesService
from hexlit.ports.errors import ClientGone, MalformedFrame, RuntimeUnavailable
from hexlit.ports.runtime import AppRuntime, ClientInfo, SessionStart

T = TypeVar("T")
FRAME_TIMEOUT = 20.0

APP = """\
import streamlit as st
st.write("hello from the contract suite")
"""


@dataclass
class Harness:
    make: Callable[[Path], AppRuntime]
    poke: bytes
    """An inbound frame the app answers with at least one outbound frame."""
    malformed: bytes
    """An inbound frame the runtime cannot decode."""
    quiet: float
    """How long to wait before concluding that nothing more will arrive."""


def rerun_frame() -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.query_string = ""
    return bytes(message.SerializeToString())


def make_streamlit(folder: Path) -> AppRuntime:
    from hexlit.adapters.runtime.streamlit.runtime import StreamlitRuntime

    script = folder / "app.py"
    script.write_text(APP)
    media = MediaService(MemoryMediaStore())
    files = UploadedFilesService(MemoryUploadStore(), UuidIds())
    return StreamlitRuntime(script, {"runner.postScriptGC": False}, 120, media, files)


HARNESSES = {
    "builtin": Harness(lambda _: BuiltinRuntime("counter"), b"inc", b"\xff", quiet=0.0),
    "streamlit": Harness(make_streamlit, rerun_frame(), b"\xff\xff\xff", quiet=0.5),
}


class RecordingOutbox:
    """An `Outbox` that keeps what it is given, or refuses like a full queue."""

    def __init__(self, refuse: bool = False) -> None:
        self.frames: list[bytes] = []
        self.refuse = refuse
        self.refused = 0

    def push(self, frame: bytes) -> None:
        if self.refuse:
            self.refused += 1
            raise ClientGone("full")
        self.frames.append(frame)

    async def some_frames(self) -> list[bytes]:
        """Wait (bounded) until at least one frame arrived."""
        async with asyncio.timeout(FRAME_TIMEOUT):
            while not self.frames:  # noqa: ASYNC110 - the runtime offers no event to wait on
                await asyncio.sleep(0.01)
        return self.frames


def run(scenario: Callable[[AppRuntime], Awaitable[T]], harness: Harness, folder: Path) -> T:
    """Start a runtime, run `scenario` on it, always stop it; everything bounded in time."""

    async def main() -> T:
        runtime = harness.make(folder)
        await runtime.start()
        try:
            async with asyncio.timeout(60):
                return await scenario(runtime)
        finally:
            await runtime.stop()

    return asyncio.run(main())


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Harness:
    return HARNESSES[request.param]


def start(session_id: str = "s-1", resume: bool = False) -> SessionStart:
    return SessionStart(session_id, resume, ClientInfo(remote_ip="127.0.0.1"), {})


def test_readiness_follows_the_lifecycle(harness: Harness, tmp_path: Path) -> None:
    async def scenario() -> list[bool]:
        runtime = harness.make(tmp_path)
        before = (await runtime.readiness()).ready
        await runtime.start()
        during = (await runtime.readiness()).ready
        await runtime.stop()
        after = (await runtime.readiness()).ready
        return [before, during, after]

    assert asyncio.run(scenario()) == [False, True, False]


def test_a_fresh_session_gets_the_id_it_asked_for_and_answers(
    harness: Harness, tmp_path: Path
) -> None:
    async def scenario(runtime: AppRuntime) -> tuple[str, list[bytes]]:
        outbox = RecordingOutbox()
        session_id = await runtime.connect(start("fresh-1"), outbox)
        await runtime.deliver(session_id, harness.poke, outbox)
        return session_id, await outbox.some_frames()

    session_id, frames = run(scenario, harness, tmp_path)
    assert session_id == "fresh-1"
    assert frames


def test_a_resumed_session_answers_its_new_outbox_only(harness: Harness, tmp_path: Path) -> None:
    async def scenario(runtime: AppRuntime) -> tuple[str, list[bytes], list[bytes]]:
        old, new = RecordingOutbox(), RecordingOutbox()
        session_id = await runtime.connect(start("s-1"), old)
        await runtime.disconnect(session_id, old)
        resumed = await runtime.connect(start(session_id, resume=True), new)
        old.frames.clear()
        await runtime.deliver(resumed, harness.poke, old)  # stale: must be ignored
        await runtime.deliver(resumed, harness.poke, new)
        await new.some_frames()
        await asyncio.sleep(harness.quiet)
        return resumed, old.frames, new.frames

    resumed, old_frames, new_frames = run(scenario, harness, tmp_path)
    assert resumed == "s-1"
    assert old_frames == []
    assert new_frames


def test_a_stale_disconnect_leaves_the_current_client_bound(
    harness: Harness, tmp_path: Path
) -> None:
    async def scenario(runtime: AppRuntime) -> list[bytes]:
        old, new = RecordingOutbox(), RecordingOutbox()
        await runtime.connect(start("s-1"), old)
        await runtime.disconnect("s-1", old)
        await runtime.connect(start("s-1", resume=True), new)
        await runtime.disconnect("s-1", old)  # late close of the old socket
        new.frames.clear()
        await runtime.deliver("s-1", harness.poke, new)
        return await new.some_frames()

    assert run(scenario, harness, tmp_path)


def test_malformed_frames_raise_malformed_frame(harness: Harness, tmp_path: Path) -> None:
    async def scenario(runtime: AppRuntime) -> None:
        outbox = RecordingOutbox()
        await runtime.connect(start(), outbox)
        await runtime.deliver("s-1", harness.malformed, outbox)

    with pytest.raises(MalformedFrame):
        run(scenario, harness, tmp_path)


def test_a_refusing_outbox_does_not_break_delivery(harness: Harness, tmp_path: Path) -> None:
    async def scenario(runtime: AppRuntime) -> int:
        outbox = RecordingOutbox(refuse=True)
        await runtime.connect(start(), outbox)
        await runtime.deliver("s-1", harness.poke, outbox)
        await runtime.deliver("s-1", harness.poke, outbox)
        await asyncio.sleep(harness.quiet)
        return outbox.refused

    assert run(scenario, harness, tmp_path) >= 1


def test_close_session_is_idempotent_and_ends_the_session(harness: Harness, tmp_path: Path) -> None:
    async def scenario(runtime: AppRuntime) -> list[bytes]:
        outbox = RecordingOutbox()
        await runtime.connect(start(), outbox)
        await runtime.close_session("s-1")
        await runtime.close_session("s-1")
        outbox.frames.clear()
        await runtime.deliver("s-1", harness.poke, outbox)
        await asyncio.sleep(harness.quiet)
        return outbox.frames

    assert run(scenario, harness, tmp_path) == []


def test_connect_when_not_running_raises_runtime_unavailable(
    harness: Harness, tmp_path: Path
) -> None:
    async def scenario() -> Any:
        runtime = harness.make(tmp_path)
        return await runtime.connect(start(), RecordingOutbox())

    with pytest.raises(RuntimeUnavailable):
        asyncio.run(scenario())
