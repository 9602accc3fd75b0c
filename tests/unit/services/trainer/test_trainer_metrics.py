"""A config's trainer series exist at 0 from the start, histograms included (so the first
shard's trigger latency and the first candidate's seconds show up in ``rate()``)."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.trainer import metrics


def test_create_series_shows_counters_and_histograms_at_zero() -> None:
    config = "hexagonal_4p"  # no other test of this process touches its series
    names = ("ringrift_trainer_shards_total", "ringrift_trainer_candidates_total",
             "ringrift_trainer_trigger_latency_seconds_count",
             "ringrift_trainer_preparation_seconds_count",
             "ringrift_trainer_candidate_training_seconds_count")
    assert [REGISTRY.get_sample_value(name, {"config": config}) for name in names] == [None] * 5
    metrics.create_series(config)
    assert [REGISTRY.get_sample_value(name, {"config": config}) for name in names] == [0.0] * 5
