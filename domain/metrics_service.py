"""What `/_stcore/metrics` reports: the runtime's families, then hexlit's own counters."""

from __future__ import annotations

from collections.abc import Sequence

from hexlit.domain.observation import Traffic
from hexlit.domain.session_service import SessionService
from hexlit.ports.metrics import MetricFamily, MetricsEncoder, MetricsSource

PROTOBUF_MEDIA_TYPE = "application/x-protobuf"


def wants_protobuf(accept: str | None) -> bool:
    """Streamlit 1.67's rule: protobuf whenever `Accept` names `application/x-protobuf`.

    Streamlit looks for the media type anywhere in the header and ignores q-values;
    hexlit does the same (media types compare case-insensitively), so a client written
    for Streamlit gets what it got there.
    """
    return accept is not None and PROTOBUF_MEDIA_TYPE in accept.lower()


_COUNTERS = (
    ("sessions_opened", "Sessions opened (new or resumed)"),
    ("sessions_resumed", "Sessions resumed after a reconnect"),
    ("frames_in", "WebSocket frames received from browsers"),
    ("frames_out", "WebSocket frames sent to browsers"),
    ("bytes_in", "Bytes of WebSocket frames received"),
    ("bytes_out", "Bytes of WebSocket frames sent"),
    ("slow_consumer_disconnects", "Connections closed because the client fell behind"),
    ("rejected_handshakes", "WebSocket handshakes refused by the origin, host or header rules"),
    ("session_end_failures", "Steps of ending an expired session that failed (logged; it went on)"),
)


_SNAPSHOT_COUNTERS = (
    ("snapshots_saved", "Session snapshots written"),
    ("snapshots_restored", "Sessions taken over from a snapshot"),
    ("snapshots_fenced", "Session copies closed because another process took them over"),
    ("snapshots_too_large", "Snapshots not written: above hexlit.snapshotMaxBytes"),
    ("snapshots_rejected", "Snapshots ignored: their seal did not verify"),
    ("snapshot_values_skipped", "Session state values left out of snapshots (not picklable)"),
    ("snapshot_store_failures", "Snapshot reads or writes that failed: store unreachable"),
)


class MetricsService:
    """Implements `Metrics` from the runtime's `MetricsSource` and the session core."""

    def __init__(
        self,
        source: MetricsSource,
        sessions: SessionService,
        traffic: Traffic | None = None,
        encoder: MetricsEncoder | None = None,
    ) -> None:
        self._source = source
        self._sessions = sessions
        self._traffic = traffic
        self._encoder = encoder

    def encoder_for(self, accept: str | None) -> MetricsEncoder | None:
        """The protobuf encoder when the client asks for it and the runtime has one.

        The protobuf schema is Streamlit's, so only the Streamlit runtime provides an
        encoder. Without it (the built-in runtime) the answer is OpenMetrics text with its
        own Content-Type: HTTP lets a server answer in another form than the one asked
        (RFC 9110 §12.5.1), and every scraper reads text.
        """
        if self._encoder is not None and wants_protobuf(accept):
            return self._encoder
        return None

    async def collect(self, names: Sequence[str] | None) -> list[MetricFamily]:
        families = await self._source.metric_families(names)
        own = self._own_families()
        if self._traffic is not None:
            own += self._traffic.families()
        wanted = set(names) if names is not None else None
        return families + [f for f in own if wanted is None or f.name in wanted]

    def _own_families(self) -> list[MetricFamily]:
        gauge = MetricFamily(
            "hexlit_open_connections",
            "gauge",
            "Browser WebSocket connections open now",
            (f"hexlit_open_connections {self._sessions.open_connections}",),
        )
        counters = [
            MetricFamily(
                f"hexlit_{name}",
                "counter",
                text,
                (f"hexlit_{name}_total {getattr(self._sessions.stats, name)}",),
            )
            for name, text in _COUNTERS
        ]
        snapshot_stats = self._sessions.snapshot_stats
        counters += [
            MetricFamily(
                f"hexlit_{name}",
                "counter",
                text,
                (f"hexlit_{name}_total {getattr(snapshot_stats, name)}",),
            )
            for name, text in _SNAPSHOT_COUNTERS
        ]
        return [gauge, *counters]
