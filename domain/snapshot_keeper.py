"""Keeps every session's snapshot current, and hands sessions over between processes.

The session core owns one `SnapshotKeeper` when snapshots are on. It:

- hears from the runtime when a run completes, and writes that session's snapshot off
  the request path, coalesced by `SnapshotSchedule` (within `delay` of the run): the
  state is read on the loop, then encoded, sealed and written in one worker job;
- remembers, per session it holds, the generation it last wrote or took over; every
  save is that plus one, so a store refuses the save of an owner that was taken over
  (`fenced`), and the core then closes its copy;
- takes a session over for a connection that offers an id this process does not hold:
  load, verify the seal, check the identity, then claim it with generation + 1;
- deletes a session's snapshot when the session ends for good, fenced the same way.

Store failures never break serving: the snapshot is skipped and the reason logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hexlit.domain.snapshot_rules import SnapshotLimits, SnapshotSchedule, SnapshotSeal
from hexlit.ports.clock import Clock
from hexlit.ports.errors import StoreUnavailable
from hexlit.ports.runtime import CapturedState, Outbox, SessionStart, SessionStateAccess, UserInfo
from hexlit.ports.snapshots import SealedSnapshot, SessionSnapshot, SessionSnapshots

log = logging.getLogger("hexlit.snapshots")

MOVED_REMEMBERED = 1024
"""Ended sessions remembered as moved away (their end listeners skip them)."""


@dataclass(slots=True)
class SnapshotStats:
    """Counters for `/_stcore/metrics`; they only ever grow."""

    snapshots_saved: int = 0
    snapshots_restored: int = 0
    snapshots_fenced: int = 0
    snapshots_too_large: int = 0
    snapshots_rejected: int = 0
    snapshot_values_skipped: int = 0
    snapshot_store_failures: int = 0


@dataclass(slots=True)
class _Held:
    generation: int
    owner: str


class SnapshotKeeper:
    """Snapshots for the sessions of one process (see the module docstring)."""

    def __init__(
        self,
        store: SessionSnapshots,
        runtime: SessionStateAccess,
        seal: SnapshotSeal,
        clock: Clock,
        limits: SnapshotLimits,
    ) -> None:
        self._store = store
        self._runtime = runtime
        self._seal = seal
        self._clock = clock
        self._limits = limits
        self._schedule = SnapshotSchedule(limits.delay)
        self._held: dict[str, _Held] = {}
        self._moved: OrderedDict[str, None] = OrderedDict()
        self._skipped_logged: set[str] = set()
        self._wake = asyncio.Event()
        self._fenced: Callable[[str], Awaitable[None]] | None = None
        self.stats = SnapshotStats()
        runtime.when_run_completes(self.run_completed)

    def when_fenced(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """Call `listener(session_id)` when another process has taken the session over."""
        self._fenced = listener

    def owner_of(self, user_info: UserInfo) -> str:
        return self._seal.owner(user_info)

    # -- which sessions this process holds ----------------------------------------------

    def hold(self, session_id: str, user_info: UserInfo, generation: int = 0) -> None:
        """This process now runs the session, its state known up to `generation`."""
        self._held[session_id] = _Held(generation, self._seal.owner(user_info))
        self._moved.pop(session_id, None)

    def holds(self, session_id: str) -> bool:
        return session_id in self._held

    def generation_of(self, session_id: str) -> int | None:
        """The generation this process last wrote or claimed for the session."""
        held = self._held.get(session_id)
        return held.generation if held is not None else None

    def run_completed(self, session_id: str) -> None:
        """The runtime finished a run of the session: its snapshot is due soon."""
        if session_id in self._held and self._schedule.completed(
            session_id, self._clock.monotonic()
        ):
            self._wake.set()

    async def ended(self, session_id: str) -> None:
        """The session ended for good here: drop its snapshot unless it moved on (then
        `moved_away` says so, and the session's files stay for its new owner)."""
        held = self._held.pop(session_id, None)
        self._schedule.forget(session_id)
        if held is None:
            return
        try:
            sealed = await self._store.load(session_id)
            if sealed is not None and sealed.generation > held.generation:
                self._moved[session_id] = None
                while len(self._moved) > MOVED_REMEMBERED:
                    self._moved.popitem(last=False)
                return
            await self._store.delete(session_id, held.generation)
        except StoreUnavailable:
            self.stats.snapshot_store_failures += 1

    def moved_away(self, session_id: str) -> bool:
        """Whether a session that ended here lives on in another process."""
        return session_id in self._moved

    def let_go(self, session_id: str) -> None:
        """Another process owns the session now: forget it without touching the store."""
        self._held.pop(session_id, None)
        self._schedule.forget(session_id)

    # -- writing -----------------------------------------------------------------------

    async def write_forever(self) -> None:
        """Write due snapshots as they fall due (the core runs this as a task)."""
        while True:
            next_due = self._schedule.next_due()
            self._wake.clear()
            if next_due is None:
                await self._wake.wait()
                continue
            wait = next_due - self._clock.monotonic()
            if wait > 0:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel
                # that arrives as the event is set, and the drain cancels this task.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                continue
            due = self._schedule.due(self._clock.monotonic())
            await asyncio.gather(*(self._write(session_id) for session_id in due))

    async def write_all(self) -> None:
        """Snapshot every session held now (a drain), pending or not."""
        for session_id in self._held:
            self._schedule.completed(session_id, self._clock.monotonic())
        ready = self._schedule.everything()
        await asyncio.gather(*(self._write(session_id) for session_id in ready))

    async def _write(self, session_id: str) -> None:
        """One scheduled write; whatever goes wrong is logged, never stops the writer
        (or a drain, or a shutdown)."""
        try:
            await self.save(session_id)
        except Exception:
            log.exception("session %s: snapshot failed", _short(session_id))
        finally:
            self._schedule.written(session_id, self._clock.monotonic())

    async def save(self, session_id: str) -> bool:
        """Snapshot the session now; False when nothing was written.

        The state is read here, on the loop; pickling, sealing and (for a store whose
        write blocks) the write run in one worker job (`SessionSnapshots.save_built`).
        """
        held = self._held.get(session_id)
        if held is None:
            return False
        encode = self._runtime.read(session_id)
        if encode is None:
            return False
        next_held = _Held(held.generation + 1, held.owner)
        build = _Build(session_id, next_held, encode, self._seal, self._limits.max_bytes)
        try:
            saved = await self._store.save_built(build)
        except StoreUnavailable as error:
            self.stats.snapshot_store_failures += 1
            log.warning("session %s: snapshot not saved (%s)", _short(session_id), error.reason)
            return False
        finally:
            if build.state is not None:
                self._note_skipped(build.state)
        if saved is None:
            self.stats.snapshots_too_large += 1
            log.warning(
                "session %s: snapshot of %d bytes is above hexlit.snapshotMaxBytes (%d); not saved",
                _short(session_id),
                build.sealed_bytes,
                self._limits.max_bytes,
            )
            return False
        if not saved:
            await self._lost(session_id, held)
            return False
        held.generation = build.next.generation
        self.stats.snapshots_saved += 1
        return True

    async def _lost(self, session_id: str, held: _Held) -> None:
        """The store holds a newer generation: another process owns the session."""
        if self._held.get(session_id) is not held:
            return
        self.stats.snapshots_fenced += 1
        log.info("session %s continues in another process; closing it here", _short(session_id))
        self.let_go(session_id)
        if self._fenced is not None:
            await self._fenced(session_id)

    def _note_skipped(self, state: CapturedState) -> None:
        for key in state.skipped_keys:
            self.stats.snapshot_values_skipped += 1
            if key not in self._skipped_logged:
                self._skipped_logged.add(key)
                log.warning("session state key %r cannot be pickled; it is not snapshotted", key)

    async def restore(self, start: SessionStart, state: CapturedState, outbox: Outbox) -> str:
        """Rebuild a session taken over with `take_over` in the runtime."""
        return await self._runtime.restore(start, state, outbox)

    # -- taking over -------------------------------------------------------------------

    async def take_over(self, session_id: str, user_info: UserInfo) -> CapturedState | None:
        """Claim the session's snapshot for this process, for a connection of `user_info`.

        None when there is no snapshot, it does not verify, it belongs to someone else,
        another process claimed it first, or the store is down: the caller then starts a
        fresh session. On success this process holds the session at the claimed
        generation, and the state to restore is returned.
        """
        try:
            sealed = await self._store.load(session_id)
        except StoreUnavailable:
            self.stats.snapshot_store_failures += 1
            return None
        if sealed is None:
            return None
        snapshot = self._seal.open(sealed)
        if snapshot is None:
            self.stats.snapshots_rejected += 1
            log.warning("session %s: snapshot failed authentication; ignored", _short(session_id))
            return None
        owner = self._seal.owner(user_info)
        if snapshot.owner != owner:
            return None  # a leaked id alone does not hand over someone's state
        held = _Held(snapshot.generation + 1, owner)
        claim = self._seal.seal(
            SessionSnapshot(
                session_id,
                held.generation,
                snapshot.user_state,
                snapshot.widget_states,
                snapshot.page,
                snapshot.query_string,
                owner,
            )
        )
        try:
            if not await self._store.save(claim):
                return None  # another process took it first
        except StoreUnavailable:
            self.stats.snapshot_store_failures += 1
            return None
        self._held[session_id] = held
        self._moved.pop(session_id, None)
        self.stats.snapshots_restored += 1
        return CapturedState(
            snapshot.user_state, snapshot.widget_states, snapshot.page, snapshot.query_string
        )

    async def moved_on(self, session_id: str) -> bool:
        """Whether another process wrote a newer snapshot of a session held here."""
        held = self._held.get(session_id)
        if held is None:
            return False
        try:
            sealed = await self._store.load(session_id)
        except StoreUnavailable:
            return False  # cannot tell: keep serving the copy held here
        return sealed is not None and sealed.generation > held.generation


class _Build:
    """The blocking part of one snapshot, run in a worker thread: encode the state read
    on the loop, seal it, and refuse it (None) above the size cap. It only touches what
    it was given, and leaves what the loop reports afterwards in its attributes."""

    def __init__(
        self,
        session_id: str,
        next_held: _Held,
        encode: Callable[[], CapturedState],
        seal: SnapshotSeal,
        max_bytes: int,
    ) -> None:
        self.session_id = session_id
        self.next = next_held
        self.encode = encode
        self.seal = seal
        self.max_bytes = max_bytes
        self.state: CapturedState | None = None
        self.sealed_bytes = 0

    def __call__(self) -> SealedSnapshot | None:
        self.state = self.encode()
        snapshot = _snapshot(self.session_id, self.next, self.next.generation, self.state)
        sealed = self.seal.seal(snapshot)
        self.sealed_bytes = len(sealed.data)
        return None if self.sealed_bytes > self.max_bytes else sealed


def _snapshot(
    session_id: str, held: _Held, generation: int, state: CapturedState
) -> SessionSnapshot:
    return SessionSnapshot(
        session_id,
        generation,
        state.user_state,
        state.widget_states,
        state.page,
        state.query_string,
        held.owner,
    )


def _short(session_id: str) -> str:
    return session_id[:8]
