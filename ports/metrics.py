"""Metrics: the `Metrics` use case (`/_stcore/metrics`) and the runtime's own families."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MetricFamily:
    """One OpenMetrics family: its metadata and its sample lines, already in text syntax.

    `samples` are lines such as `active_sessions 3` or
    `cache_memory_bytes{cache_type="st_data",cache="f"} 120`.
    """

    name: str
    type: str
    help: str
    samples: tuple[str, ...]
    unit: str = ""


class MetricsSource(Protocol):
    """Families a runtime measures itself (caches, session events, ...)."""

    async def metric_families(self, names: Sequence[str] | None) -> list[MetricFamily]:
        """The families named (all when None); unknown names are left out."""
        ...


class MetricsEncoder(Protocol):
    """Writes families in a binary form (Streamlit's protobuf `MetricSet`).

    The core decides when a client gets it; an adapter that owns the wire schema writes it.
    """

    @property
    def media_type(self) -> str:
        """The `Content-Type` of what `encode` returns."""
        ...

    def encode(self, families: Sequence[MetricFamily]) -> bytes:
        """`families` (their text samples) in this encoder's form."""
        ...


class Metrics(Protocol):
    """The inbound port behind `/_stcore/metrics`."""

    async def collect(self, names: Sequence[str] | None) -> list[MetricFamily]:
        """The runtime's families and hexlit's own, filtered by `names` (all when None)."""
        ...

    def encoder_for(self, accept: str | None) -> MetricsEncoder | None:
        """The encoder the `Accept` header asks for; None means OpenMetrics text."""
        ...
