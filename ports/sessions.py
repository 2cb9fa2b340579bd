"""The `Sessions` use case: what the `/_stcore/stream` WebSocket handlers call.

A handler does four things, in this order: `admit` the handshake (before accepting the
socket), `open` a session on the accepted socket, `receive` every frame, `close` when the
socket goes away. Every rule behind those calls lives in the domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hexlit.ports.connection import ClientConnection
from hexlit.ports.runtime import ClientInfo


@dataclass(frozen=True, slots=True)
class Handshake:
    """The parts of a WebSocket upgrade request the core decides on."""

    origin: str | None
    host: str | None
    subprotocols: str | None
    """The raw `Sec-WebSocket-Protocol` header, exactly as received (or None)."""
    client: ClientInfo


@dataclass(frozen=True, slots=True)
class Admission:
    """An admitted handshake: what to answer in the 101 and what to connect with."""

    subprotocol: str | None
    """The subprotocol to select in the handshake answer (None: select none)."""
    resume_id: str | None
    """The session id the client offers to resume, if it is well-formed."""
    auth_token: str | None
    """The XSRF/auth token the client sent in the subprotocol list, if any."""
    handshake: Handshake


class SessionHandle(Protocol):
    """An open session on one connection; opaque to the web adapters but for its id."""

    @property
    def session_id(self) -> str: ...


class SessionDirectory(Protocol):
    """Which sessions are live (the upload routes accept only those).

    One process answers for itself; with a shared directory (Redis) any replica answers
    for all of them. Raises `StoreUnavailable` when a shared directory is unreachable.
    """

    async def is_active(self, session_id: str) -> bool: ...


class SessionPresence(Protocol):
    """Where the session core announces the sessions it holds (a shared directory).

    Every method may raise `StoreUnavailable`; the core logs it and goes on serving.
    """

    async def attached(self, session_id: str) -> None:
        """The session is live here now."""
        ...

    async def detached(self, session_id: str) -> None:
        """The session is no longer live here."""
        ...

    async def refresh(self, session_ids: Sequence[str]) -> None:
        """These are still live here (announcements expire unless refreshed)."""
        ...


class Sessions(Protocol):
    """The inbound port for browser sessions over a WebSocket."""

    def admit(self, handshake: Handshake) -> Admission:
        """Decide whether to accept the upgrade, before the socket is accepted.

        Raises `HostRejected` or `OriginRejected` (answer 403, do not accept), or
        `BadRequest` for a malformed `Sec-WebSocket-Protocol` header (answer 400).
        """
        ...

    async def open(self, admission: Admission, connection: ClientConnection) -> SessionHandle:
        """Create or resume the session on an accepted socket and start sending to it.

        Raises `RuntimeUnavailable` after closing `connection` itself.
        """
        ...

    async def receive(self, handle: SessionHandle, frame: bytes | str) -> None:
        """Take one inbound frame (bytes for binary, str for text frames).

        Never raises: a frame the protocol does not allow closes the connection with
        the matching `CloseCause`, and the socket then reports its close as usual.
        """
        ...

    async def close(self, handle: SessionHandle) -> None:
        """The socket went away: unbind it, keeping the session resumable. Idempotent."""
        ...
