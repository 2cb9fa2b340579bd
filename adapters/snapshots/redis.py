"""Session snapshots in Redis, shared by every replica.

One hash per session, `{ns}:snapshot:{session_id}` with fields `generation` and `data`.
Saving and deleting are each one Lua script, so the generation check and the write are
atomic on the server: a stale owner's save (same or older generation) changes nothing,
and a delete removes only a snapshot no newer than the deleter's. Every key carries a
safety expiry (`ttl`, renewed by every save), so a crashed replica's sessions go away
by themselves. Every Redis error becomes `StoreUnavailable` (`adapters/redis`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis

from hexlit.adapters.redis.connection import key_part, milliseconds, shared_store
from hexlit.ports.snapshots import SealedSnapshot

SNAPSHOT_TTL: Final = 24 * 3600.0

_SAVE: Final = """
local stored = redis.call('HGET', KEYS[1], 'generation')
if stored and tonumber(stored) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[1], 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
_DELETE: Final = """
local stored = redis.call('HGET', KEYS[1], 'generation')
if stored and tonumber(stored) <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSnapshots:
    """Implements `SessionSnapshots` over one Redis client."""

    def __init__(self, client: Redis, namespace: str = "hexlit", ttl: float = SNAPSHOT_TTL):
        self._client = client
        self._prefix = f"{namespace}:snapshot:"
        self._px = milliseconds(ttl)

    def _key(self, session_id: str) -> str:
        return self._prefix + key_part(session_id)

    async def save(self, sealed: SealedSnapshot) -> bool:
        with shared_store("snapshot save"):
            saved = await self._client.eval(
                _SAVE, 1, self._key(sealed.session_id), sealed.generation, sealed.data, self._px
            )
        return bool(saved)

    async def save_built(self, build: Callable[[], SealedSnapshot | None]) -> bool | None:
        """The build in a worker thread; the write is the client's own (no thread)."""
        sealed = await asyncio.to_thread(build)
        return None if sealed is None else await self.save(sealed)

    async def load(self, session_id: str) -> SealedSnapshot | None:
        with shared_store("snapshot load"):
            fields = await self._client.hmget(self._key(session_id), ["generation", "data"])
        generation, data = fields
        if generation is None or data is None:
            return None
        if isinstance(data, str):
            raise TypeError("the Redis client must answer bytes (decode_responses=False)")
        return SealedSnapshot(session_id, int(generation), data)

    async def delete(self, session_id: str, generation: int) -> None:
        with shared_store("snapshot delete"):
            await self._client.eval(_DELETE, 1, self._key(session_id), generation)

    async def close(self) -> None:
        """Close the client (its connections); the store is not used afterwards."""
        await self._client.aclose()
