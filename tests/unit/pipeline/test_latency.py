"""The benchmark's figures from a recorded history and from scraped histograms.

Checks: each stage latency is the difference of the produced-at times the topics hold
(newest game -> shard, the run's shard -> candidate, candidate -> evaluation started and
completed, evaluation -> decision, model current -> first game started and published
with it), and game end -> first candidate; quantiles interpolate; a histogram's quantile
is interpolated within its bucket as Prometheus does, and an empty one has none.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from ringrift.pipeline.latency import (
    from_histogram,
    histogram_quantile,
    percentile,
    topic_latencies,
)
from ringrift.pipeline.probe import Metrics
from tests.unit.pipeline.chain import topics


def test_stage_latencies_from_the_topics() -> None:
    figures = {figure.figure: figure.seconds for figure in topic_latencies(topics())}
    assert figures["stage: newest game -> shard"] == (0.5, 0.5)
    assert figures["stage: shard -> candidate"] == (4.5,)  # caused by the second shard
    assert figures["trigger: candidate -> evaluation started"] == (0.25,)
    assert figures["stage: candidate -> evaluation"] == (10.0,)
    assert figures["stage: evaluation -> decision"] == (0.5,)
    # g7 (23 s, 30 s long) is the first game with the model made current at 20.5 s.
    assert figures["trigger: model current -> first game started"] == (-27.5,)
    assert figures["stage: model current -> first game with it"] == (2.5,)
    assert sorted(figures["game end -> first candidate trained on it"]) == [5, 6, 7, 8, 9]


def test_percentiles_interpolate() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([0.0, 10.0], 0.99) == pytest.approx(9.9)


def test_histogram_quantiles_interpolate_within_buckets() -> None:
    registry = CollectorRegistry()
    lag = Histogram("lag_seconds", "", ["group"], buckets=(0.1, 0.5, 1.0), registry=registry)
    for value in [0.05] * 50 + [0.3] * 40 + [0.8] * 10:
        lag.labels("exporter").observe(value)
    metrics = Metrics.parse(generate_latest(registry).decode())
    assert histogram_quantile(metrics, "lag_seconds", 0.5, group="exporter") == \
        pytest.approx(0.1)
    assert histogram_quantile(metrics, "lag_seconds", 0.95, group="exporter") == \
        pytest.approx(0.75)
    assert histogram_quantile(metrics, "lag_seconds", 0.5, group="other") is None
    figure = from_histogram("exporter", "trigger", metrics, "lag_seconds", group="exporter")
    assert figure.count == 100 and figure.quantile(0.99) == pytest.approx(0.95)
