"""The app runtime: the thing that runs the user's script for each session.

Two adapters implement it: a small built-in runtime (framework-free tests and examples)
and the real Streamlit `Runtime`. Frames are opaque bytes at this boundary; only the
runtime knows they are protobuf.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from hexlit.ports.components import ComponentRegistry
from hexlit.ports.metrics import MetricsSource

if TYPE_CHECKING:  # ports/agent.py names UserInfo from here
    from hexlit.ports.agent import AgentRuntime

UserInfoValue = str | bool | Mapping[str, str] | None
UserInfo = Mapping[str, UserInfoValue]
"""Who the user is, as `st.user` sees it. Empty for anonymous sessions."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """The answer of a health probe: ready or not, and a short reason a person can read."""

    ready: bool
    message: str


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """What the runtime may know of the browser (Streamlit's `st.context`).

    Captured once from the WebSocket handshake and immutable for the connection.
    """

    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    remote_ip: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def cookie(self, name: str) -> str | None:
        """The first cookie called `name`, or None."""
        return next((value for key, value in self.cookies if key == name), None)


@dataclass(frozen=True, slots=True)
class SessionStart:
    """What the session core asks of the runtime when a connection opens.

    `resume` is True when `session_id` names a session the runtime already holds (the
    client reconnected within the reconnect window); False asks for a fresh session with
    exactly this id.
    """

    session_id: str
    resume: bool
    client: ClientInfo
    user_info: UserInfo = field(default_factory=dict)


class Outbox(Protocol):
    """Where the runtime puts the outbound frames of one connection.

    Its identity matters: the runtime compares outboxes with `is` to tell the current
    connection of a session from a stale one.
    """

    def push(self, frame: bytes) -> None:
        """Queue one frame for the client without blocking. Call on the event loop.

        Raises `ClientGone` when the connection is closed or its bounded queue is full;
        the runtime should then stop writing to this outbox.
        """
        ...


class AppRuntime(Protocol):
    """The driven port to the app runtime. All methods run on the server's event loop."""

    async def start(self) -> None:
        """Start the runtime; returns once it accepts sessions."""
        ...

    async def stop(self) -> None:
        """Stop the runtime and every session it holds; returns once it has stopped."""
        ...

    async def readiness(self) -> Readiness:
        """Whether browsers may connect now (the `/_stcore/health` answer)."""
        ...

    async def script_health(self) -> Readiness:
        """Run the app once in a throw-away session and say whether it ran cleanly."""
        ...

    async def connect(self, start: SessionStart, outbox: Outbox) -> str:
        """Bind a session to `outbox`, creating or resuming it; return its id.

        The id returned differs from `start.session_id` only when a resume was asked
        for a session the runtime no longer holds. Raises `RuntimeUnavailable`.
        """
        ...

    async def deliver(self, session_id: str, frame: bytes, outbox: Outbox) -> None:
        """Hand one inbound frame to the session, if `outbox` is still its client.

        Raises `MalformedFrame` when the frame cannot be decoded, `RuntimeUnavailable`
        when the runtime is stopping, `ClientGone` when the frame asks for the
        connection to be dropped (Streamlit's e2e hook).
        """
        ...

    async def disconnect(self, session_id: str, outbox: Outbox) -> None:
        """Unbind `outbox` from the session, keeping the session for a later resume.

        A no-op when `outbox` is no longer the session's client. Never raises.
        """
        ...

    async def close_session(self, session_id: str) -> None:
        """End the session for good and free what it holds. Idempotent."""
        ...


@dataclass(frozen=True, slots=True)
class CapturedState:
    """A session's state as the runtime reads it for a snapshot, and restores it from.

    The bytes are the runtime's own encoding; the core seals them and never looks
    inside. `skipped_keys` names the user keys left out because their values cannot be
    pickled (the core logs each key once and counts them).
    """

    user_state: bytes
    widget_states: bytes
    page: str = ""
    query_string: str = ""
    skipped_keys: tuple[str, ...] = ()


class SessionStateAccess(Protocol):
    """What a runtime offers so its sessions can outlive the process (snapshots).

    All methods run on the server's event loop.
    """

    def when_run_completes(self, listener: Callable[[str], None]) -> None:
        """Call `listener(session_id)` on the event loop after each completed run."""
        ...

    async def capture(self, session_id: str) -> CapturedState | None:
        """The session's state now, or None when the runtime does not hold it (or it
        cannot be read right now). Heavy work (pickling) runs off the event loop."""
        ...

    def read(self, session_id: str) -> Callable[[], CapturedState] | None:
        """Read the session's state now, on the event loop, and return the blocking step
        that encodes it (pickling), for the caller to run off the loop together with its
        own blocking work (one hop to a worker thread per snapshot). None as `capture`."""
        ...

    async def restore(self, start: SessionStart, state: CapturedState, outbox: Outbox) -> str:
        """Create the session `start.session_id` bound to `outbox`, put `state` back in
        it, and rerun it with the captured widget states so the page comes back without
        waiting for the browser. Only ever given state from an authenticated snapshot.
        Returns the session id; raises `RuntimeUnavailable`."""
        ...


class ServedRuntime(AppRuntime, SessionStateAccess, ComponentRegistry, MetricsSource, Protocol):
    """A runtime as hexlit serves it: the app runtime, and the roles it also plays.

    Besides running sessions, a runtime knows the app's custom components (v1 here, v2
    "bidi" ones in `bidi_registry`), measures itself (`MetricsSource`), lends its
    sessions' state to snapshots (`SessionStateAccess`) and may serve agent sessions
    (`agent`). Each role reaches its service
    through one explicit provider in the container (composition/container.py), so mypy
    checks that every runtime plays them all; nothing probes for an attribute.
    """

    @property
    def bidi_registry(self) -> ComponentRegistry:
        """The v2 ("bidi") components the app may use (found in installed packages)."""
        ...

    @property
    def agent(self) -> AgentRuntime | None:
        """The app's agent sessions (`/_stcore/agent/...`), None when the runtime has none:
        the agent routes then answer as Streamlit does with the API off."""
        ...
