"""Time, as the core sees it: a port, so every rule that ages something is testable."""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    """Time in seconds: a monotonic clock for ageing things, the wall clock for stamps."""

    def monotonic(self) -> float:
        """Seconds since an arbitrary fixed point; never goes backwards."""
        ...

    def now(self) -> float:
        """Wall-clock time, seconds since the Unix epoch (for timestamps sent to clients)."""
        ...
