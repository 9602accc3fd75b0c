"""The exporter's metrics (``ringrift_exporter_*``), declared once for its modules."""

from __future__ import annotations

from ringrift.service.metrics import counter, gauge, histogram

GAMES_STORED = counter("exporter", "games_stored", "Games stored (a redelivered game is not "
                       "counted again), per config and origin.", ["config", "origin"])
GAMES_DUPLICATE = counter("exporter", "games_duplicate", "Games that arrived again with the "
                          "same content and changed nothing, per config.", ["config"])
GAMES_REJECTED = counter("exporter", "games_rejected", "Stored games set aside (and "
                         "dead-lettered) because they did not replay when their shard was "
                         "built, per config.", ["config"])
PENDING_SAMPLES = gauge("exporter", "pending", "samples", "Samples waiting for a shard, per "
                        "config and origin.", ["config", "origin"])
PENDING_GAMES = gauge("exporter", "pending", "games", "Games waiting for a shard, per config "
                      "and origin.", ["config", "origin"])
OLDEST_PENDING = gauge("exporter", "oldest_pending_age", "seconds", "How long the oldest "
                       "pending game has waited, per config and origin (0: none waits).",
                       ["config", "origin"])
SHARDS_WRITTEN = counter("exporter", "shards_written", "Shards written and announced, per "
                         "config and trigger (samples, max_delay).", ["config", "trigger"])
SAMPLES_WRITTEN = counter("exporter", "samples_written", "Samples written into shards, per "
                          "config.", ["config"])
STAGE_LATENCY = histogram(
    "exporter", "stage_latency", "seconds", "From the newest game's produced-at to its "
    "shard's ShardWritten, per config.", ["config"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600))
BUILD_SECONDS = histogram(
    "exporter", "shard_build", "seconds", "Time spent replaying and encoding one shard's "
    "games, per config.", ["config"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))
WRITE_FAILURES = counter("exporter", "shard_failures", "Shard builds that failed and were "
                         "retried, per config and kind (outage, error).", ["config", "kind"])
