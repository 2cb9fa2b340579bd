"""Session snapshots: a session's state, kept where another process can pick it up.

A snapshot lets a session outlive the process that ran it: a reconnect that lands on
another replica, or on this one after a restart, rebuilds the session from it. The core
seals every snapshot (an HMAC over all of it) before a store sees it, so a store holds
opaque bytes plus the one number it must compare: the generation.

Generations fence stale owners. Each save carries a generation one above the last one
its writer saw; a store keeps a snapshot only if it holds nothing newer, so a replica
that was paused while another took the session over can never overwrite it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """What a session is made of, as far as a new process needs to rebuild it.

    user_state: the runtime's encoding of the picklable user keys of the session state.
    widget_states: the runtime's encoding of the widget values of the last run.
    page: the page the session was on (the runtime's page id; "" for the main page).
    query_string: the URL query string of the last run, without the "?".
    generation: 1 for a session's first snapshot, one more for each later one.
    owner: a keyed fingerprint of the identity the session belongs to (never the
        identity itself); a snapshot restores only for a connection with the same one.
    """

    session_id: str
    generation: int
    user_state: bytes
    widget_states: bytes
    page: str
    query_string: str
    owner: str


@dataclass(frozen=True, slots=True)
class SealedSnapshot:
    """A snapshot as a store holds it: authenticated bytes and the generation in clear."""

    session_id: str
    generation: int
    data: bytes


class SessionSnapshots(Protocol):
    """Where sealed snapshots are kept (memory, a shared folder, or Redis).

    Every method may raise `StoreUnavailable` when a shared store cannot be reached.
    """

    async def save(self, sealed: SealedSnapshot) -> bool:
        """Keep `sealed` as its session's snapshot, unless the store already holds one
        of the same or a newer generation: then change nothing and return False."""
        ...

    async def save_built(self, build: Callable[[], SealedSnapshot | None]) -> bool | None:
        """Call `build` off the event loop, then keep what it returns as `save` does.

        `build` is blocking work (pickling, sealing). A store whose own write blocks runs
        it in the same worker job as `build`, so a snapshot costs one hop to a worker
        thread, not two. None when `build` returned None (nothing to save).
        """
        ...

    async def load(self, session_id: str) -> SealedSnapshot | None:
        """The session's snapshot, or None when there is none."""
        ...

    async def delete(self, session_id: str, generation: int) -> None:
        """Remove the session's snapshot if its generation is at most `generation`
        (an owner that was taken over never deletes its successor's snapshot)."""
        ...
