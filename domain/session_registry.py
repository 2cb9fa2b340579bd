"""Which sessions exist, who holds them, and which ones may be resumed.

A pure state machine (no I/O, time passed in), so the reconnect rules are proved with
hypothesis rather than hoped for. The rules, after Streamlit's session manager (spec §2.6):

- a session is *attached* to exactly one connection, or *detached* since some time;
- a detached session may be resumed by the same user within `ttl` seconds; after that,
  or when more than `max_detached` sessions wait, the oldest are expired;
- an attached session offered again by the same user is taken over: the new connection
  wins and the old one is told it was replaced (its late close then changes nothing);
- an offered id that is unknown, expired, or held by another user gets a fresh session.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from hexlit.ports.runtime import UserInfo


@dataclass(slots=True)
class _Entry:
    user_info: UserInfo
    owner: object | None
    detached_at: float | None


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of a connection asking for a session.

    session_id: the id to connect (the offered one when resuming, else a fresh one).
    resume: True when the runtime already holds this session.
    displaced: the connection that held the session until now, to be told so.
    """

    session_id: str
    resume: bool
    displaced: object | None = None


class SessionRegistry:
    """The session directory of one process."""

    def __init__(self, ttl: float, max_detached: int) -> None:
        self._ttl = ttl
        self._max_detached = max_detached
        self._attached: dict[str, _Entry] = {}
        self._detached: OrderedDict[str, _Entry] = OrderedDict()

    @property
    def attached_count(self) -> int:
        return len(self._attached)

    @property
    def detached_count(self) -> int:
        return len(self._detached)

    def is_attached(self, session_id: str) -> bool:
        return session_id in self._attached

    def owner_of(self, session_id: str) -> object | None:
        entry = self._attached.get(session_id)
        return entry.owner if entry else None

    def claim(
        self, offered_id: str | None, user_info: UserInfo, owner: object, fresh_id: str
    ) -> Claim:
        """Attach `owner` to the offered session if the rules allow, else to `fresh_id`."""
        if offered_id is not None:
            held = self._attached.get(offered_id)
            if held is not None and held.user_info == user_info:
                displaced = held.owner
                held.owner = owner
                return Claim(offered_id, resume=True, displaced=displaced)
            waiting = self._detached.get(offered_id)
            if waiting is not None and waiting.user_info == user_info:
                del self._detached[offered_id]
                waiting.owner, waiting.detached_at = owner, None
                self._attached[offered_id] = waiting
                return Claim(offered_id, resume=True)
        if fresh_id in self._attached or fresh_id in self._detached:
            raise ValueError("IdSource returned an id that is already in use")
        self._attached[fresh_id] = _Entry(dict(user_info), owner, None)
        return Claim(fresh_id, resume=False)

    def rename(self, old_id: str, new_id: str) -> None:
        """The runtime could not resume `old_id` and made `new_id` instead."""
        entry = self._attached.pop(old_id)
        self._attached[new_id] = entry

    def detach(self, session_id: str, owner: object, now: float) -> bool:
        """`owner` let go of the session; False (and no change) if it no longer held it."""
        entry = self._attached.get(session_id)
        if entry is None or entry.owner is not owner:
            return False
        del self._attached[session_id]
        entry.owner, entry.detached_at = None, now
        self._detached[session_id] = entry
        return True

    def forget(self, session_id: str) -> None:
        """Remove the session whatever its state (it was ended for good)."""
        self._attached.pop(session_id, None)
        self._detached.pop(session_id, None)

    def expire(self, now: float) -> list[str]:
        """Remove and return the detached sessions that may no longer be resumed."""
        expired: list[str] = []
        while self._detached:
            session_id, entry = next(iter(self._detached.items()))
            too_old = entry.detached_at is not None and now - entry.detached_at >= self._ttl
            if not too_old and len(self._detached) <= self._max_detached:
                break
            del self._detached[session_id]
            expired.append(session_id)
        return expired
