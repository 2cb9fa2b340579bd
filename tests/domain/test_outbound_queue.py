"""`OutboundQueue`: the bounded, FIFO outbox between the runtime and one socket."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexlit.domain.outbound_queue import OutboundQueue, QueueBounds
from hexlit.ports.errors import ClientGone

frames = st.binary(max_size=64)


class OverflowCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def make(max_frames: int = 10, max_bytes: int = 1000) -> tuple[OutboundQueue, OverflowCounter]:
    counter = OverflowCounter()
    return OutboundQueue(QueueBounds(max_frames, max_bytes), counter), counter


async def drain(queue: OutboundQueue, count: int) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(count):
        frame = await queue.next_frame()
        assert frame is not None
        out.append(frame)
    return out


@settings(max_examples=100)
@given(st.lists(frames, max_size=20))
def test_frames_come_out_in_the_order_they_went_in(pushed: list[bytes]) -> None:
    queue, overflow = make(max_frames=20, max_bytes=20 * 64)
    for frame in pushed:
        queue.push(frame)
    assert asyncio.run(drain(queue, len(pushed))) == pushed
    assert queue.pending_frames == 0
    assert queue.pending_bytes == 0
    assert overflow.calls == 0
    assert not queue.overflowed


@settings(max_examples=100)
@given(st.lists(st.tuples(st.booleans(), frames), max_size=30))
def test_pending_bytes_is_the_size_of_what_waits(script: list[tuple[bool, bytes]]) -> None:
    async def run() -> None:
        queue, _ = make(max_frames=30, max_bytes=30 * 64)
        model: list[bytes] = []
        for take, frame in script:
            if take and model:
                assert await queue.next_frame() == model.pop(0)
            else:
                queue.push(frame)
                model.append(frame)
            assert queue.pending_frames == len(model)
            assert queue.pending_bytes == sum(map(len, model))

    asyncio.run(run())


@settings(max_examples=100)
@given(st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=5))
def test_one_frame_too_many_overflows_once(max_frames: int, extra_pushes: int) -> None:
    queue, overflow = make(max_frames=max_frames, max_bytes=10**6)
    for _ in range(max_frames):
        queue.push(b"x")
    full_but_fine = queue.overflowed
    assert not full_but_fine
    for _ in range(extra_pushes):
        with pytest.raises(ClientGone):
            queue.push(b"x")
    assert overflow.calls == 1
    assert queue.overflowed
    assert queue.pending_frames == 0
    assert queue.pending_bytes == 0


@settings(max_examples=100)
@given(st.lists(st.binary(min_size=1, max_size=50), min_size=1, max_size=20))
def test_one_byte_too_many_overflows_once(pushed: list[bytes]) -> None:
    total = sum(map(len, pushed))
    queue, overflow = make(max_frames=100, max_bytes=total)
    for frame in pushed:
        queue.push(frame)
    assert queue.pending_bytes == total
    full_but_fine = queue.overflowed
    assert not full_but_fine
    with pytest.raises(ClientGone):
        queue.push(b"!")
    with pytest.raises(ClientGone):
        queue.push(b"")
    assert overflow.calls == 1
    assert queue.overflowed


def test_an_empty_frame_fits_a_full_byte_budget() -> None:
    queue, overflow = make(max_frames=5, max_bytes=3)
    queue.push(b"abc")
    queue.push(b"")
    assert queue.pending_frames == 2
    assert overflow.calls == 0


def test_a_single_frame_larger_than_the_budget_overflows() -> None:
    queue, overflow = make(max_frames=5, max_bytes=3)
    with pytest.raises(ClientGone):
        queue.push(b"abcd")
    assert overflow.calls == 1
    assert queue.overflowed


def test_draining_makes_room_again() -> None:
    async def run() -> None:
        queue, overflow = make(max_frames=2, max_bytes=1000)
        queue.push(b"1")
        queue.push(b"2")
        assert await queue.next_frame() == b"1"
        queue.push(b"3")
        assert await drain(queue, 2) == [b"2", b"3"]
        assert overflow.calls == 0

    asyncio.run(run())


def test_push_after_close_is_refused_without_overflow() -> None:
    queue, overflow = make()
    queue.push(b"a")
    queue.close()
    queue.close()  # idempotent
    with pytest.raises(ClientGone):
        queue.push(b"b")
    assert overflow.calls == 0
    assert not queue.overflowed
    assert queue.pending_frames == 0
    assert queue.pending_bytes == 0


def test_next_frame_is_none_after_close_even_with_frames_queued() -> None:
    async def run() -> None:
        queue, _ = make()
        queue.push(b"a")
        queue.close()
        assert await queue.next_frame() is None
        assert await queue.next_frame() is None

    asyncio.run(run())


def test_close_wakes_a_waiting_reader() -> None:
    async def run() -> None:
        queue, _ = make()
        reader = asyncio.create_task(queue.next_frame())
        await asyncio.sleep(0)
        assert not reader.done()
        queue.close()
        assert await asyncio.wait_for(reader, timeout=5) is None

    asyncio.run(run())


def test_push_wakes_a_waiting_reader() -> None:
    async def run() -> None:
        queue, _ = make()
        reader = asyncio.create_task(queue.next_frame())
        await asyncio.sleep(0)
        assert not reader.done()
        queue.push(b"hello")
        assert await asyncio.wait_for(reader, timeout=5) == b"hello"
        assert queue.pending_bytes == 0

    asyncio.run(run())


def test_overflow_callback_sees_a_closed_queue() -> None:
    seen: list[tuple[bool, int]] = []
    queue: OutboundQueue

    def on_overflow() -> None:
        seen.append((queue.overflowed, queue.pending_frames))
        with pytest.raises(ClientGone):
            queue.push(b"reentrant")

    queue = OutboundQueue(QueueBounds(max_frames=1, max_bytes=100), on_overflow)
    queue.push(b"a")
    with pytest.raises(ClientGone):
        queue.push(b"b")
    assert seen == [(True, 0)]
