"""`Clock` on the operating system's monotonic clock."""

from __future__ import annotations

import time


class SystemClock:
    """Implements `Clock`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> float:
        return time.time()
