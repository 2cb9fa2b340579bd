"""The Starlette stack's WebSocket writes: one `send` per event-loop turn, nothing lost."""

from __future__ import annotations

import asyncio

from hexlit.adapters.web.starlette.uvicorn_ws import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 7


def test_frames_of_one_turn_leave_in_one_write_in_order() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        for frame in (b"a", b"bb", b"ccc"):
            outer.write(frame)
        assert inner.writes == []  # nothing before the turn ends
        await asyncio.sleep(0)
        outer.write(b"next turn")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"abbccc", b"next turn"]


def test_close_sends_what_is_pending_first() -> None:
    async def scenario() -> RecordingTransport:
        inner = RecordingTransport()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        outer.write(b"close frame")
        outer.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [b"close frame"]
    assert inner.closed


def test_other_transport_calls_reach_the_real_transport() -> None:
    async def scenario() -> int:
        outer = CoalescingTransport(RecordingTransport(), asyncio.get_running_loop())
        return outer.get_write_buffer_size()

    assert asyncio.run(scenario()) == 7
