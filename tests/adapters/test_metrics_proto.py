"""The protobuf metrics encoder reads the port's text samples back faithfully."""

from __future__ import annotations

import math

from streamlit.proto.openmetrics_data_model_pb2 import COUNTER, HISTOGRAM, MetricSet

from hexlit.adapters.runtime.streamlit.metrics_proto import ProtobufMetricsEncoder
from hexlit.ports.metrics import MetricFamily


def decode(families: list[MetricFamily]) -> MetricSet:
    metric_set = MetricSet()
    metric_set.ParseFromString(ProtobufMetricsEncoder().encode(families))
    return metric_set


def test_escaped_label_values_and_sorted_labels() -> None:
    family = MetricFamily(
        "events", "counter", "Events", ('events_total{z="1",path="a\\"b\\\\c\\nd"} 7',)
    )
    (proto,) = decode([family]).metric_families
    assert proto.type == COUNTER
    (metric,) = proto.metrics
    assert [(label.name, label.value) for label in metric.labels] == [
        ("path", 'a"b\\c\nd'),
        ("z", "1"),
    ]
    assert metric.metric_points[0].counter_value.int_value == 7


def test_a_histogram_is_one_point_per_label_set() -> None:
    samples = (
        'lat_bucket{route="/a",le="0.1"} 1\nlat_bucket{route="/a",le="+Inf"} 2',
        'lat_count{route="/a"} 2',
        'lat_sum{route="/a"} 0.25',
    )
    (proto,) = decode(
        [MetricFamily("lat", "histogram", "Latency", samples, "seconds")]
    ).metric_families
    assert (proto.type, proto.unit) == (HISTOGRAM, "seconds")
    (metric,) = proto.metrics
    value = metric.metric_points[0].histogram_value
    assert (value.count, value.double_value) == (2, 0.25)
    assert [(b.upper_bound, b.count) for b in value.buckets] == [(0.1, 1), (math.inf, 2)]


def test_a_family_without_samples_is_left_out() -> None:
    assert not decode([MetricFamily("none", "gauge", "Nothing", ())]).metric_families
