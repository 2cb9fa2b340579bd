"""Session snapshots in this process's memory: for tests and single-process runs.

They do not survive the process, so with the memory store snapshots only help a
session whose runtime copy was lost while the process lived on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hexlit.ports.snapshots import SealedSnapshot


class MemorySnapshots:
    """Implements `SessionSnapshots` with a dict (the event loop serializes calls)."""

    def __init__(self) -> None:
        self._held: dict[str, SealedSnapshot] = {}

    async def save(self, sealed: SealedSnapshot) -> bool:
        held = self._held.get(sealed.session_id)
        if held is not None and held.generation >= sealed.generation:
            return False
        self._held[sealed.session_id] = sealed
        return True

    async def save_built(self, build: Callable[[], SealedSnapshot | None]) -> bool | None:
        sealed = await asyncio.to_thread(build)
        return None if sealed is None else await self.save(sealed)

    async def load(self, session_id: str) -> SealedSnapshot | None:
        return self._held.get(session_id)

    async def delete(self, session_id: str, generation: int) -> None:
        held = self._held.get(session_id)
        if held is not None and held.generation <= generation:
            del self._held[session_id]
