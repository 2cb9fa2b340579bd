"""Time, as the core sees it: a port, so every rule that ages something is testable."""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    """A monotonic clock in seconds. Only differences between readings mean anything."""

    def monotonic(self) -> float:
        """Seconds since an arbitrary fixed point; never goes backwards."""
        ...
