"""`SnapshotKeeper`: saving, taking over, fencing and identity, over a shared store.

The store and the runtime's state access are small in-memory fakes; a hypothesis state
machine plays three replicas sharing one store through connects, reruns, reconnects to
any replica, crashes, and stale owners waking up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hexlit.domain.snapshot_keeper import SnapshotKeeper
from hexlit.domain.snapshot_rules import DEFAULT_DELAY, SnapshotLimits, SnapshotSeal
from hexlit.ports.errors import StoreUnavailable
from hexlit.ports.runtime import CapturedState, ClientInfo, Outbox, SessionStart, UserInfo
from hexlit.ports.snapshots import SealedSnapshot
from tests.domain.fakes import FakeClock

T = TypeVar("T")
SECRET = "shared secret"
ALICE: UserInfo = {"email": "alice@example.com", "is_logged_in": True}
BOB: UserInfo = {"email": "bob@example.com", "is_logged_in": True}
ANON: UserInfo = {}


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class SharedStore:
    """`SessionSnapshots` in a dict, with a switch to play an outage."""

    def __init__(self) -> None:
        self.held: dict[str, SealedSnapshot] = {}
        self.down = False
        self.saved = asyncio.Event()

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("shared store unreachable")

    async def save(self, sealed: SealedSnapshot) -> bool:
        self._check()
        held = self.held.get(sealed.session_id)
        if held is not None and held.generation >= sealed.generation:
            return False
        self.held[sealed.session_id] = sealed
        self.saved.set()
        return True

    async def save_built(self, build: Callable[[], SealedSnapshot | None]) -> bool | None:
        sealed = build()
        return None if sealed is None else await self.save(sealed)

    async def load(self, session_id: str) -> SealedSnapshot | None:
        self._check()
        return self.held.get(session_id)

    async def delete(self, session_id: str, generation: int) -> None:
        self._check()
        held = self.held.get(session_id)
        if held is not None and held.generation <= generation:
            del self.held[session_id]


class CounterState:
    """`SessionStateAccess` of a runtime whose sessions each hold one number."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.skipped: tuple[str, ...] = ()
        self.listeners: list[Callable[[str], None]] = []

    def when_run_completes(self, listener: Callable[[str], None]) -> None:
        self.listeners.append(listener)

    async def capture(self, session_id: str) -> CapturedState | None:
        if session_id not in self.values:
            return None
        return CapturedState(str(self.values[session_id]).encode(), b"", "", "", self.skipped)

    def read(self, session_id: str) -> Callable[[], CapturedState] | None:
        if session_id not in self.values:
            return None
        captured = CapturedState(str(self.values[session_id]).encode(), b"", "", "", self.skipped)
        return lambda: captured

    async def restore(self, start: SessionStart, state: CapturedState, outbox: Outbox) -> str:
        self.values[start.session_id] = int(state.user_state)
        return start.session_id

    def rerun(self, session_id: str) -> None:
        self.values[session_id] += 1
        for listener in self.listeners:
            listener(session_id)


class Replica:
    def __init__(self, store: SharedStore, max_bytes: int = 1024 * 1024) -> None:
        self.state = CounterState()
        self.clock = FakeClock()
        self.keeper = SnapshotKeeper(
            store, self.state, SnapshotSeal(SECRET), self.clock, SnapshotLimits(max_bytes)
        )
        self.closed: list[str] = []

        async def fenced(session_id: str) -> None:
            self.closed.append(session_id)
            self.state.values.pop(session_id, None)

        self.keeper.when_fenced(fenced)

    def start(self, session_id: str, user: UserInfo) -> None:
        self.state.values[session_id] = 0
        self.keeper.hold(session_id, user)

    async def take_over(self, session_id: str, user: UserInfo) -> bool:
        state = await self.keeper.take_over(session_id, user)
        if state is None:
            return False
        start = SessionStart(session_id, False, _CLIENT, user)
        await self.keeper.restore(start, state, _OUTBOX)
        return True


class _Outbox:
    def push(self, frame: bytes) -> None:
        pass


_OUTBOX = _Outbox()
_CLIENT = ClientInfo()


def test_a_session_moves_to_another_replica_with_its_state() -> None:
    store = SharedStore()
    here, there = Replica(store), Replica(store)

    async def scenario() -> tuple[bool, bool, int, list[str]]:
        here.start("s-1", ALICE)
        here.state.rerun("s-1")
        here.state.rerun("s-1")
        saved = await here.keeper.save("s-1")
        moved = await there.take_over("s-1", ALICE)
        here.state.rerun("s-1")  # the old owner wakes up and runs once more
        stale_saved = await here.keeper.save("s-1")
        return saved and moved, stale_saved, there.state.values["s-1"], here.closed

    moved, stale_saved, value, closed = run(scenario())
    assert moved
    assert value == 2
    assert not stale_saved
    assert closed == ["s-1"]
    assert not here.keeper.holds("s-1")
    assert here.keeper.stats.snapshots_fenced == 1
    assert there.keeper.stats.snapshots_restored == 1


def test_a_snapshot_restores_only_for_its_own_identity() -> None:
    store = SharedStore()
    here, there = Replica(store), Replica(store)

    async def scenario() -> list[bool]:
        here.start("s-1", ALICE)
        await here.keeper.save("s-1")
        return [
            await there.take_over("s-1", BOB),
            await there.take_over("s-1", ANON),
            await there.take_over("s-1", ALICE),
        ]

    assert run(scenario()) == [False, False, True]


def test_a_tampered_snapshot_is_never_restored() -> None:
    store = SharedStore()
    here, there = Replica(store), Replica(store)

    async def scenario() -> bool:
        here.start("s-1", ANON)
        await here.keeper.save("s-1")
        sealed = store.held["s-1"]
        store.held["s-1"] = SealedSnapshot("s-1", sealed.generation, sealed.data[:-1] + b"9")
        return await there.take_over("s-1", ANON)

    assert not run(scenario())
    assert there.keeper.stats.snapshots_rejected == 1
    assert "s-1" not in there.state.values


def test_a_snapshot_above_the_cap_is_not_saved_and_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = SharedStore()
    replica = Replica(store, max_bytes=100)

    async def scenario() -> bool:
        replica.start("s-1", ANON)
        return await replica.keeper.save("s-1")

    with caplog.at_level(logging.WARNING, "hexlit.snapshots"):
        assert not run(scenario())
    assert store.held == {}
    assert replica.keeper.stats.snapshots_too_large == 1
    assert "snapshotMaxBytes" in caplog.text


def test_unpicklable_keys_are_counted_each_time_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    replica = Replica(SharedStore())
    replica.state.skipped = ("lock",)

    async def scenario() -> None:
        replica.start("s-1", ANON)
        await replica.keeper.save("s-1")
        await replica.keeper.save("s-1")

    with caplog.at_level(logging.WARNING, "hexlit.snapshots"):
        run(scenario())
    assert replica.keeper.stats.snapshot_values_skipped == 2
    assert caplog.text.count("'lock'") == 1


def test_a_store_outage_skips_snapshots_and_serving_goes_on() -> None:
    store = SharedStore()
    here, there = Replica(store), Replica(store)

    async def scenario() -> tuple[bool, bool, bool]:
        here.start("s-1", ANON)
        store.down = True
        saved = await here.keeper.save("s-1")
        taken = await there.take_over("s-1", ANON)
        store.down = False
        return saved, taken, await here.keeper.save("s-1")

    assert run(scenario()) == (False, False, True)
    assert here.keeper.stats.snapshot_store_failures == 1
    assert here.keeper.holds("s-1")


def test_an_ended_session_deletes_its_snapshot_but_not_a_successor_s() -> None:
    store = SharedStore()
    here, there = Replica(store), Replica(store)

    async def scenario() -> tuple[bool, bool]:
        here.start("s-1", ANON)
        here.start("s-2", ANON)
        await here.keeper.save("s-1")
        await here.keeper.save("s-2")
        await there.take_over("s-2", ANON)
        await here.keeper.ended("s-1")
        await here.keeper.ended("s-2")  # taken over: its snapshot is the new owner's
        return "s-1" in store.held, "s-2" in store.held

    assert run(scenario()) == (False, True)


def test_completed_runs_are_written_by_the_writer_within_the_delay() -> None:
    store = SharedStore()
    replica = Replica(store)

    async def scenario() -> int | None:
        replica.start("s-1", ANON)
        writer = asyncio.create_task(replica.keeper.write_forever())
        for _ in range(50):
            replica.state.rerun("s-1")
        replica.clock.advance(DEFAULT_DELAY)
        replica.keeper.run_completed("s-1")  # covered by the write already due
        async with asyncio.timeout(5):
            await store.saved.wait()
        writer.cancel()
        return replica.keeper.generation_of("s-1")

    assert run(scenario()) == 1  # fifty runs, one snapshot
    assert replica.keeper.stats.snapshots_saved == 1


USERS = {"alice": ALICE, "bob": BOB, "anon": ANON}


def _stored(store: SharedStore, session: str) -> int | None:
    sealed = store.held.get(session)
    return sealed.generation if sealed is not None else None


class Replicas(RuleBasedStateMachine):
    """Three replicas, one shared store, sessions created by one of three users."""

    def __init__(self) -> None:
        super().__init__()
        self.store = SharedStore()
        self.replicas = [Replica(self.store) for _ in range(3)]
        self.creator: dict[str, str] = {}
        self.last_saved: dict[str, int] = {}
        self.highest: dict[str, int] = {}

    @rule(
        replica=st.integers(0, 2),
        session=st.sampled_from(["s-1", "s-2"]),
        user=st.sampled_from(sorted(USERS)),
    )
    def connect(self, replica: int, session: str, user: str) -> None:
        """A browser offers `session`: a replica not running it takes it over if it can."""
        here = self.replicas[replica]
        if session not in self.creator:
            here.start(session, USERS[user])
            self.creator[session] = user
            return
        if here.keeper.holds(session):
            return
        taken = run(here.take_over(session, USERS[user]))
        if taken:
            assert user == self.creator[session], "state restored across identities"
            assert here.state.values[session] == self.last_saved.get(session, 0)

    @rule(replica=st.integers(0, 2), session=st.sampled_from(["s-1", "s-2"]))
    def rerun_and_snapshot(self, replica: int, session: str) -> None:
        """A run completes and its snapshot is written; a stale owner is fenced."""
        here = self.replicas[replica]
        if session not in here.state.values or not here.keeper.holds(session):
            return
        here.state.rerun(session)
        if run(here.keeper.save(session)):
            self.last_saved[session] = here.state.values[session]
        else:
            assert not here.keeper.holds(session)
            assert session in here.closed

    @rule(replica=st.integers(0, 2))
    def drain(self, replica: int) -> None:
        """SIGTERM: every session held is snapshotted, then the process is gone."""
        here = self.replicas[replica]
        run(here.keeper.write_all())
        for session in list(here.state.values):
            if here.keeper.generation_of(session) == _stored(self.store, session):
                self.last_saved[session] = here.state.values[session]
        self.replicas[replica] = Replica(self.store)

    @rule(replica=st.integers(0, 2))
    def crash(self, replica: int) -> None:
        """kill -9: the replica's memory is gone, the store is not."""
        self.replicas[replica] = Replica(self.store)

    @invariant()
    def generations_never_go_back(self) -> None:
        for session, sealed in self.store.held.items():
            assert sealed.generation >= self.highest.get(session, 0)
            self.highest[session] = sealed.generation

    @invariant()
    def at_most_one_live_owner(self) -> None:
        for session, sealed in self.store.held.items():
            live = [
                r for r in self.replicas if r.keeper.generation_of(session) == sealed.generation
            ]
            assert len(live) <= 1


TestReplicas = Replicas.TestCase
TestReplicas.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)


def test_the_writer_stops_when_cancelled_just_as_a_run_completes() -> None:
    """A drain cancels the writer; a run completing in the same loop turn must not
    swallow that cancel (asyncio.wait_for on 3.11 can), or the drain waits forever."""
    replica = Replica(SharedStore())

    async def scenario() -> int:
        replica.start("s-1", ANON)
        stopped = 0
        for _ in range(50):
            writer = asyncio.create_task(replica.keeper.write_forever())
            replica.keeper.run_completed("s-1")  # a write falls due in DEFAULT_DELAY
            await asyncio.sleep(0.01)  # the writer now waits for it, or for news
            replica.keeper.run_completed("s-1")
            replica.keeper._wake.set()  # news arrives in the same turn as the cancel
            writer.cancel()
            try:
                async with asyncio.timeout(2):
                    await writer
            except asyncio.CancelledError:
                stopped += 1
        return stopped

    assert run(scenario()) == 50


def test_a_capture_that_breaks_is_logged_and_the_others_are_still_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = SharedStore()
    replica = Replica(store)
    read = replica.state.read

    def breaks_for_one(session_id: str) -> Callable[[], CapturedState] | None:
        if session_id == "broken":
            raise AttributeError("an internal moved")
        return read(session_id)

    replica.state.read = breaks_for_one  # type: ignore[method-assign]

    async def scenario() -> None:
        replica.start("broken", ANON)
        replica.start("fine", ANON)
        await replica.keeper.write_all()

    with caplog.at_level(logging.ERROR, "hexlit.snapshots"):
        run(scenario())
    assert sorted(store.held) == ["fine"]
    assert "snapshot failed" in caplog.text
