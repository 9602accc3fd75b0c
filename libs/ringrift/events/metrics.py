"""Prometheus metrics of the event backbone, shared by every service's process.

Defined once at import on the default registry (a metric may be registered only
once per process); labels tell topics and consumer groups apart. The handling lag is
``now - produced_at`` of each handled event: the trigger latency users watch.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "ringrift_events_published_total",
    "Events acknowledged by the broker, per topic.", ["topic"])
PUBLISH_FAILURES = Counter(
    "ringrift_events_publish_failures_total",
    "Records the broker did not acknowledge, per topic.", ["topic"])
EVENTS_CONSUMED = Counter(
    "ringrift_events_consumed_total",
    "Records handled successfully (or skipped as already processed), per topic and group.",
    ["topic", "group"])
DUPLICATES_SKIPPED = Counter(
    "ringrift_events_duplicates_skipped_total",
    "Redelivered events whose id was already recorded as processed.", ["topic", "group"])
HANDLER_FAILURES = Counter(
    "ringrift_events_handler_failures_total",
    "Failed handler attempts, per topic, group and error class.", ["topic", "group", "error"])
DEAD_LETTERED = Counter(
    "ringrift_events_dead_lettered_total",
    "Records sent to the dead-letter topic, per original topic and group.", ["topic", "group"])
HANDLING_LAG = Histogram(
    "ringrift_events_handling_lag_seconds",
    "Time from an event's produced-at to the end of its handling, per consumer group.",
    ["group"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600))
CONSUMER_LAG = Gauge(
    "ringrift_events_consumer_lag_records",
    "Records not yet handled: high watermark minus the next offset to handle, per group and "
    "partition (set by ConsumerLoop.consumer_lag).", ["group", "topic", "partition"])
OUTBOX_BACKLOG = Gauge(
    "ringrift_events_outbox_backlog_rows",
    "Unsent outbox rows at the relay's last look (at most its batch size).")
OUTAGE = Gauge(
    "ringrift_events_outage",
    "1 while the consumer loop is retrying an outage (database, broker or store away).",
    ["group"])
JOBS_RUNNING = Gauge(
    "ringrift_events_jobs_running", "Long-work jobs this process owns, per group.", ["group"])
JOBS_FINISHED = Counter(
    "ringrift_events_jobs_finished_total",
    "Jobs finished, per group, kind and outcome (done, failed).", ["group", "kind", "outcome"])
