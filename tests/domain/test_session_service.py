"""`SessionService`: the WebSocket session core, driven through its ports with fakes.

Each test runs its own event loop with `asyncio.run`; no pytest plugin is involved.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hexlit.domain.metrics_service import MetricsService
from hexlit.domain.origin_policy import OriginPolicy
from hexlit.domain.outbound_queue import QueueBounds
from hexlit.domain.session_service import SessionLimits, SessionService
from hexlit.ports.connection import CloseCause
from hexlit.ports.errors import (
    BadRequest,
    HostRejected,
    OriginRejected,
    RuntimeUnavailable,
    StoreUnavailable,
)
from hexlit.ports.metrics import MetricFamily
from hexlit.ports.runtime import ClientInfo, Outbox, SessionStart
from hexlit.ports.sessions import Admission, Handshake, SessionHandle
from tests.domain.fakes import FakeClock, FakeConnection, FakeRuntime, SequentialIds

TTL = 10.0
CLIENT = ClientInfo(headers=(("User-Agent", "test"),), cookies=(("a", "b"),), remote_ip="10.0.0.1")


@dataclass
class World:
    """A `SessionService` wired to fakes, plus helpers to drive it like a web adapter."""

    limits: SessionLimits = field(
        default_factory=lambda: SessionLimits(
            max_frame_bytes=16, queue=QueueBounds(max_frames=4, max_bytes=1000), reconnect_ttl=TTL
        )
    )
    policy: OriginPolicy = field(default_factory=OriginPolicy)
    runtime: FakeRuntime = field(default_factory=FakeRuntime)
    clock: FakeClock = field(default_factory=FakeClock)
    ids: SequentialIds = field(default_factory=SequentialIds)
    service: SessionService = field(init=False)

    def __post_init__(self) -> None:
        self.service = SessionService(self.runtime, self.clock, self.ids, self.policy, self.limits)

    def admit(self, resume: str | None = None) -> Admission:
        offer = "streamlit, xsrf-token" + (f", {resume}" if resume else "")
        return self.service.admit(
            Handshake("http://localhost:8501", "localhost:8501", offer, CLIENT)
        )

    async def connect(
        self, resume: str | None = None
    ) -> tuple[SessionHandle, FakeConnection, Outbox]:
        connection = FakeConnection()
        handle = await self.service.open(self.admit(resume), connection)
        await settle()
        return handle, connection, self.runtime.connects[-1].outbox


async def settle() -> None:
    """Let every task that is ready run (senders, background closes) without real time."""
    for _ in range(20):
        await asyncio.sleep(0)


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


# -- admit ----------------------------------------------------------------------------


def test_admit_selects_the_first_entry_and_reads_token_and_resume_id() -> None:
    world = World()
    handshake = Handshake(None, "example.com", "streamlit, 2|ab12|cd34|1700000000, s-7", CLIENT)
    admission = world.service.admit(handshake)
    assert admission == Admission("streamlit", "s-7", "2|ab12|cd34|1700000000", handshake)


def test_admit_without_subprotocols_selects_none() -> None:
    world = World()
    admission = world.service.admit(Handshake(None, None, None, CLIENT))
    assert (admission.subprotocol, admission.resume_id, admission.auth_token) == (None, None, None)
    assert world.service.stats.rejected_handshakes == 0


def test_admit_rejects_a_foreign_origin_and_counts_it() -> None:
    world = World()
    with pytest.raises(OriginRejected):
        world.service.admit(Handshake("https://evil.example", "example.com", "streamlit", CLIENT))
    assert world.service.stats.rejected_handshakes == 1


def test_admit_rejects_a_host_not_allowed_and_a_malformed_offer() -> None:
    world = World(policy=OriginPolicy(allowed_hosts=("example.com",)))
    with pytest.raises(HostRejected):
        world.service.admit(Handshake(None, "other.example", "streamlit", CLIENT))
    with pytest.raises(BadRequest):
        world.service.admit(Handshake(None, "example.com", '"streamlit"', CLIENT))
    assert world.service.stats.rejected_handshakes == 2


# -- open, frames both ways -------------------------------------------------------------


def test_open_connects_a_fresh_session_with_a_new_id() -> None:
    async def test() -> None:
        world = World()
        handle, connection, _ = await world.connect()
        assert handle.session_id == world.ids.issued[0] == "s-1"
        assert [c.start for c in world.runtime.connects] == [
            SessionStart("s-1", resume=False, client=CLIENT, user_info={})
        ]
        assert world.service.open_connections == 1
        assert world.service.stats.sessions_opened == 1
        assert world.service.stats.sessions_resumed == 0
        assert not connection.closed

    run(test)


def test_frames_from_the_runtime_reach_the_socket_in_order() -> None:
    async def test() -> None:
        world = World()
        handle, connection, _ = await world.connect()
        frames = [b"one", b"two", b"three"]
        for batch in (frames, [b"four"], [b"five", b"six"]):
            assert world.runtime.push(handle.session_id, *batch) == len(batch)
            await settle()
        assert connection.sent == [*frames, b"four", b"five", b"six"]
        assert world.service.stats.frames_out == 6
        assert world.service.stats.bytes_out == sum(map(len, connection.sent))

    run(test)


def test_many_frames_to_a_fast_client_never_overflow() -> None:
    async def test() -> None:
        world = World()
        handle, connection, _ = await world.connect()
        expected = [str(i).encode() for i in range(40)]
        for start in range(0, 40, 4):  # 10 bursts of exactly queue.max_frames
            world.runtime.push(handle.session_id, *expected[start : start + 4])
            await settle()
        assert connection.sent == expected
        assert not connection.closed
        assert world.service.stats.slow_consumer_disconnects == 0

    run(test)


def test_binary_frames_reach_the_runtime_with_the_connections_outbox() -> None:
    async def test() -> None:
        world = World()
        handle, _, outbox = await world.connect()
        await world.service.receive(handle, b"hello")
        await world.service.receive(handle, b"")
        assert world.runtime.deliveries == [("s-1", b"hello"), ("s-1", b"")]
        assert world.runtime.received_by("s-1") == [b"hello", b""]  # the outbox matched
        assert world.runtime.outbox_of("s-1") is outbox
        assert (world.service.stats.frames_in, world.service.stats.bytes_in) == (2, 5)

    run(test)


@pytest.mark.parametrize(
    ("frame", "cause"),
    [
        ("text", CloseCause.UNSUPPORTED_FRAME),
        ("", CloseCause.UNSUPPORTED_FRAME),
        (b"x" * 17, CloseCause.FRAME_TOO_LARGE),
    ],
)
def test_a_frame_the_protocol_refuses_closes_the_connection(
    frame: bytes | str, cause: CloseCause
) -> None:
    async def test() -> None:
        world = World()
        handle, connection, _ = await world.connect()
        await world.service.receive(handle, frame)
        assert connection.close_causes == [cause]
        assert world.runtime.deliveries == []
        assert world.service.stats.frames_in == 0
        assert world.service.open_connections == 0
        assert world.runtime.outbox_of("s-1") is None
        await world.service.receive(handle, b"after close")  # ignored, never raises
        await world.service.close(handle)  # the socket reports its close: no change
        assert world.runtime.deliveries == []
        assert connection.close_causes == [cause]
        again, _, _ = await world.connect(resume="s-1")  # the session itself survives
        assert again.session_id == "s-1"
        assert world.runtime.connects[-1].start.resume

    run(test)


def test_a_frame_of_exactly_the_limit_is_accepted() -> None:
    async def test() -> None:
        world = World()
        handle, connection, _ = await world.connect()
        await world.service.receive(handle, b"x" * 16)
        assert not connection.closed
        assert world.runtime.deliveries == [("s-1", b"x" * 16)]

    run(test)


def test_a_malformed_frame_closes_the_connection() -> None:
    async def test() -> None:
        world = World()
        world.runtime.malformed.add(b"\xff")
        handle, connection, _ = await world.connect()
        await world.service.receive(handle, b"\xff")
        assert connection.close_causes == [CloseCause.MALFORMED_FRAME]
        assert world.service.open_connections == 0

    run(test)


def test_a_frame_the_runtime_hangs_up_on_closes_normally_and_stays_resumable() -> None:
    async def test() -> None:
        world = World()
        world.runtime.hang_up.add(b"bye")
        handle, connection, _ = await world.connect()
        await world.service.receive(handle, b"bye")
        assert connection.close_causes == [CloseCause.NORMAL]
        assert world.service.open_connections == 0
        await world.service.close(handle)
        again, _, _ = await world.connect(resume="s-1")
        assert again.session_id == "s-1"
        assert world.runtime.connects[-1].start.resume

    run(test)


def test_a_runtime_stopping_mid_session_closes_as_unavailable() -> None:
    async def test() -> None:
        world = World()
        handle, connection, _ = await world.connect()
        world.runtime.unavailable = True
        await world.service.receive(handle, b"x")
        assert connection.close_causes == [CloseCause.RUNTIME_UNAVAILABLE]

    run(test)


# -- close, resume, expire --------------------------------------------------------------


def test_close_then_reopen_within_ttl_resumes_the_same_session() -> None:
    async def test() -> None:
        world = World()
        handle, _, _ = await world.connect()
        await world.service.close(handle)
        await world.service.close(handle)  # idempotent
        assert world.runtime.disconnects == ["s-1"]
        assert world.runtime.outbox_of("s-1") is None
        world.clock.advance(TTL - 0.01)
        again, connection, outbox = await world.connect(resume="s-1")
        assert again.session_id == "s-1"
        assert world.runtime.connects[-1].start == SessionStart("s-1", True, CLIENT, {})
        assert world.runtime.outbox_of("s-1") is outbox
        assert world.service.stats.sessions_resumed == 1
        assert world.runtime.closed_sessions == []
        world.runtime.push("s-1", b"still here")
        await settle()
        assert connection.sent == [b"still here"]

    run(test)


def test_after_ttl_the_session_is_closed_and_the_offered_id_gets_a_fresh_one() -> None:
    async def test() -> None:
        world = World()
        handle, _, _ = await world.connect()
        await world.service.close(handle)
        world.clock.advance(TTL)
        other, _, _ = await world.connect()  # any open runs the expiry
        assert world.runtime.closed_sessions == ["s-1"]
        assert not world.runtime.holds("s-1")
        await world.service.close(other)
        fresh, _, _ = await world.connect(resume="s-1")
        assert fresh.session_id not in ("s-1", other.session_id)
        assert not world.runtime.connects[-1].start.resume
        assert world.service.stats.sessions_resumed == 0

    run(test)


def test_a_session_past_its_ttl_is_not_resumed_even_before_a_sweep() -> None:
    async def test() -> None:
        world = World()
        handle, _, _ = await world.connect()
        await world.service.close(handle)
        world.clock.advance(TTL + 1)
        again, _, _ = await world.connect(resume="s-1")
        assert again.session_id != "s-1"
        assert not world.runtime.connects[-1].start.resume
        assert world.runtime.closed_sessions == ["s-1"]

    run(test)


def test_the_sweeper_expires_sessions_without_traffic() -> None:
    async def test() -> None:
        world = World(limits=SessionLimits(reconnect_ttl=0.2))  # sweeps every 0.05 s
        await world.service.start()
        handle, _, _ = await world.connect()
        await world.service.close(handle)
        world.clock.advance(0.2)
        async with asyncio.timeout(5):  # a real wait, bounded; the sweep is due in 0.05 s
            await world.runtime.session_closed()
        assert world.runtime.closed_sessions == ["s-1"]
        await world.service.stop()

    run(test)


class FailingEndListener:
    """An end listener like the Redis upload store's `delete_session` during an outage."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.failing = failing  # None: every call fails
        self.calls: list[str] = []

    async def __call__(self, session_id: str) -> None:
        self.calls.append(session_id)
        if self.failing is None or session_id in self.failing:
            raise StoreUnavailable("shared store unreachable")


def test_a_failing_end_listener_does_not_stop_the_expiry_of_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def test() -> None:
        world = World()
        failing, recording = FailingEndListener({"s-1"}), FailingEndListener(set())
        world.service.when_ended(failing)
        world.service.when_ended(recording)
        first, _, _ = await world.connect()
        second, _, _ = await world.connect()
        await world.service.close(first)
        await world.service.close(second)
        world.clock.advance(TTL)
        third, _, _ = await world.connect()  # runs the expiry; must not raise
        assert world.runtime.closed_sessions == ["s-1", "s-2"]
        assert failing.calls == ["s-1", "s-2"]
        assert recording.calls == ["s-1", "s-2"]
        assert world.service.stats.session_end_failures == 1
        assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
            "session s-1: ending it failed in one step (shared store unreachable); expiry goes on"
        ]
        assert third.session_id == "s-3"
        exported = await MetricsService(NoRuntimeMetrics(), world.service).collect(
            ["hexlit_session_end_failures"]
        )
        assert [family.samples for family in exported] == [("hexlit_session_end_failures_total 1",)]

    run(test)


class NoRuntimeMetrics:
    """A `MetricsSource` with no families of its own: only hexlit's counters remain."""

    async def metric_families(self, names: Sequence[str] | None) -> list[MetricFamily]:
        return []


def test_a_runtime_that_cannot_close_a_session_still_lets_its_files_go() -> None:
    async def test() -> None:
        world = World()
        recording = FailingEndListener(set())
        world.service.when_ended(recording)
        first, _, _ = await world.connect()
        second, _, _ = await world.connect()
        await world.service.close(first)
        await world.service.close(second)
        world.runtime.refuse_close = {"s-1"}
        world.clock.advance(TTL)
        await world.connect()
        assert world.runtime.closed_sessions == ["s-2"]
        assert recording.calls == ["s-1", "s-2"]
        assert world.service.stats.session_end_failures == 1

    run(test)


def test_the_sweeper_outlives_a_store_outage() -> None:
    async def test() -> None:
        world = World(limits=SessionLimits(reconnect_ttl=0.2))  # sweeps every 0.05 s
        world.service.when_ended(FailingEndListener())  # the store is down throughout
        await world.service.start()
        for expected in (["s-1"], ["s-1", "s-2"]):
            handle, _, _ = await world.connect()
            await world.service.close(handle)
            world.clock.advance(0.2)
            async with asyncio.timeout(5):  # a real wait, bounded; a sweep is due in 0.05 s
                await world.runtime.session_closed()
            assert world.runtime.closed_sessions == expected
        assert world.service.stats.session_end_failures == 2
        await world.service.stop()

    run(test)


def test_a_taken_over_session_closes_the_old_socket_as_replaced() -> None:
    async def test() -> None:
        world = World()
        old, old_connection, _ = await world.connect()
        new, new_connection, new_outbox = await world.connect(resume="s-1")
        assert new.session_id == "s-1"
        assert old_connection.close_causes == [CloseCause.REPLACED]
        assert not new_connection.closed
        assert world.runtime.connects[-1].start.resume
        assert world.runtime.outbox_of("s-1") is new_outbox
        assert world.service.open_connections == 1
        # The old socket now reports its close: the new connection keeps the session.
        await world.service.close(old)
        assert world.runtime.outbox_of("s-1") is new_outbox
        assert world.service.open_connections == 1
        world.runtime.push("s-1", b"to the new one")
        await settle()
        assert new_connection.sent == [b"to the new one"]
        assert old_connection.sent == []
        await world.service.receive(old, b"stale")
        assert world.runtime.deliveries == []
        # ...and the session is still attached: a third connection takes it over again.
        _, third_connection, _ = await world.connect(resume="s-1")
        assert new_connection.close_causes == [CloseCause.REPLACED]
        assert not third_connection.closed

    run(test)


def test_a_slow_consumer_is_cut_off_and_can_resume() -> None:
    async def test() -> None:
        world = World()
        handle, connection, _ = await world.connect()
        connection.make_slow()
        accepted = world.runtime.push("s-1", *(str(i).encode() for i in range(10)))
        assert accepted == world.limits.queue.max_frames
        await settle()
        assert connection.close_causes == [CloseCause.SLOW_CONSUMER]
        assert world.service.stats.slow_consumer_disconnects == 1
        assert world.service.open_connections == 0
        assert world.runtime.outbox_of("s-1") is None
        connection.release()
        await world.service.close(handle)  # the socket reports the close
        again, fast, _ = await world.connect(resume="s-1")
        assert again.session_id == "s-1"
        assert world.runtime.connects[-1].start.resume
        world.runtime.push("s-1", b"welcome back")
        await settle()
        assert fast.sent == [b"welcome back"]
        assert world.service.stats.slow_consumer_disconnects == 1

    run(test)


def test_a_client_stalled_mid_send_is_cut_off_one_frame_later() -> None:
    async def test() -> None:
        world = World()
        _, connection, _ = await world.connect()
        connection.make_slow()
        pushed = 0
        while world.runtime.push("s-1", b"f") == 1:
            pushed += 1
            await settle()  # the sender takes one frame and stalls in send
        assert pushed == world.limits.queue.max_frames + 1
        await settle()
        assert connection.close_causes == [CloseCause.SLOW_CONSUMER]
        assert connection.sent == []

    run(test)


# -- runtime failures, lifecycle ------------------------------------------------------


def test_an_unavailable_runtime_closes_the_socket_and_raises() -> None:
    async def test() -> None:
        world = World()
        world.runtime.unavailable = True
        connection = FakeConnection()
        with pytest.raises(RuntimeUnavailable):
            await world.service.open(world.admit(), connection)
        assert connection.close_causes == [CloseCause.RUNTIME_UNAVAILABLE]
        assert world.service.open_connections == 0
        world.runtime.unavailable = False
        handle, _, _ = await world.connect(resume="s-1")  # nothing was kept for s-1
        assert handle.session_id == "s-2"
        assert not world.runtime.connects[-1].start.resume

    run(test)


def test_a_failed_resume_neither_loses_nor_leaks_the_session() -> None:
    async def test() -> None:
        world = World()
        handle, _, _ = await world.connect()
        await world.service.close(handle)
        world.runtime.unavailable = True
        with pytest.raises(RuntimeUnavailable):
            await world.service.open(world.admit("s-1"), FakeConnection())
        world.runtime.unavailable = False
        again, _, _ = await world.connect(resume="s-1")
        # Either the session is still resumable, or the runtime was told to end it.
        assert again.session_id == "s-1" or "s-1" in world.runtime.closed_sessions

    run(test)


def test_a_session_the_runtime_lost_resumes_under_the_runtimes_new_id() -> None:
    async def test() -> None:
        world = World()
        handle, _, _ = await world.connect()
        await world.service.close(handle)
        world.runtime.lose("s-1")
        again, _, outbox = await world.connect(resume="s-1")
        assert again.session_id == "r-1"
        assert world.runtime.outbox_of("r-1") is outbox
        assert world.service.stats.sessions_resumed == 0
        await world.service.close(again)
        third, _, _ = await world.connect(resume="r-1")
        assert third.session_id == "r-1"
        assert world.service.stats.sessions_resumed == 1

    run(test)


def test_stop_closes_every_socket_and_refuses_new_ones() -> None:
    async def test() -> None:
        world = World()
        await world.service.start()
        assert world.runtime.started
        _, first, _ = await world.connect()
        _, second, _ = await world.connect()
        await world.service.stop()
        await world.service.stop()  # idempotent
        assert first.close_causes == [CloseCause.GOING_AWAY]
        assert second.close_causes == [CloseCause.GOING_AWAY]
        assert world.runtime.stopped
        assert world.service.open_connections == 0
        late = FakeConnection()
        with pytest.raises(RuntimeUnavailable):
            await world.service.open(world.admit(), late)
        assert late.close_causes == [CloseCause.RUNTIME_UNAVAILABLE]
        assert len(world.runtime.connects) == 2

    run(test)


def test_handles_from_elsewhere_are_refused() -> None:
    @dataclass
    class Forged:
        session_id: str = "s-1"

    async def test() -> None:
        world = World()
        await world.connect()
        with pytest.raises(TypeError):
            await world.service.receive(Forged(), b"x")
        with pytest.raises(TypeError):
            await world.service.close(Forged())
        assert world.service.open_connections == 1

    run(test)


# -- the stateful model ---------------------------------------------------------------

MAX_FRAMES = 3
MAX_FRAME_BYTES = 8
MAX_DETACHED = 2
MALFORMED = b"\xff\xfe"


@dataclass(eq=False)
class Conn:
    handle: SessionHandle
    socket: FakeConnection
    outbox: Outbox
    adapter_closed: bool = False  # the web adapter called `close` on it


class SessionServiceMachine(RuleBasedStateMachine):
    """The service, driven as two web stacks would drive it, against a small model."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.world = World(
            limits=SessionLimits(
                max_frame_bytes=MAX_FRAME_BYTES,
                queue=QueueBounds(max_frames=MAX_FRAMES, max_bytes=10_000),
                reconnect_ttl=TTL,
                max_detached=MAX_DETACHED,
            )
        )
        self.world.runtime.malformed.add(MALFORMED)
        self.conns: list[Conn] = []
        self.open: dict[str, Conn] = {}  # session id -> the connection holding it
        self.detached: OrderedDict[str, float] = OrderedDict()
        self.expired: set[str] = set()
        self.known: list[str] = []
        self.frames_in = 0
        self.slow = 0

    def teardown(self) -> None:
        async def stop_everything() -> None:
            await self.world.service.stop()
            others = asyncio.all_tasks() - {asyncio.current_task()}
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        try:
            self.loop.run_until_complete(stop_everything())
        finally:
            self.loop.close()

    def drive(self, step: Awaitable[None]) -> None:
        async def then_settle() -> None:
            await step
            await settle()

        self.loop.run_until_complete(then_settle())

    # -- the model's rules --------------------------------------------------------------

    def model_expire(self) -> None:
        now = self.world.clock.monotonic()
        while self.detached:
            sid, since = next(iter(self.detached.items()))
            if now - since < TTL and len(self.detached) <= MAX_DETACHED:
                break
            del self.detached[sid]
            self.expired.add(sid)

    def model_detach(self, conn: Conn) -> None:
        sid = conn.handle.session_id
        assert self.open.pop(sid) is conn
        self.detached[sid] = self.world.clock.monotonic()
        self.model_expire()

    def open_conn(self, offered: str | None) -> Conn:
        async def step() -> Conn:
            handle, socket, outbox = await self.world.connect(resume=offered)
            return Conn(handle, socket, outbox)

        conn = self.loop.run_until_complete(step())
        self.conns.append(conn)
        return conn

    # -- rules --------------------------------------------------------------------------

    @rule()
    def connect(self) -> None:
        conn = self.open_conn(None)
        sid = conn.handle.session_id
        assert sid not in self.known
        assert not self.world.runtime.connects[-1].start.resume
        self.known.append(sid)
        self.open[sid] = conn
        self.model_expire()

    @precondition(lambda self: self.known)
    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        offered = data.draw(st.sampled_from([*self.known, "never-issued"]), label="offered")
        displaced = self.open.get(offered)
        conn = self.open_conn(offered)
        sid = conn.handle.session_id
        resumed = self.world.runtime.connects[-1].start.resume
        if displaced is not None:
            assert (sid, resumed) == (offered, True)
            assert displaced.socket.close_causes == [CloseCause.REPLACED]
        elif offered in self.detached:
            assert (sid, resumed) == (offered, True)
            del self.detached[offered]
        else:
            assert sid not in self.known
            assert not resumed
            self.known.append(sid)
        self.open[sid] = conn
        self.model_expire()

    @precondition(lambda self: self.conns)
    @rule(
        data=st.data(),
        frame=st.sampled_from([b"ok", b"", b"x" * MAX_FRAME_BYTES, b"x" * 9, "text", MALFORMED]),
    )
    def send(self, data: st.DataObject, frame: bytes | str) -> None:
        conn = data.draw(st.sampled_from(self.conns), label="conn")
        is_open = self.open.get(conn.handle.session_id) is conn
        deliveries = len(self.world.runtime.deliveries)
        self.drive(self.world.service.receive(conn.handle, frame))
        if not is_open:
            assert len(self.world.runtime.deliveries) == deliveries
            return
        accepted = isinstance(frame, bytes) and len(frame) <= MAX_FRAME_BYTES
        self.frames_in += int(accepted)
        if accepted and frame != MALFORMED:
            assert self.world.runtime.received_by(conn.handle.session_id)[-1] == frame
            return
        cause = {
            str: CloseCause.UNSUPPORTED_FRAME,
            bytes: CloseCause.MALFORMED_FRAME if accepted else CloseCause.FRAME_TOO_LARGE,
        }[type(frame)]
        assert conn.socket.close_causes == [cause]
        self.model_detach(conn)

    @precondition(lambda self: self.open)
    @rule(data=st.data(), count=st.integers(min_value=1, max_value=MAX_FRAMES))
    def runtime_sends(self, data: st.DataObject, count: int) -> None:
        sid = data.draw(st.sampled_from(sorted(self.open)), label="session")
        frames = [f"{sid}:{len(self.open[sid].socket.sent) + i}".encode() for i in range(count)]

        async def step() -> None:
            assert self.world.runtime.push(sid, *frames) == count

        self.drive(step())
        assert self.open[sid].socket.sent[-count:] == frames

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def slow_consumer(self, data: st.DataObject) -> None:
        sid = data.draw(st.sampled_from(sorted(self.open)), label="session")
        conn = self.open[sid]

        async def step() -> None:
            conn.socket.make_slow()
            frames = [b"flood"] * (MAX_FRAMES + 2)
            assert self.world.runtime.push(sid, *frames) == MAX_FRAMES

        self.drive(step())
        conn.socket.release()
        assert conn.socket.close_causes == [CloseCause.SLOW_CONSUMER]
        self.slow += 1
        self.model_detach(conn)

    @precondition(lambda self: any(not conn.adapter_closed for conn in self.conns))
    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        candidates = [conn for conn in self.conns if not conn.adapter_closed]
        conn = data.draw(st.sampled_from(candidates), label="conn")
        was_open = self.open.get(conn.handle.session_id) is conn
        closes = list(conn.socket.closes)
        self.drive(self.world.service.close(conn.handle))
        conn.adapter_closed = True
        assert conn.socket.closes == closes  # the service does not close what went away
        if was_open:
            self.model_detach(conn)

    @rule(seconds=st.sampled_from([1.0, TTL / 2, TTL - 0.5, TTL, 3 * TTL]))
    def time_passes(self, seconds: float) -> None:
        """Time moves on; a short visit (open, then close) lets the service expire."""
        self.world.clock.advance(seconds)
        self.connect()
        self.disconnect_conn(self.conns[-1])

    def disconnect_conn(self, conn: Conn) -> None:
        self.drive(self.world.service.close(conn.handle))
        conn.adapter_closed = True
        self.model_detach(conn)

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def runtime_binds_each_open_session_to_its_connections_outbox(self) -> None:
        for sid, conn in self.open.items():
            assert self.world.runtime.outbox_of(sid) is conn.outbox
            assert not conn.socket.closed

    @invariant()
    def frames_in_counts_accepted_binary_frames(self) -> None:
        assert self.world.service.stats.frames_in == self.frames_in

    @invariant()
    def no_open_connection_for_a_closed_session(self) -> None:
        closed = self.world.runtime.closed_sessions
        assert len(closed) == len(set(closed))
        assert set(closed) == self.expired
        assert not self.expired & set(self.open)

    @invariant()
    def counters_match(self) -> None:
        assert self.world.service.open_connections == len(self.open)
        assert self.world.service.stats.slow_consumer_disconnects == self.slow
        assert len(self.detached) <= MAX_DETACHED
        for conn in self.conns:
            assert len(conn.socket.closes) <= 1


SessionServiceMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None
)
test_session_service_state_machine = SessionServiceMachine.TestCase
