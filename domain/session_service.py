"""The session core: every WebSocket session goes through here, on either web stack.

`SessionService` implements the `Sessions` and `Lifecycle` inbound ports. It decides who
may connect (origin policy), which session a connection gets (the registry's reconnect
rules), carries inbound frames to the runtime (with the frame-size and frame-kind rules),
and carries outbound frames to the socket through one bounded queue per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hexlit.domain.observation import SessionTelemetry, idle_watch
from hexlit.domain.origin_policy import OriginPolicy
from hexlit.domain.outbound_queue import OutboundQueue, QueueBounds
from hexlit.domain.session_registry import Claim, SessionRegistry
from hexlit.domain.snapshot_keeper import SnapshotKeeper, SnapshotStats
from hexlit.domain.subprotocol import parse_offer
from hexlit.ports.clock import Clock
from hexlit.ports.connection import ClientConnection, CloseCause
from hexlit.ports.errors import (
    ClientGone,
    HexlitError,
    MalformedFrame,
    RuntimeUnavailable,
    StoreUnavailable,
)
from hexlit.ports.ids import IdSource
from hexlit.ports.runtime import AppRuntime, CapturedState, ClientInfo, SessionStart, UserInfo
from hexlit.ports.sessions import Admission, Handshake, SessionHandle, SessionPresence

log = logging.getLogger("hexlit.sessions")

Identify = Callable[[ClientInfo, str | None, str | None], UserInfo]
"""Who the user of a connecting client is: (client, Origin, token from the subprotocol)."""


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """The session rules' numbers, from configuration.

    max_frame_bytes: largest inbound frame (`server.maxWidgetStateSize`, MB).
    queue: how far a client may fall behind on outbound frames.
    reconnect_ttl: seconds a disconnected session waits to be resumed
        (`server.disconnectedSessionTTL`).
    max_detached: most disconnected sessions kept at once (oldest expire first).
    """

    max_frame_bytes: int = 25 * 1000 * 1000
    queue: QueueBounds = field(default_factory=QueueBounds)
    reconnect_ttl: float = 120.0
    max_detached: int = 128


@dataclass(slots=True)
class SessionStats:
    """Counters a metrics endpoint can read; they only ever grow."""

    sessions_opened: int = 0
    sessions_resumed: int = 0
    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    slow_consumer_disconnects: int = 0
    rejected_handshakes: int = 0
    session_end_failures: int = 0


class _Session:
    """One connection's hold on a session: the `SessionHandle` the adapters keep."""

    def __init__(
        self,
        connection: ClientConnection,
        bounds: QueueBounds,
        on_overflow: Callable[[_Session], None],
    ) -> None:
        self.session_id = ""
        self.connection = connection
        self.queue = OutboundQueue(bounds, lambda: on_overflow(self))
        self.sender: asyncio.Task[None] | None = None
        self.closed = False
        self.watch = idle_watch()


class SessionService:
    """Implements `Sessions`, `SessionDirectory` and `Lifecycle`."""

    def __init__(
        self,
        runtime: AppRuntime,
        clock: Clock,
        ids: IdSource,
        policy: OriginPolicy,
        limits: SessionLimits,
        identify: Identify | None = None,
        presence: SessionPresence | None = None,
        snapshots: SnapshotKeeper | None = None,
        telemetry: SessionTelemetry | None = None,
    ) -> None:
        self._identify = identify
        self._telemetry = telemetry if telemetry is not None else SessionTelemetry()
        self._presence = presence
        self._runtime = runtime
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._limits = limits
        self._registry = SessionRegistry(limits.reconnect_ttl, limits.max_detached)
        self._open: set[_Session] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = False
        self._draining = False
        self._end_listeners: list[Callable[[str], Awaitable[None]]] = []
        self.stats = SessionStats()
        self._snapshots = snapshots
        self._snapshot_writer: asyncio.Task[None] | None = None
        if snapshots is not None:
            self._end_listeners.append(snapshots.ended)  # first: the others ask it
            snapshots.when_fenced(self._continued_elsewhere)

    @property
    def snapshot_stats(self) -> SnapshotStats:
        """The snapshot counters (all zero when snapshots are off)."""
        return self._snapshots.stats if self._snapshots is not None else SnapshotStats()

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def when_ended(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """Call `listener(session_id)` whenever a session ends for good (its files go).

        With snapshots, a session whose copy here expires after it moved to another
        process has not ended: its listeners are skipped (its files are the new
        owner's now)."""
        keeper = self._snapshots
        if keeper is None:
            self._end_listeners.append(listener)
            return

        async def unless_moved(session_id: str) -> None:
            if not keeper.moved_away(session_id):
                await listener(session_id)

        self._end_listeners.append(unless_moved)

    # -- SessionDirectory ------------------------------------------------------------

    async def is_active(self, session_id: str) -> bool:
        return self._registry.is_attached(session_id)

    # -- Lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        await self._runtime.start()
        self._sweeper = asyncio.create_task(self._sweep_forever())
        if self._snapshots is not None:
            self._snapshot_writer = asyncio.create_task(self._snapshots.write_forever())

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self._snapshot_everything()
        await asyncio.gather(
            *(
                self._shut(s, CloseCause.GOING_AWAY, "server is shutting down")
                for s in list(self._open)
            )
        )
        await self._runtime.stop()

    # -- Sessions --------------------------------------------------------------------

    def admit(self, handshake: Handshake) -> Admission:
        try:
            self._policy.check_websocket(handshake.origin, handshake.host)
            offer = parse_offer(handshake.subprotocols)
        except HexlitError:
            self.stats.rejected_handshakes += 1
            raise
        return Admission(offer.selected, offer.session_id, offer.token, handshake)

    async def open(self, admission: Admission, connection: ClientConnection) -> SessionHandle:
        if self._stopping or self._draining:
            await connection.close(CloseCause.RUNTIME_UNAVAILABLE, "server is shutting down")
            raise RuntimeUnavailable("server is shutting down")
        handshake = admission.handshake
        user_info: UserInfo = (
            self._identify(handshake.client, handshake.origin, admission.auth_token)
            if self._identify
            else {}
        )
        session = _Session(connection, self._limits.queue, self._on_overflow)
        await self._expire()  # a session past its reconnect window must not be resumed
        claim = self._registry.claim(admission.resume_id, user_info, session, self._ids.new_id())
        session.session_id = claim.session_id
        if isinstance(claim.displaced, _Session):
            await self._shut(claim.displaced, CloseCause.REPLACED, "replaced by a newer connection")
        claim, restorable = await self._snapshot_claim(claim, admission.resume_id, user_info)
        session.session_id = claim.session_id
        start = SessionStart(claim.session_id, claim.resume, admission.handshake.client, user_info)
        try:
            if restorable is not None and self._snapshots is not None:
                session_id = await self._snapshots.restore(start, restorable, session.queue)
            else:
                session_id = await self._runtime.connect(start, session.queue)
        except RuntimeUnavailable as error:
            if claim.resume:  # the runtime still holds it: keep it resumable, let it expire
                self._registry.detach(claim.session_id, session, self._clock.monotonic())
            else:
                self._registry.forget(claim.session_id)
            await connection.close(CloseCause.RUNTIME_UNAVAILABLE, error.reason)
            raise
        if session_id != claim.session_id:
            self._registry.rename(claim.session_id, session_id)
            session.session_id = session_id
        resumed = (claim.resume or restorable is not None) and session_id == claim.session_id
        if self._snapshots is not None and not self._snapshots.holds(session_id):
            self._snapshots.hold(session_id, user_info)
        self.stats.sessions_opened += 1
        self.stats.sessions_resumed += int(resumed)
        self._open.add(session)
        session.watch = self._telemetry.watch(session_id, resumed, session.queue)
        session.sender = asyncio.create_task(self._send_forever(session))
        await self._announce("attached", session_id)
        log.debug("session %s %s", _short(session_id), "resumed" if resumed else "opened")
        await self._expire()
        return session

    async def receive(self, handle: SessionHandle, frame: bytes | str) -> None:
        session = _own(handle)
        if session.closed:
            return
        if isinstance(frame, str):
            await self._shut(session, CloseCause.UNSUPPORTED_FRAME, "binary frames only")
            return
        if len(frame) > self._limits.max_frame_bytes:
            await self._shut(session, CloseCause.FRAME_TOO_LARGE, "message too large")
            return
        self.stats.frames_in += 1
        self.stats.bytes_in += len(frame)
        session.watch.frame_in()
        try:
            await self._runtime.deliver(session.session_id, frame, session.queue)
        except ClientGone:
            await self._shut(session, CloseCause.NORMAL, "closed at the client's request")
        except MalformedFrame:
            log.warning("session %s sent a frame that does not decode", _short(session.session_id))
            await self._shut(session, CloseCause.MALFORMED_FRAME, "malformed message")
        except RuntimeUnavailable as error:
            await self._shut(session, CloseCause.RUNTIME_UNAVAILABLE, error.reason)

    async def close(self, handle: SessionHandle) -> None:
        await self._release(_own(handle))

    def is_draining(self) -> bool:
        """True from the start of a drain: readiness fails so no browser is sent here."""
        return self._draining

    async def drain(self) -> None:
        """Hand every session on before the process goes (SIGTERM): refuse new
        connections, snapshot every session, and close every socket with 1012 so the
        browsers reconnect, to another replica, which restores them."""
        self._draining = True
        await self._snapshot_everything()
        await asyncio.gather(
            *(
                self._shut(s, CloseCause.RUNTIME_UNAVAILABLE, "server is restarting")
                for s in list(self._open)
            )
        )

    # -- snapshots -------------------------------------------------------------------

    async def _snapshot_claim(
        self, claim: Claim, offered: str | None, user_info: UserInfo
    ) -> tuple[Claim, CapturedState | None]:
        """Which session to connect, given the snapshots: the claim as it is, or the
        offered session taken over from its snapshot (held by another process, by a
        process that is gone, or held here but continued elsewhere since)."""
        keeper = self._snapshots
        if keeper is None or offered is None:
            return claim, None
        if claim.resume:
            if not await keeper.moved_on(offered):
                return claim, None
            keeper.let_go(offered)  # the copy held here is stale: drop it
            await self._runtime.close_session(offered)
            state = await keeper.take_over(offered, user_info)
            if state is None:
                fresh = self._ids.new_id()
                self._registry.rename(offered, fresh)
                return Claim(fresh, resume=False), None
            return Claim(offered, resume=False), state
        state = await keeper.take_over(offered, user_info)
        if state is None:
            return claim, None
        self._registry.rename(claim.session_id, offered)
        return Claim(offered, resume=False), state

    async def _snapshot_everything(self) -> None:
        if self._snapshot_writer is not None:
            self._snapshot_writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._snapshot_writer
            self._snapshot_writer = None
        if self._snapshots is not None:
            await self._snapshots.write_all()

    async def _continued_elsewhere(self, session_id: str) -> None:
        """Another process took the session over: close the copy held here, leaving
        the shared directory and the session's files to the new owner."""
        owner = self._registry.owner_of(session_id)
        self._registry.forget(session_id)
        if isinstance(owner, _Session):
            await self._shut(owner, CloseCause.REPLACED, "session continued elsewhere")
        await self._runtime.close_session(session_id)

    # -- internals -------------------------------------------------------------------

    async def _send_forever(self, session: _Session) -> None:
        while (frame := await session.queue.next_frame()) is not None:
            try:
                await session.connection.send(frame)
            except ClientGone:
                return
            self.stats.frames_out += 1
            self.stats.bytes_out += len(frame)
            session.watch.frame_out()

    def _on_overflow(self, session: _Session) -> None:
        self.stats.slow_consumer_disconnects += 1
        log.warning("session %s: client too slow, disconnecting it", _short(session.session_id))
        task = asyncio.get_running_loop().create_task(
            self._shut(session, CloseCause.SLOW_CONSUMER, "client too slow; reconnect to resume")
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _shut(self, session: _Session, cause: CloseCause, reason: str) -> None:
        """Close the connection from the server side, then release the session."""
        if session.closed:
            return
        session.watch.cause = cause
        await self._release(session)
        await session.connection.close(cause, reason)

    async def _release(self, session: _Session) -> None:
        if session.closed:
            return
        session.closed = True
        session.queue.close()
        session.watch.end()
        self._open.discard(session)
        if session.sender is not None and session.sender is not asyncio.current_task():
            session.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await session.sender
        if self._registry.detach(session.session_id, session, self._clock.monotonic()):
            await self._announce("detached", session.session_id)
        await self._runtime.disconnect(session.session_id, session.queue)
        await self._expire()

    async def _expire(self) -> None:
        """End the sessions past their reconnect window: the runtime closes each, then
        every end listener runs. The registry has already let the ids go, so nothing would
        retry a step: one that fails (a store outage) is logged and counted, and the rest
        still run, for this session and the next ones."""
        for session_id in self._registry.expire(self._clock.monotonic()):
            for step in (self._runtime.close_session, *self._end_listeners):
                try:
                    await step(session_id)
                except Exception as error:
                    self.stats.session_end_failures += 1
                    log.warning(
                        "session %s: ending it failed in one step (%s); expiry goes on",
                        _short(session_id),
                        error.reason if isinstance(error, HexlitError) else type(error).__name__,
                        exc_info=not isinstance(error, HexlitError),
                    )

    async def _sweep_forever(self) -> None:
        interval = min(max(self._limits.reconnect_ttl / 4, 0.05), 30.0)
        while True:
            await asyncio.sleep(interval)
            await self._expire()
            if self._presence is not None:
                live = [session.session_id for session in self._open]
                with contextlib.suppress(StoreUnavailable):
                    await self._presence.refresh(live)

    async def _announce(self, change: str, session_id: str) -> None:
        """Tell the shared directory; if it is down, serving goes on (uploads for this
        session on other replicas fail until it is back, with a clear 503)."""
        if self._presence is None:
            return
        try:
            if change == "attached":
                await self._presence.attached(session_id)
            else:
                await self._presence.detached(session_id)
        except StoreUnavailable as error:
            log.warning("session directory unavailable (%s); serving on", error.reason)


def _own(handle: SessionHandle) -> _Session:
    if not isinstance(handle, _Session):
        raise TypeError("not a handle made by this SessionService")
    return handle


def _short(session_id: str) -> str:
    """Enough of a session id to follow it in logs, not enough to hijack it."""
    return session_id[:8]
