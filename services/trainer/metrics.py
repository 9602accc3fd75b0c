"""The trainer's metrics (``ringrift_trainer_*``), declared once, and how they are updated.

Counters and histograms move when the transaction that records their fact commits
(:func:`after_commit`), so a batch rolled back and handled again never counts twice. The
per-config gauges that describe stored state (samples waiting for the next run, seconds on
rejected candidates) are refreshed from the database by the report timer.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from ringrift.service.metrics import counter, gauge, histogram

SERVICE = "trainer"
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                    300.0)
_RUN_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
                7200.0, 14400.0, 28800.0)

SHARDS = counter(SERVICE, "shards", "Shards recorded in the window table, per config.",
                 ["config"])
CANDIDATES = counter(SERVICE, "candidates", "Candidates published (CandidateReady), per config.",
                     ["config"])
REJECTED_SECONDS = counter(SERVICE, "rejected_training", "Training seconds of candidates the "
                           "evaluator rejected, per config (counted when the rejection "
                           "arrives; the all-time total is in `ringrift trainer status`).",
                           ["config"], unit="seconds")
REJECTED = counter(SERVICE, "rejected_candidates", "Candidates the evaluator rejected, per "
                   "config.", ["config"])
SAMPLES_TRAINED = counter(SERVICE, "samples_trained", "Samples drawn into training batches, "
                          "per config.", ["config"])
SAMPLES_PER_SECOND = gauge(SERVICE, "samples", "per_second", "Training speed of "
                           "the run in progress (or the last one), per config.", ["config"])
CANDIDATE_SECONDS = histogram(SERVICE, "candidate_training", "seconds", "Training seconds per "
                              "published candidate (whole run, across resumes).", ["config"],
                              buckets=_RUN_BUCKETS)
TRIGGER_LATENCY = histogram(SERVICE, "trigger_latency", "seconds", "From the ShardWritten that "
                            "completed a run's data (its production time) to the start of "
                            "training, per config.", ["config"], buckets=_LATENCY_BUCKETS)
PREPARATION = histogram(SERVICE, "preparation", "seconds", "From the start of a run to its "
                        "first step: fetching and converting shards, loading the parent.",
                        ["config"], buckets=_LATENCY_BUCKETS)
WINDOW_ROWS = gauge(SERVICE, "window", "rows", "Rows in the window of the latest run, per "
                    "config.", ["config"])
WINDOW_SHARDS = gauge(SERVICE, "window", "shards", "Shards in the window of the latest "
                      "run, per config.", ["config"])
PENDING_SAMPLES = gauge(SERVICE, "pending", "samples", "Samples received since the latest run "
                        "was triggered, per config.", ["config"])
DEFERRED = gauge(SERVICE, "deferred", "runs", "Runs of this config waiting because the cluster "
                 "status defers training (0 or 1).", ["config"])
BATCH_SIZE = gauge(SERVICE, "batch_size", "samples", "Batch size of the latest run, per config.",
                   ["config"])


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once ``session``'s transaction has committed (never on a rollback)."""
    event.listen(session, "after_commit", lambda _session: action(), once=True)


def create_series(config_key: str) -> None:
    """Show a config's counters and histograms at 0 before anything happened: alerts on
    absence need them, and ``rate()`` over a histogram sees its first observation only if
    the series existed before it."""
    for metric in (SHARDS, CANDIDATES, REJECTED_SECONDS, REJECTED, SAMPLES_TRAINED,
                   CANDIDATE_SECONDS, TRIGGER_LATENCY, PREPARATION):
        metric.labels(config_key)
