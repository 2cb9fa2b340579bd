"""The `AppRuntime` contract: what every runtime adapter must do, whichever it is.

Each runtime comes with a harness that knows how to make it and which inbound frame makes
it answer; the assertions are the same for all. The Streamlit runtime joins the
parametrization when its adapter lands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from hexlit.adapters.runtime.builtin import BuiltinRuntime
from hexlit.ports.errors import ClientGone, MalformedFrame, RuntimeUnavailable
from hexlit.ports.runtime import AppRuntime, ClientInfo, SessionStart

T = TypeVar("T")


@dataclass
class Harness:
    make: Callable[[], AppRuntime]
    poke: bytes
    """An inbound frame the app answers with at least one outbound frame."""
    malformed: bytes
    """An inbound frame the runtime cannot decode."""


HARNESSES = {
    "builtin": Harness(make=lambda: BuiltinRuntime("counter"), poke=b"inc", malformed=b"\xff"),
}


class RecordingOutbox:
    """An `Outbox` that keeps what it is given, or refuses like a full queue."""

    def __init__(self, refuse: bool = False) -> None:
        self.frames: list[bytes] = []
        self.refuse = refuse

    def push(self, frame: bytes) -> None:
        if self.refuse:
            raise ClientGone("full")
        self.frames.append(frame)


def run(coroutine: Awaitable[T]) -> T:
    return asyncio.run(_with_timeout(coroutine))


async def _with_timeout(coroutine: Awaitable[T]) -> T:
    async with asyncio.timeout(10):
        return await coroutine


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Harness:
    return HARNESSES[request.param]


def start(session_id: str = "s-1", resume: bool = False) -> SessionStart:
    return SessionStart(session_id, resume, ClientInfo(remote_ip="127.0.0.1"), {})


def test_readiness_follows_the_lifecycle(harness: Harness) -> None:
    async def scenario() -> list[bool]:
        runtime = harness.make()
        before = (await runtime.readiness()).ready
        await runtime.start()
        during = (await runtime.readiness()).ready
        await runtime.stop()
        after = (await runtime.readiness()).ready
        return [before, during, after]

    assert run(scenario()) == [False, True, False]


def test_a_fresh_session_gets_the_id_it_asked_for_and_answers(harness: Harness) -> None:
    async def scenario() -> tuple[str, list[bytes]]:
        runtime = harness.make()
        await runtime.start()
        outbox = RecordingOutbox()
        session_id = await runtime.connect(start("fresh-1"), outbox)
        outbox.frames.clear()
        await runtime.deliver(session_id, harness.poke, outbox)
        await runtime.stop()
        return session_id, outbox.frames

    session_id, frames = run(scenario())
    assert session_id == "fresh-1"
    assert frames


def test_a_resumed_session_answers_its_new_outbox_only(harness: Harness) -> None:
    async def scenario() -> tuple[str, list[bytes], list[bytes]]:
        runtime = harness.make()
        await runtime.start()
        old, new = RecordingOutbox(), RecordingOutbox()
        session_id = await runtime.connect(start("s-1"), old)
        await runtime.disconnect(session_id, old)
        resumed = await runtime.connect(start(session_id, resume=True), new)
        old.frames.clear()
        new.frames.clear()
        await runtime.deliver(resumed, harness.poke, new)
        await runtime.deliver(resumed, harness.poke, old)  # stale: must be ignored
        await runtime.stop()
        return resumed, old.frames, new.frames

    resumed, old_frames, new_frames = run(scenario())
    assert resumed == "s-1"
    assert old_frames == []
    assert new_frames


def test_a_stale_disconnect_leaves_the_current_client_bound(harness: Harness) -> None:
    async def scenario() -> list[bytes]:
        runtime = harness.make()
        await runtime.start()
        old, new = RecordingOutbox(), RecordingOutbox()
        await runtime.connect(start("s-1"), old)
        await runtime.connect(start("s-1", resume=True), new)
        await runtime.disconnect("s-1", old)
        new.frames.clear()
        await runtime.deliver("s-1", harness.poke, new)
        await runtime.stop()
        return new.frames

    assert run(scenario())


def test_malformed_frames_raise_malformed_frame(harness: Harness) -> None:
    async def scenario() -> None:
        runtime = harness.make()
        await runtime.start()
        outbox = RecordingOutbox()
        await runtime.connect(start(), outbox)
        try:
            await runtime.deliver("s-1", harness.malformed, outbox)
        finally:
            await runtime.stop()

    with pytest.raises(MalformedFrame):
        run(scenario())


def test_a_refusing_outbox_does_not_break_delivery(harness: Harness) -> None:
    async def scenario() -> None:
        runtime = harness.make()
        await runtime.start()
        outbox = RecordingOutbox(refuse=True)
        await runtime.connect(start(), outbox)
        await runtime.deliver("s-1", harness.poke, outbox)
        await runtime.deliver("s-1", harness.poke, outbox)
        await runtime.stop()

    run(scenario())


def test_close_session_is_idempotent_and_ends_the_session(harness: Harness) -> None:
    async def scenario() -> list[bytes]:
        runtime = harness.make()
        await runtime.start()
        outbox = RecordingOutbox()
        await runtime.connect(start(), outbox)
        await runtime.close_session("s-1")
        await runtime.close_session("s-1")
        outbox.frames.clear()
        await runtime.deliver("s-1", harness.poke, outbox)
        await runtime.stop()
        return outbox.frames

    assert run(scenario()) == []


def test_connect_when_not_running_raises_runtime_unavailable(harness: Harness) -> None:
    async def scenario() -> Any:
        runtime = harness.make()
        return await runtime.connect(start(), RecordingOutbox())

    with pytest.raises(RuntimeUnavailable):
        run(scenario())
