"""The `Lifecycle` use case: what a server front end calls when it starts and stops."""

from __future__ import annotations

from typing import Protocol


class Lifecycle(Protocol):
    """Start and stop the core: the runtime, the session sweeper, open connections."""

    async def start(self) -> None:
        """Start the runtime; returns once sessions can be opened."""
        ...

    async def stop(self) -> None:
        """Refuse new sessions, close open ones as "going away", stop the runtime.

        Idempotent; returns once the runtime has stopped.
        """
        ...
