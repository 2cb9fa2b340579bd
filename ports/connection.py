"""What a WebSocket looks like to the core. The web adapters implement it."""

from __future__ import annotations

import enum
from typing import Protocol


class CloseCause(enum.Enum):
    """Why the server closes a client connection.

    Semantic on purpose: `hexlit.adapters.web.status` maps each cause to the WebSocket
    close code both stacks send, so the two can never drift apart.
    """

    NORMAL = "normal"
    GOING_AWAY = "going away"
    REPLACED = "replaced"
    SLOW_CONSUMER = "slow consumer"
    FRAME_TOO_LARGE = "frame too large"
    UNSUPPORTED_FRAME = "unsupported frame"
    MALFORMED_FRAME = "malformed frame"
    RUNTIME_UNAVAILABLE = "runtime unavailable"


class ClientConnection(Protocol):
    """One accepted WebSocket, as the session core drives it."""

    async def send(self, frame: bytes) -> None:
        """Send one binary frame; returns once the transport took it.

        Raises `hexlit.ports.errors.ClientGone` when the socket is already closed.
        """
        ...

    async def close(self, cause: CloseCause, reason: str) -> None:
        """Close the socket with the code for `cause` and a human-readable `reason`.

        Idempotent: closing a closed connection does nothing. Never raises.
        """
        ...
