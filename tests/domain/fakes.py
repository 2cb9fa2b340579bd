"""Small, real, in-memory implementations of the outbound ports, for domain tests.

No mocks: each fake keeps just enough state to honour its port's contract and records
what the core asked of it, so tests assert on behaviour rather than on calls.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hexlit.ports.connection import CloseCause
from hexlit.ports.errors import ClientGone, MalformedFrame, RuntimeUnavailable
from hexlit.ports.runtime import Outbox, Readiness, SessionStart


class FakeClock:
    """A `Clock` whose time only moves when a test says so."""

    EPOCH_OFFSET = 1_700_000_000.0

    def __init__(self, start: float = 1000.0) -> None:
        self.time = start

    def monotonic(self) -> float:
        return self.time

    def now(self) -> float:
        return self.EPOCH_OFFSET + self.time

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock never goes backwards")
        self.time += seconds


class SequentialIds:
    """An `IdSource` handing out `s-1`, `s-2`, ... in order."""

    def __init__(self, prefix: str = "s") -> None:
        self._prefix = prefix
        self.issued: list[str] = []

    def new_id(self) -> str:
        new = f"{self._prefix}-{len(self.issued) + 1}"
        self.issued.append(new)
        return new

    def random_bytes(self, size: int) -> bytes:
        """Deterministic "random" bytes: a counter, repeated."""
        self._draws = getattr(self, "_draws", 0) + 1
        return bytes((self._draws + index) % 256 for index in range(size))


@dataclass(slots=True)
class Connect:
    """One `AppRuntime.connect` call, as the fake saw it."""

    start: SessionStart
    outbox: Outbox
    returned_id: str


@dataclass(slots=True)
class _HeldSession:
    outbox: Outbox | None
    received: list[bytes] = field(default_factory=list)


class FakeRuntime:
    """An `AppRuntime` that holds sessions in a dict and records every call.

    `unavailable`: connect and deliver raise `RuntimeUnavailable`.
    `malformed`: frames deliver rejects with `MalformedFrame`.
    `hang_up`: frames that ask the runtime to drop the connection (deliver raises
    `ClientGone`, like Streamlit's e2e hook).
    `lose(session_id)`: forget a session behind the core's back (as after a restart), so a
    later resume of it gets a fresh id.
    `refuse_close`: session ids whose `close_session` raises `RuntimeUnavailable`.
    """

    def __init__(self) -> None:
        self.started = False
        self.stopped = False
        self.unavailable = False
        self.malformed: set[bytes] = set()
        self.hang_up: set[bytes] = set()
        self.connects: list[Connect] = []
        self.deliveries: list[tuple[str, bytes]] = []
        self.disconnects: list[str] = []
        self.closed_sessions: list[str] = []
        self.refuse_close: set[str] = set()
        self._sessions: dict[str, _HeldSession] = {}
        self._renamed = 0
        self._close_seen: asyncio.Event | None = None

    # -- what tests inspect and drive --------------------------------------------------

    def holds(self, session_id: str) -> bool:
        return session_id in self._sessions

    def outbox_of(self, session_id: str) -> Outbox | None:
        """The outbox the session is bound to now (None: held but unbound)."""
        return self._sessions[session_id].outbox

    def received_by(self, session_id: str) -> list[bytes]:
        return list(self._sessions[session_id].received)

    def push(self, session_id: str, *frames: bytes) -> int:
        """Send frames to the session's client, as a script would; the number accepted.

        Like a real runtime, a `ClientGone` unbinds the outbox and stops the writing.
        Must run on the event loop (the outbox may schedule work on it).
        """
        session = self._sessions[session_id]
        for sent, frame in enumerate(frames):
            if session.outbox is None:
                return sent
            try:
                session.outbox.push(frame)
            except ClientGone:
                session.outbox = None
                return sent
        return len(frames)

    def lose(self, session_id: str) -> None:
        del self._sessions[session_id]

    async def session_closed(self) -> None:
        """Wait until `close_session` has been called (at least once) from now on."""
        self._close_seen = asyncio.Event()
        await self._close_seen.wait()

    # -- AppRuntime --------------------------------------------------------------------

    async def start(self) -> None:
        self.started = True
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True
        self._sessions.clear()

    async def readiness(self) -> Readiness:
        return Readiness(self.started and not self.stopped, "ok")

    async def script_health(self) -> Readiness:
        return Readiness(True, "ok")

    async def connect(self, start: SessionStart, outbox: Outbox) -> str:
        if self.unavailable:
            raise RuntimeUnavailable("runtime is not running")
        session_id = start.session_id
        if start.resume and session_id not in self._sessions:
            self._renamed += 1
            session_id = f"r-{self._renamed}"
        elif not start.resume and session_id in self._sessions:
            raise AssertionError(f"fresh session asked with an id in use: {session_id}")
        held = self._sessions.setdefault(session_id, _HeldSession(outbox))
        held.outbox = outbox
        self.connects.append(Connect(start, outbox, session_id))
        return session_id

    async def deliver(self, session_id: str, frame: bytes, outbox: Outbox) -> None:
        if self.unavailable:
            raise RuntimeUnavailable("runtime is stopping")
        self.deliveries.append((session_id, frame))
        if frame in self.malformed:
            raise MalformedFrame("frame does not decode")
        if frame in self.hang_up:
            raise ClientGone("the client asked to be disconnected")
        session = self._sessions.get(session_id)
        if session is not None and session.outbox is outbox:
            session.received.append(frame)

    async def disconnect(self, session_id: str, outbox: Outbox) -> None:
        self.disconnects.append(session_id)
        session = self._sessions.get(session_id)
        if session is not None and session.outbox is outbox:
            session.outbox = None

    async def close_session(self, session_id: str) -> None:
        if session_id in self.refuse_close:
            raise RuntimeUnavailable("runtime is not running")
        self.closed_sessions.append(session_id)
        self._sessions.pop(session_id, None)
        if self._close_seen is not None:
            self._close_seen.set()


class FakeConnection:
    """A `ClientConnection` that records what the core sent and how it closed it.

    Every `close` call is recorded (a real socket ignores all but the first), so tests can
    check that the core closes a connection once, with one cause.
    `make_slow()` makes `send` wait until `release()`: a client that cannot keep up.
    """

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closes: list[tuple[CloseCause, str]] = []
        self._gate: asyncio.Event | None = None

    @property
    def closed(self) -> bool:
        return bool(self.closes)

    @property
    def close_causes(self) -> list[CloseCause]:
        return [cause for cause, _ in self.closes]

    def make_slow(self) -> None:
        self._gate = asyncio.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()
        self._gate = None

    async def send(self, frame: bytes) -> None:
        if self.closed:
            raise ClientGone("socket is closed")
        if self._gate is not None:
            await self._gate.wait()
            if self.closed:
                raise ClientGone("socket is closed")
        self.sent.append(frame)

    async def close(self, cause: CloseCause, reason: str) -> None:
        self.closes.append((cause, reason))
