"""`SessionService` with a `SnapshotKeeper`: what happens to a copy of a session held
here once another process has taken the session over."""

from __future__ import annotations

import asyncio

from hexlit.domain.origin_policy import OriginPolicy
from hexlit.domain.session_service import SessionLimits, SessionService
from hexlit.domain.snapshot_keeper import SnapshotKeeper
from hexlit.domain.snapshot_rules import SnapshotLimits, SnapshotSeal
from hexlit.ports.runtime import ClientInfo
from hexlit.ports.sessions import Handshake
from tests.domain.fakes import FakeClock, FakeConnection, FakeRuntime, SequentialIds
from tests.domain.test_snapshot_keeper import ANON, SECRET, CounterState, Replica, SharedStore

TTL = 10.0


def test_an_expired_copy_of_a_session_that_moved_on_leaves_its_files_and_snapshot() -> None:
    store = SharedStore()
    clock = FakeClock()
    state = CounterState()
    keeper = SnapshotKeeper(store, state, SnapshotSeal(SECRET), clock, SnapshotLimits())
    service = SessionService(
        FakeRuntime(),
        clock,
        SequentialIds(),
        OriginPolicy(),
        SessionLimits(reconnect_ttl=TTL),
        snapshots=keeper,
    )
    files_removed: list[str] = []

    async def remove_files(session_id: str) -> None:
        files_removed.append(session_id)

    service.when_ended(remove_files)
    elsewhere = Replica(store)
    handshake = Handshake("http://localhost", "localhost", "streamlit", ClientInfo())

    async def scenario() -> tuple[bool, bool]:
        moving = await service.open(service.admit(handshake), FakeConnection())
        staying = await service.open(service.admit(handshake), FakeConnection())
        for handle in (moving, staying):
            state.values[handle.session_id] = 1
            await keeper.save(handle.session_id)
        taken = await elsewhere.take_over(moving.session_id, ANON)
        await service.close(moving)
        await service.close(staying)
        clock.advance(TTL)
        await service.open(service.admit(handshake), FakeConnection())  # runs the expiry
        return taken, moving.session_id in store.held

    taken, snapshot_kept = asyncio.run(scenario())
    assert taken
    assert files_removed == ["s-2"]  # the session that stayed here ended; s-1 lives on
    assert snapshot_kept
    assert "s-2" not in store.held
