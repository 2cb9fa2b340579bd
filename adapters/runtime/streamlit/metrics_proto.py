"""`/_stcore/metrics` as Streamlit's protobuf `MetricSet`, for clients that ask for it.

The families reach this adapter as OpenMetrics text samples (the port's form), so each
sample line is read back into name, labels and value, and filled into Streamlit's own
proto classes the way Streamlit's stats fill them: labels sorted by name, integral
values as `int_value`, a histogram's `_bucket`/`_sum`/`_count` lines as one
`histogram_value` per label set.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from streamlit.proto.openmetrics_data_model_pb2 import Metric, MetricSet
from streamlit.proto.openmetrics_data_model_pb2 import MetricFamily as FamilyProto
from streamlit.runtime.stats import metric_type_string_to_proto

from hexlit.ports.metrics import MetricFamily

MEDIA_TYPE: Final = "application/x-protobuf"

_SAMPLE = re.compile(r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Sample:
    name: str
    labels: Labels
    value: float


@dataclass(slots=True)
class _Histogram:
    buckets: list[tuple[float, float]] = field(default_factory=list)
    total: float = 0.0
    count: float = 0.0


class ProtobufMetricsEncoder:
    """Implements `MetricsEncoder` with `streamlit.proto.openmetrics_data_model_pb2`."""

    @property
    def media_type(self) -> str:
        return MEDIA_TYPE

    def encode(self, families: Sequence[MetricFamily]) -> bytes:
        metric_set = MetricSet()
        for family in families:
            if not family.samples:
                continue
            proto = metric_set.metric_families.add()
            proto.name = family.name
            proto.type = metric_type_string_to_proto(family.type)
            proto.unit = family.unit
            proto.help = family.help
            samples = list(_samples(family.samples))
            if family.type == "histogram":
                _fill_histograms(proto, samples)
            else:
                for sample in samples:
                    if sample.name.endswith("_created"):
                        continue  # a counter's creation time is not a point of its own
                    _fill_point(proto.metrics.add(), family.type, sample)
        return bytes(metric_set.SerializeToString())


def _samples(lines: Sequence[str]) -> Iterator[_Sample]:
    """Each text sample line (a runtime's sample may hold several) read back."""
    for text in lines:
        for line in text.splitlines():
            match = _SAMPLE.fullmatch(line.strip())
            if match is None:
                continue  # not a sample line: nothing a MetricSet can hold
            labels = tuple(sorted(_labels(match.group("labels") or "")))
            yield _Sample(match.group("name"), labels, float(match.group("value")))


def _labels(text: str) -> Iterator[tuple[str, str]]:
    for name, escaped in _LABEL.findall(text):
        yield name, re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], escaped)


def _add_labels(metric: Metric, labels: Labels) -> None:
    for name, value in labels:
        label = metric.labels.add()
        label.name, label.value = name, value


def _fill_point(metric: Metric, kind: str, sample: _Sample) -> None:
    _add_labels(metric, sample.labels)
    point = metric.metric_points.add()
    value = (
        point.counter_value
        if kind == "counter"
        else point.gauge_value
        if kind == "gauge"
        else point.unknown_value
    )
    if sample.value.is_integer():
        value.int_value = int(sample.value)
    else:
        value.double_value = sample.value


def _fill_histograms(proto: FamilyProto, samples: list[_Sample]) -> None:
    family = proto.name
    series: dict[Labels, _Histogram] = {}
    for sample in samples:
        own = tuple((k, v) for k, v in sample.labels if k != "le")
        histogram = series.setdefault(own, _Histogram())
        if sample.name == f"{family}_bucket":
            bound = dict(sample.labels).get("le", "+Inf")
            upper = math.inf if bound == "+Inf" else float(bound)
            histogram.buckets.append((upper, sample.value))
        elif sample.name == f"{family}_sum":
            histogram.total = sample.value
        elif sample.name == f"{family}_count":
            histogram.count = sample.value
    for labels, histogram in series.items():
        metric = proto.metrics.add()
        _add_labels(metric, labels)
        value = metric.metric_points.add().histogram_value
        value.double_value = histogram.total
        value.count = int(histogram.count)
        for upper, count in sorted(histogram.buckets):
            bucket = value.buckets.add()
            bucket.upper_bound, bucket.count = upper, int(count)
