"""Snapshot rules without I/O: the seal, owner fingerprints, the switch, the schedule."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexlit.domain.snapshot_rules import SnapshotSchedule, SnapshotSeal, snapshots_enabled
from hexlit.ports.snapshots import SealedSnapshot, SessionSnapshot

SECRET = "server secret"
DELAY = 0.2

snapshots = st.builds(
    SessionSnapshot,
    session_id=st.text(min_size=1, max_size=64),
    generation=st.integers(min_value=1, max_value=2**53),
    user_state=st.binary(max_size=300),
    widget_states=st.binary(max_size=300),
    page=st.text(max_size=30),
    query_string=st.text(max_size=30),
    owner=st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
)


@given(snapshots)
def test_a_sealed_snapshot_opens_to_itself(snapshot: SessionSnapshot) -> None:
    sealed = SnapshotSeal(SECRET).seal(snapshot)
    assert (sealed.session_id, sealed.generation) == (snapshot.session_id, snapshot.generation)
    assert SnapshotSeal(SECRET).open(sealed) == snapshot


@settings(max_examples=300)
@given(snapshots, st.data())
def test_any_changed_byte_fails_the_seal(snapshot: SessionSnapshot, data: st.DataObject) -> None:
    sealed = SnapshotSeal(SECRET).seal(snapshot)
    position = data.draw(st.integers(0, len(sealed.data) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(sealed.data)
    changed[position] ^= flip
    forged = SealedSnapshot(sealed.session_id, sealed.generation, bytes(changed))
    assert SnapshotSeal(SECRET).open(forged) is None


@given(snapshots, st.binary(max_size=40))
def test_truncated_or_extended_data_fails_the_seal(snapshot: SessionSnapshot, tail: bytes) -> None:
    sealed = SnapshotSeal(SECRET).seal(snapshot)
    for data in (sealed.data[: len(sealed.data) // 2], sealed.data + tail + b"x", b""):
        forged = SealedSnapshot(sealed.session_id, sealed.generation, data)
        assert SnapshotSeal(SECRET).open(forged) is None


@given(snapshots)
def test_another_secret_never_opens_a_snapshot(snapshot: SessionSnapshot) -> None:
    sealed = SnapshotSeal(SECRET).seal(snapshot)
    assert SnapshotSeal("another secret").open(sealed) is None


@given(snapshots, st.text(min_size=1, max_size=64), st.integers(1, 2**53))
def test_a_snapshot_moved_to_another_session_or_generation_is_refused(
    snapshot: SessionSnapshot, other_id: str, other_generation: int
) -> None:
    sealed = SnapshotSeal(SECRET).seal(snapshot)
    moved = [
        SealedSnapshot(other_id, sealed.generation, sealed.data),
        SealedSnapshot(sealed.session_id, other_generation, sealed.data),
    ]
    for candidate in moved:
        if (candidate.session_id, candidate.generation) != (sealed.session_id, sealed.generation):
            assert SnapshotSeal(SECRET).open(candidate) is None


def test_owner_fingerprints_tell_identities_apart_and_hide_them() -> None:
    seal = SnapshotSeal(SECRET)
    alice = {"email": "alice@example.com", "is_logged_in": True}
    bob = {"email": "bob@example.com", "is_logged_in": True}
    assert seal.owner(alice) == seal.owner(dict(reversed(list(alice.items()))))
    assert len({seal.owner(alice), seal.owner(bob), seal.owner({})}) == 3
    assert "alice" not in seal.owner(alice)
    assert SnapshotSeal("another secret").owner(alice) != seal.owner(alice)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        SnapshotSeal("")


@pytest.mark.parametrize(
    ("switch", "store", "enabled"),
    [
        ("auto", "memory", False),
        ("auto", "filesystem", True),
        ("auto", "redis", True),
        ("on", "memory", True),
        ("off", "redis", False),
        ("off", "filesystem", False),
    ],
)
def test_the_switch(switch: str, store: str, enabled: bool) -> None:
    assert snapshots_enabled(switch, store) is enabled


def test_the_switch_refuses_other_values() -> None:
    with pytest.raises(ValueError, match="sessionSnapshots"):
        snapshots_enabled("sometimes", "redis")


completions = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.floats(0, 10, allow_nan=False)), max_size=200
)


@settings(max_examples=300)
@given(completions, st.floats(0, 0.5))
def test_schedule_writes_every_run_within_the_delay_and_coalesces(
    events: list[tuple[str, float]], write_time: float
) -> None:
    """A writer that wakes exactly when the schedule says, each write taking
    `write_time`: every completed run is covered by a write that starts after it and
    at most `delay` (plus the write in flight) later, one session is never written twice
    at once, and a session writes at most once per `delay`."""
    schedule = SnapshotSchedule(DELAY)
    events = sorted(events, key=lambda event: event[1])
    writes: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    in_flight: dict[str, float] = {}  # session -> when its write ends
    now = 0.0
    pending_events = list(events)

    def finish_writes_until(moment: float) -> None:
        for sid, ends in sorted(in_flight.items(), key=lambda item: item[1]):
            if ends <= moment:
                schedule.written(sid, ends)
                del in_flight[sid]

    while pending_events or schedule.pending or in_flight:
        next_event = pending_events[0][1] if pending_events else None
        next_due = schedule.next_due()
        next_end = min(in_flight.values(), default=None)
        moments = [m for m in (next_event, next_due, next_end) if m is not None]
        now = max(now, min(moments))
        finish_writes_until(now)
        while pending_events and pending_events[0][1] <= now:
            schedule.completed(pending_events.pop(0)[0], now)
        for sid in schedule.due(now):
            assert sid not in in_flight
            in_flight[sid] = now + write_time
            writes[sid].append((now, now + write_time))

    for sid, at in events:
        # the run's state is read when a write starts at or after the run completed
        assert any(at <= start <= at + DELAY + write_time for start, _ in writes[sid])
    for done in writes.values():
        starts = [start for start, _ in done]
        assert all(b - a >= DELAY - 1e-9 for a, b in itertools.pairwise(starts))
        span = (events[-1][1] - events[0][1]) if events else 0.0
        assert len(starts) <= span / DELAY + 2


def test_a_forgotten_session_is_not_written() -> None:
    schedule = SnapshotSchedule(DELAY)
    schedule.completed("a", 0.0)
    schedule.forget("a")
    assert schedule.due(10.0) == []
    assert schedule.next_due() is None


def test_everything_makes_all_pending_writes_due_at_once() -> None:
    schedule = SnapshotSchedule(DELAY)
    schedule.completed("a", 0.0)
    schedule.completed("b", 0.1)
    assert sorted(schedule.everything()) == ["a", "b"]
    assert schedule.due(100.0) == []


schedule_steps = st.lists(
    st.tuples(
        st.sampled_from(["completed", "due", "written", "forget"]),
        st.sampled_from(["a", "b", "c"]),
        st.floats(0, 0.3, allow_nan=False),
    ),
    max_size=60,
)


@settings(max_examples=300)
@given(schedule_steps)
def test_completed_asks_for_the_writer_exactly_when_the_next_due_time_moves_earlier(
    steps: list[tuple[str, str, float]],
) -> None:
    """The writer sleeps until `next_due` (or until news, when nothing is pending), so a
    completed run must wake it exactly when it makes `next_due` earlier; every other
    run it lets sleep (runs of a busy session do not wake the writer once each)."""
    schedule = SnapshotSchedule(DELAY)
    now = 0.0
    for action, session_id, step in steps:
        now += step
        if action == "completed":
            before = schedule.next_due()
            wake = schedule.completed(session_id, now)
            after = schedule.next_due()
            assert wake == (after is not None and (before is None or after < before))
        elif action == "due":
            schedule.due(now)
        elif action == "written":
            schedule.written(session_id, now)
        else:
            schedule.forget(session_id)
