"""The bounded queue between the runtime and one client connection.

The runtime writes without blocking; a sender task drains the queue into the socket at
the client's pace. A client that falls behind by more than `max_frames` frames or
`max_bytes` bytes is cut off (the session survives and the client resumes it), so a
stalled tab can never grow the server's memory without limit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hexlit.ports.errors import ClientGone


@dataclass(frozen=True, slots=True)
class QueueBounds:
    """How far a client may fall behind before it is disconnected."""

    max_frames: int = 500
    max_bytes: int = 64 * 1024 * 1024


class OutboundQueue:
    """An `Outbox` with a bound; `push` is synchronous, `next_frame` is awaited.

    `on_overflow` is called once, the first time a push would exceed the bound.
    """

    def __init__(self, bounds: QueueBounds, on_overflow: Callable[[], None]) -> None:
        self._bounds = bounds
        self._on_overflow = on_overflow
        self._frames: deque[bytes] = deque()
        self._bytes = 0
        self._closed = False
        self._overflowed = False
        self._ready = asyncio.Event()

    @property
    def overflowed(self) -> bool:
        return self._overflowed

    @property
    def pending_frames(self) -> int:
        return len(self._frames)

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def push(self, frame: bytes) -> None:
        """Queue a frame; raise `ClientGone` if closed or if the bound would be exceeded."""
        if self._closed:
            raise ClientGone("client connection is closed")
        size = len(frame)
        if (
            len(self._frames) + 1 > self._bounds.max_frames
            or self._bytes + size > self._bounds.max_bytes
        ):
            self._overflowed = True
            self.close()
            self._on_overflow()
            raise ClientGone("client cannot keep up with its messages")
        self._frames.append(frame)
        self._bytes += size
        self._ready.set()

    async def next_frame(self) -> bytes | None:
        """The oldest queued frame, waiting for one; None once the queue is closed."""
        while not self._frames:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self._closed:
            return None
        frame = self._frames.popleft()
        self._bytes -= len(frame)
        return frame

    def close(self) -> None:
        """Stop accepting frames and drop what is queued. Idempotent."""
        self._closed = True
        self._frames.clear()
        self._bytes = 0
        self._ready.set()
