"""The four Grafana dashboards: pipeline, Kafka, learning, cluster.

Every query reads metrics the services export (``ringrift_<service>_*``, the backbone's
``ringrift_events_*``, the runtime's ``ringrift_service_*``); the real-data test runs each
one against a Prometheus that scraped a bounded pipeline run. Counters that start with
their first event (dead letters, verdicts) are shown as totals since the service
started, so that a single event shows; rates use ``$__rate_interval``.
"""

from __future__ import annotations

from ringrift.deploy.dashboard_model import Annotation, Dashboard, Panel, Query, Row, Variable

C = '{config=~"$config"}'
N = '{node=~"$node"}'
# The trainer shows a series per enabled config from its start (before any game).
CONFIG = Variable("config", "Config", "ringrift_trainer_candidates_total")
NODE = Variable("node", "Node", "ringrift_cluster_monitor_node_pressure_level")
LEVELS = ({"type": "value", "options": {"0": {"text": "ok", "color": "green"},
                                        "1": {"text": "warning", "color": "orange"},
                                        "2": {"text": "critical", "color": "red"}}},)


def quantile(q: float, metric: str, by: str, selector: str = C) -> str:
    return (f"histogram_quantile({q}, sum by ({by}, le) "
            f"(rate({metric}_bucket{selector}[$__rate_interval])))")


def mean_over_range(metric: str) -> str:
    """The mean of a histogram's observations over the dashboard's time range, per config."""
    return (f"sum by (config) (increase({metric}_sum{C}[$__range])) / "
            f"sum by (config) (increase({metric}_count{C}[$__range]))")


def per_minute(metric: str, by: str = "config") -> str:
    return f"60 * sum by ({by}) (rate({metric}{C}[$__rate_interval]))"


STAGES = (("export", "ringrift_exporter_stage_latency_seconds"),
          ("training start", "ringrift_trainer_trigger_latency_seconds"),
          ("preparation", "ringrift_trainer_preparation_seconds"),
          ("training", "ringrift_trainer_candidate_training_seconds"))

PIPELINE = Dashboard("pipeline", "RingRift pipeline", "Where the time goes between the stages: "
                     "latency, freshness and throughput per stage and config.", [
    Row("Latency"),
    Panel("Trigger latency per stage", "From an event's produced-at to the end of its "
          "handling, per consuming group (the stage that handles it): a stage should start "
          "within a second of the previous stage's event.",
          [Query(quantile(0.99, "ringrift_events_handling_lag_seconds", "group", ""),
                 "{{group}} p99"),
           Query(quantile(0.5, "ringrift_events_handling_lag_seconds", "group", ""),
                 "{{group}} p50")], unit="s"),
    Panel("Stage latency per config (p90)", "Export: the newest game's end to its shard; "
          "training start: the shard that completes a run's data to the run's start; "
          "training: a candidate's whole run; evaluation: a candidate's evaluation.",
          [*(Query(quantile(0.9, metric, "config"), f"{stage} {{{{config}}}}")
             for stage, metric in STAGES if stage != "preparation"),
           Query(quantile(0.9, "ringrift_evaluator_evaluation_seconds", "config"),
                 "evaluation {{config}}")], unit="s"),
    Panel("Game end to first candidate", "The mean time a game spends in each stage before "
          "the first candidate trained on it exists, over the time range, and their sum (the "
          "whole way). `make bench-pipeline` measures it exactly from the topics.",
          [*(Query(mean_over_range(metric), f"{stage} {{{{config}}}}")
             for stage, metric in STAGES),
           Query(" + on (config) ".join(f"({mean_over_range(metric)})" for _, metric in STAGES),
                 "game end to candidate {{config}}")], kind="bargauge", unit="s"),
    Panel("Data freshness", "How old the newest output of each stage is, per config, the "
          "oldest game still waiting for a shard, and the age of the model self-play uses.",
          [Query(f"time() - ringrift_promoter_stage_last_produced_timestamp_seconds{C}",
                 "{{stage}} {{config}}"),
           Query(f"max by (config) (ringrift_exporter_oldest_pending_age_seconds{C})",
                 "oldest unexported game {{config}}"),
           Query(f"max by (config) (ringrift_selfplay_model_age_seconds{C})",
                 "self-play model age {{config}}")], unit="s"),
    Row("Throughput"),
    Panel("Games per minute", "Games published by self-play and stored by the exporter.",
          [Query(per_minute("ringrift_selfplay_games_total"), "played {{config}}"),
           Query(per_minute("ringrift_exporter_games_stored_total"), "stored {{config}}")]),
    Panel("Shards, candidates, evaluations per minute", "The slower stages' outputs.",
          [Query(per_minute("ringrift_exporter_shards_written_total"), "shards {{config}}"),
           Query(per_minute("ringrift_trainer_candidates_total"), "candidates {{config}}"),
           Query(per_minute("ringrift_evaluator_evaluations_total"), "evaluations {{config}}")]),
    Panel("Waiting for the next stage", "Samples stored but not in a shard yet (exporter) and "
          "received since the last run started (trainer).",
          [Query(f"sum by (config) (ringrift_exporter_pending_samples{C})", "export {{config}}"),
           Query(f"sum by (config) (ringrift_trainer_pending_samples{C})",
                 "training {{config}}")]),
    Panel("CPU per service", "CPU seconds per second of each service process: where the "
          "machine's time goes.",
          [Query('sum by (job) (rate(process_cpu_seconds_total{job=~"ringrift-.*"}'
                 '[$__rate_interval]))', "{{job}}")], stacked=True),
], variables=[CONFIG])

KAFKA = Dashboard("kafka", "RingRift Kafka", "Consumer lag, dead letters and the rates of "
                  "the pipeline's topics, as the services' consumers and producers see them.", [
    Panel("Consumer lag per group and partition", "Records not yet handled: the partition's "
          "high watermark minus the group's next offset.",
          [Query("sum by (group, topic, partition) (ringrift_events_consumer_lag_records)",
                 "{{group}} {{topic}}[{{partition}}]")], width=24),
    Panel("Dead letters per topic", "Records sent to `<topic>.dlq` since each consumer "
          "started: `ringrift events dlq list TOPIC` shows them and their reasons.",
          [Query("sum by (topic, group) (ringrift_events_dead_lettered_total)",
                 "{{topic}} ({{group}})")], kind="bargauge"),
    Panel("Table readers caught up", "1 once a service's reader of a compacted topic (current "
          "models, weights, cluster status) has read what was there at its start.",
          [Query("min by (job, topic) (ringrift_events_table_caught_up)", "{{job}} {{topic}}")],
          kind="bargauge"),
    Panel("Publish rate per topic", "Events acknowledged by the broker, per second.",
          [Query("sum by (topic) (rate(ringrift_events_published_total[$__rate_interval]))",
                 "{{topic}}")], unit="rps"),
    Panel("Consume rate per topic and group", "Records handled (or skipped as already "
          "processed), per second.",
          [Query("sum by (topic, group) (rate(ringrift_events_consumed_total"
                 "[$__rate_interval]))", "{{group}} {{topic}}")], unit="rps"),
    Panel("Outbox backlog", "Unsent outbox rows per service at its relay's last look.",
          [Query("sum by (job) (ringrift_events_outbox_backlog_rows)", "{{job}}")]),
    Panel("Outages", "1 while a consumer group retries an outage (database, broker or store).",
          [Query("max by (group) (ringrift_events_outage)", "{{group}}")]),
])

LEARNING = Dashboard("learning", "RingRift learning", "Ratings, the gate, promotions and "
                     "the speed of self-play and training.", [
    Panel("Rating per config (best model, 95% interval)", "Bradley-Terry Elo of the best "
          "rated model per config (random play = 0) and its 95% interval.",
          [Query("max by (config) (ringrift_evaluator_rating_elo" + C + ")", "{{config}}"),
           *(Query(f"max by (config) ((ringrift_evaluator_rating_elo{C} {sign} 1.96 * "
                   f"ringrift_evaluator_rating_stderr_elo{C}) and on (config, model) "
                   f"(ringrift_evaluator_rating_elo{C} == on (config) group_left "
                   f"max by (config) (ringrift_evaluator_rating_elo{C})))",
                   f"{{{{config}}}} {side}") for sign, side in (("+", "upper"), ("-", "lower")))],
          unit="none"),
    Panel("Rating per model", "Every rated model of the config, from the whole match log.",
          [Query(f"ringrift_evaluator_rating_elo{C}", "{{config}} {{model}}")], unit="none"),
    Panel("Models per state", "The promoter's registry: candidate, evaluating, promoted, "
          "rejected, retired.",
          [Query(f"sum by (config, state) (ringrift_promoter_registered_models{C})",
                 "{{config}} {{state}}")], kind="bargauge"),
    Panel("Gate verdicts", "Evaluations finished since the evaluator started, per verdict.",
          [Query(f"sum by (config, verdict) (ringrift_evaluator_evaluations_total{C})",
                 "{{config}} {{verdict}}")], kind="bargauge"),
    Panel("Gate: log-likelihood ratio and bounds", "The SPRT's LLR at the last decision "
          "and its stopping bounds.",
          [Query(f"ringrift_evaluator_sprt_llr_nats{C}", "LLR {{config}}"),
           Query(f"ringrift_evaluator_sprt_bound_nats{C}", "{{side}} bound {{config}}")],
          unit="none"),
    Panel("Promotions, rollbacks, rejections", "Since the promoter started, per config.",
          [Query(f"sum by (config) (ringrift_promoter_promotions_total{C})",
                 "promotions {{config}}"),
           Query(f"sum by (config) (ringrift_promoter_rollbacks_total{C})",
                 "rollbacks {{config}}"),
           Query(f"sum by (config) (ringrift_promoter_rejections_total{C})",
                 "rejections {{config}}")], kind="bargauge"),
    Panel("Games and positions per second", "Self-play over the last minute.",
          [Query(f"sum by (config) (ringrift_selfplay_games_per_second{C})", "games {{config}}"),
           Query(f"sum by (config) (ringrift_selfplay_positions_per_second{C})",
                 "positions {{config}}")]),
    Panel("Training samples per second", "The trainer's speed in the run in progress (or the "
          "last one) and samples drawn into batches.",
          [Query(f"max by (config) (ringrift_trainer_samples_per_second{C})",
                 "run speed {{config}}"),
           Query(f"sum by (config) (rate(ringrift_trainer_samples_trained_total{C}"
                 "[$__rate_interval]))", "drawn {{config}}")]),
    Panel("Gate and baseline games per minute", "Evaluation games played, per role.",
          [Query(per_minute("ringrift_evaluator_games_played_total", "config, role"),
                 "{{role}} {{config}}")]),
    Panel("Curriculum weights", "Share of self-play per config.",
          [Query(f"ringrift_curriculum_weight_ratio{C}", "{{config}}")], unit="percentunit"),
], variables=[CONFIG], annotations=[
    Annotation("Promotions", f"sum by (config) (increase(ringrift_promoter_promotions_total{C}"
               "[2m])) > 0", "promotion {{config}}", "green"),
    Annotation("Rollbacks", f"sum by (config) (increase(ringrift_promoter_rollbacks_total{C}"
               "[2m])) > 0", "rollback {{config}}", "red"),
])

CLUSTER = Dashboard("cluster", "RingRift cluster", "Pressure per node, its disk, memory, "
                    "CPU and GPUs, and the work the cluster monitor defers.", [
    Panel("Pressure per node", "The cluster monitor's level per node and resource.",
          [Query(f"max by (node, resource) (ringrift_cluster_monitor_node_pressure_level{N})",
                 "{{node}} {{resource}}")], kind="state-timeline", mappings=LEVELS, width=24),
    Panel("Disk used", "The artifact volume of each node.",
          [Query(f"1 - ringrift_cluster_monitor_disk_free_bytes{N} / "
                 f"ringrift_cluster_monitor_disk_size_bytes{N}", "{{node}}")],
          unit="percentunit"),
    Panel("Memory used", "1 - MemAvailable / MemTotal per node.",
          [Query(f"1 - ringrift_cluster_monitor_memory_available_bytes{N} / "
                 f"ringrift_cluster_monitor_memory_size_bytes{N}", "{{node}}")],
          unit="percentunit"),
    Panel("CPU load per core", "1-minute load average per core.",
          [Query(f"ringrift_cluster_monitor_cpu_load_ratio{N}", "{{node}}")], unit="none"),
    Panel("Nodes lost", "1 while the monitor misses a node agent's heartbeats.",
          [Query(f"max by (node) (ringrift_cluster_monitor_node_lost{N})", "{{node}}")]),
    Panel("GPU memory used", "Per node and GPU (NVML).",
          [Query(f"ringrift_cluster_monitor_gpu_memory_used_bytes{N} / "
                 f"ringrift_cluster_monitor_gpu_memory_size_bytes{N}", "{{node}} GPU {{gpu}}")],
          unit="percentunit", needs_gpu=True),
    Panel("GPU utilisation", "Busy fraction per node and GPU (NVML).",
          [Query(f"ringrift_cluster_monitor_gpu_utilization_ratio{N}", "{{node}} GPU {{gpu}}")],
          unit="percentunit", needs_gpu=True),
    Panel("Deferred work", "Work the cluster status defers everywhere (1: selfplay, "
          "training, evaluation), and whether self-play is paused and evaluation waits.",
          [Query("max by (work) (ringrift_cluster_monitor_work_deferred)", "{{work}} deferred"),
           Query("max(ringrift_selfplay_paused_seconds) > bool 0", "self-play paused"),
           Query("max(ringrift_evaluator_deferred_bool)", "evaluation waiting")]),
    Panel("Services ready and taking work", "1 while a service's /readyz passes; taking "
          "work: 0 while its node is critical or lost.",
          [Query("min by (service) (ringrift_service_ready)", "{{service}} ready"),
           Query("min by (service) (ringrift_service_taking_work)", "{{service}} taking work")]),
], variables=[NODE])

DASHBOARDS = (PIPELINE, KAFKA, LEARNING, CLUSTER)
