"""The rules of session snapshots that need no I/O: sealing, identity, timing, switches.

- **Sealing.** A snapshot is authenticated with HMAC-SHA256 under a key derived from the
  server secret, over every byte of it (session id and generation included). `open`
  checks the MAC before it parses anything, so a store someone else can write (a shared
  Redis) can at worst replay an older snapshot of the same session, never make the
  runtime unpickle bytes of their choosing.
- **Identity.** A snapshot names its owner by a keyed fingerprint of the user info (the
  identity itself never reaches the store); it restores only for a connection whose
  fingerprint is the same, as the registry resumes only for the same user.
- **Timing.** After a completed run a snapshot is written within `delay` seconds; runs
  completing while one is pending or being written coalesce into the next write, so a
  session rerunning 50 times a second writes at most `1 / delay` snapshots a second.
- **Switch.** `hexlit.sessionSnapshots = auto` means on for the stores another process
  can read (filesystem and Redis), off for memory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from hexlit.ports.snapshots import SealedSnapshot, SessionSnapshot

SWITCH_VALUES: Final = ("auto", "on", "off")
SHARED_STORES: Final = frozenset({"filesystem", "redis"})
DEFAULT_MAX_BYTES: Final = 1024 * 1024
DEFAULT_DELAY: Final = 0.4
"""Seconds from a completed run to its snapshot's write: the 500 ms durability goal less
100 ms for the write itself. The longer the window, the more runs share one write (a
session rerunning twice a second writes once a second at 0.4 s, four times at 0.2 s)."""

_MAGIC: Final = b"hexlit-snapshot-1\n"
_MAC_BYTES: Final = 32
_LENGTH_BYTES: Final = 4


def snapshots_enabled(switch: str, store: str) -> bool:
    """Whether sessions are snapshotted, from `hexlit.sessionSnapshots` and `hexlit.store`."""
    if switch not in SWITCH_VALUES:
        raise ValueError(f"sessionSnapshots must be one of {', '.join(SWITCH_VALUES)}")
    return switch == "on" or (switch == "auto" and store in SHARED_STORES)


@dataclass(frozen=True, slots=True)
class SnapshotLimits:
    """max_bytes: the largest sealed snapshot kept (`hexlit.snapshotMaxBytes`).
    delay: seconds from a completed run to its snapshot (coalescing window)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    delay: float = DEFAULT_DELAY


class SnapshotSeal:
    """Seals and opens snapshots, and fingerprints identities, under one server secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("snapshots need a server secret")
        root = secret.encode("utf-8", "surrogatepass")
        self._mac_key = hmac.new(root, b"hexlit session snapshot mac", hashlib.sha256).digest()
        self._owner_key = hmac.new(root, b"hexlit session owner", hashlib.sha256).digest()

    def owner(self, user_info: Mapping[str, object]) -> str:
        """A fingerprint of who the user is: equal for equal user info, else different."""
        canonical = json.dumps(user_info, sort_keys=True, separators=(",", ":"), default=str)
        digest = hmac.new(self._owner_key, canonical.encode("utf-8", "surrogatepass"), "sha256")
        return digest.hexdigest()[:32]

    def seal(self, snapshot: SessionSnapshot) -> SealedSnapshot:
        header = json.dumps(
            {
                "session_id": snapshot.session_id,
                "generation": snapshot.generation,
                "page": snapshot.page,
                "query_string": snapshot.query_string,
                "owner": snapshot.owner,
                "user_state": len(snapshot.user_state),
                "widget_states": len(snapshot.widget_states),
            },
            separators=(",", ":"),
        ).encode()
        body = b"".join(
            (
                _MAGIC,
                len(header).to_bytes(_LENGTH_BYTES, "big"),
                header,
                snapshot.user_state,
                snapshot.widget_states,
            )
        )
        mac = hmac.new(self._mac_key, body, hashlib.sha256).digest()
        return SealedSnapshot(snapshot.session_id, snapshot.generation, mac + body)

    def open(self, sealed: SealedSnapshot) -> SessionSnapshot | None:
        """The snapshot inside `sealed`, or None unless its MAC verifies and it is the
        snapshot of this session at this generation (nothing is parsed before the MAC)."""
        mac, body = sealed.data[:_MAC_BYTES], sealed.data[_MAC_BYTES:]
        expected = hmac.new(self._mac_key, body, hashlib.sha256).digest()
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, expected):
            return None
        if not body.startswith(_MAGIC):
            return None
        start = len(_MAGIC) + _LENGTH_BYTES
        size = int.from_bytes(body[len(_MAGIC) : start], "big")
        header = json.loads(body[start : start + size])
        user_end = start + size + int(header["user_state"])
        widget_end = user_end + int(header["widget_states"])
        if widget_end != len(body):
            return None
        snapshot = SessionSnapshot(
            session_id=str(header["session_id"]),
            generation=int(header["generation"]),
            user_state=body[start + size : user_end],
            widget_states=body[user_end:widget_end],
            page=str(header["page"]),
            query_string=str(header["query_string"]),
            owner=str(header["owner"]),
        )
        if (snapshot.session_id, snapshot.generation) != (sealed.session_id, sealed.generation):
            return None  # a valid snapshot moved to another key or generation
        return snapshot


class SnapshotSchedule:
    """When each session's next snapshot is written: a pure state machine, time passed in.

    `completed` marks a finished run; `due` hands out the sessions whose write is due
    and marks them in flight; `written` ends a write. A session is never written twice
    at once, a write is due at most `delay` after the first run it has not covered yet,
    and runs that complete before their write starts share it.
    """

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._due_at: dict[str, float] = {}
        self._in_flight: set[str] = set()

    @property
    def pending(self) -> int:
        return len(self._due_at)

    def completed(self, session_id: str, now: float) -> bool:
        """Schedule the session's write `delay` from now, unless one is pending already.

        True when the writer must plan again: the write is the only one pending, so the
        writer may be waiting for news rather than for a time. Otherwise the writer already
        waits for an earlier time (each due time is `delay` after its run, and runs come in
        time order), so it need not be woken once per run.
        """
        if session_id in self._due_at:
            return False
        earliest = self.next_due()
        self._due_at[session_id] = at = now + self._delay
        return session_id not in self._in_flight and (earliest is None or at < earliest)

    def next_due(self) -> float | None:
        """When the earliest pending write is due (None: nothing pending)."""
        times = [at for sid, at in self._due_at.items() if sid not in self._in_flight]
        return min(times, default=None)

    def due(self, now: float) -> list[str]:
        ready = [
            sid for sid, at in self._due_at.items() if at <= now and sid not in self._in_flight
        ]
        for session_id in ready:
            del self._due_at[session_id]
            self._in_flight.add(session_id)
        return ready

    def everything(self) -> list[str]:
        """Every pending session, due now (a drain writes them all at once)."""
        ready = [sid for sid in self._due_at if sid not in self._in_flight]
        for session_id in ready:
            del self._due_at[session_id]
            self._in_flight.add(session_id)
        return ready

    def written(self, session_id: str, now: float) -> None:
        """The write of `session_id` ended; runs completed meanwhile wait for the next.

        A run completed during the write was scheduled then, so it is already pending
        with its own deadline; nothing to do but end the write.
        """
        self._in_flight.discard(session_id)

    def forget(self, session_id: str) -> None:
        self._due_at.pop(session_id, None)
        self._in_flight.discard(session_id)
