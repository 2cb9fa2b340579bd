"""A session directory in Redis: which sessions are live on any replica.

Each live session is one key, `{ns}:session:{session_id}` (an id made of
`[A-Za-z0-9._-]` as is, any other as `~<hex>`), set with an expiry of `ttl` seconds when
the session attaches, renewed by `refresh` (which the session core calls well within the
ttl) and deleted when it detaches. A replica that crashes stops refreshing: its sessions
drop out of the directory after at most `ttl`. `refresh` sets the keys rather than only
renewing them, so announcements lost in a Redis restart come back with the next refresh.

Every Redis error becomes `StoreUnavailable("shared store unreachable")`, its reason
logged once at WARNING (the error class and, for connection errors, redis-py's message);
the client reconnects by itself on the next call once Redis is back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from redis.asyncio import Redis

from hexlit.adapters.redis.connection import key_part, milliseconds, shared_store

DEFAULT_TTL: Final = 90.0


class RedisSessionDirectory:
    """Implements `SessionDirectory` and `SessionPresence` over one Redis client.

    The client is the process's one, shared with the Redis stores; whoever builds it
    closes it (the container's `redis_connections` resource, at shutdown), so the
    directory has no `close`.
    """

    def __init__(self, client: Redis, namespace: str = "hexlit", ttl: float = DEFAULT_TTL):
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._client = client
        self._prefix = f"{namespace}:session:"
        self._px = milliseconds(ttl)

    def _key(self, session_id: str) -> str:
        return self._prefix + key_part(session_id)

    async def is_active(self, session_id: str) -> bool:
        with shared_store("session lookup"):
            found: int = await self._client.exists(self._key(session_id))
        return found > 0

    async def attached(self, session_id: str) -> None:
        with shared_store("session attach"):
            await self._client.set(self._key(session_id), b"1", px=self._px)

    async def detached(self, session_id: str) -> None:
        with shared_store("session detach"):
            await self._client.delete(self._key(session_id))

    async def refresh(self, session_ids: Sequence[str]) -> None:
        if not session_ids:
            return
        with shared_store("session refresh"):
            async with self._client.pipeline(transaction=False) as pipe:
                for session_id in session_ids:
                    pipe.set(self._key(session_id), b"1", px=self._px)
                await pipe.execute()
