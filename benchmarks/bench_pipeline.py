"""Benchmark of the whole pipeline's latencies: ``make bench-pipeline``.

Runs every service as ``ringrift up`` does (the same supervisor, the ``tiny`` budgets by
default, so many stage transitions happen in minutes) on a private broker, until at least
``--transitions`` stage transitions (shards, candidates, evaluations, decisions, first games
with a new model) and ``--promotions`` promotions happened, then stops it and prints, per
stage, the trigger latency (input produced -> the stage starts work on it) and the stage
latency (input produced -> output produced), p50 and p99 with the number of observations,
and the time from a game's end to the first candidate trained on it. Target (printed,
never asserted): trigger latency p99 under 1 s for every stage. How each figure is
measured: :mod:`ringrift.pipeline.latency`. The machine's load average is printed with the
figures: on a shared machine it says more about them than the code does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ringrift.events.topics import (
    CANDIDATE_READY,
    EVALUATION_COMPLETED,
    EVALUATION_STARTED,
    GAME_COMPLETED,
    MODEL_CURRENT,
    MODEL_LIFECYCLE,
    SHARD_WRITTEN,
)
from ringrift.localinfra.kafka import LocalKafka
from ringrift.pipeline.bootstrap import namespaced
from ringrift.pipeline.history import read_history
from ringrift.pipeline.latency import Latency, from_histogram, topic_latencies
from ringrift.pipeline.report import time_report
from ringrift.pipeline.run import Pipeline
from ringrift.pipeline.settings import UpSettings
from ringrift.pipeline.trace import Topics
from ringrift.telemetry.logging import configure_logging

STAGES = {"games": GAME_COMPLETED, "shards": SHARD_WRITTEN, "candidates": CANDIDATE_READY,
          "started": EVALUATION_STARTED, "completed": EVALUATION_COMPLETED,
          "lifecycle": MODEL_LIFECYCLE, "current": MODEL_CURRENT}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny", help="budgets (default: tiny)")
    parser.add_argument("--transitions", type=int, default=20,
                        help="stage transitions to wait for (default: 20)")
    parser.add_argument("--promotions", type=int, default=2,
                        help="promotions to wait for (default: 2)")
    parser.add_argument("--max-minutes", type=float, default=60,
                        help="stop after this long whatever happened (default: 60)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SERVICE.FIELD=VALUE", help="as `ringrift up --set`")
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as scratch:
        workdir = Path(scratch)
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        broker = None if external else LocalKafka(workdir / "kafka").__enter__()
        try:
            settings = UpSettings(
                var_dir=workdir / "var", profile=args.profile, overrides=tuple(args.overrides),
                bootstrap_servers=external or (broker.bootstrap_servers if broker else None),
                namespace=f"bench{uuid.uuid4().hex[:8]}", fixed_ports=False)
            return run(settings, args)
        finally:
            if broker is not None:
                broker.stop()


def run(settings: UpSettings, args: argparse.Namespace) -> int:
    started = time.monotonic()
    pipeline = Pipeline(settings, echo=lambda line: print(line, file=sys.stderr)).start()
    assert pipeline.monitor is not None
    try:
        while time.monotonic() - started < args.max_minutes * 60:
            config = pipeline.monitor.state.config(settings.configs[0])
            transitions = (config.shards + config.candidates + 2 * (
                config.promotions + config.rejections) + config.promotions)
            if transitions >= args.transitions and config.promotions >= args.promotions:
                break
            time.sleep(2)
        probes = pipeline.monitor.prober.probe_now()
        seconds = pipeline.monitor.uptime_s()
    finally:
        pipeline.stop()
    history = read_history(pipeline.monitor.kafka,
                           [namespaced(settings, spec) for spec in STAGES.values()])
    topics = Topics(**{stage: history.of(namespaced(settings, spec))
                       for stage, spec in STAGES.items()})
    metrics = {name: probe.metrics for name, probe in probes.processes.items()}
    figures = topic_latencies(topics)
    if "exporter" in metrics:
        figures.insert(0, from_histogram("exporter", "trigger: game -> stored", metrics["exporter"],
                                         "ringrift_events_handling_lag_seconds", group="exporter"))
    if "trainer" in metrics:
        figures.insert(2, from_histogram("trainer", "trigger: shard -> run starts",
                                         metrics["trainer"], "ringrift_trainer_trigger_latency_seconds"))
    if "promoter" in metrics:
        figures.insert(6, from_histogram("promoter", "trigger: event -> handled (its group)",
                                         metrics["promoter"], "ringrift_events_handling_lag_seconds",
                                         group="promoter"))
    print_figures(figures, topics, seconds)
    for line in time_report(probes, seconds):
        print(line)
    return 0


def print_figures(figures: list[Latency], topics: Topics, seconds: float) -> None:
    load = os.getloadavg()
    print(f"pipeline latencies over {seconds / 60:.1f} min: {len(topics.games)} games, "
          f"{len(topics.shards)} shards, {len(topics.candidates)} candidates, "
          f"{len(topics.completed)} evaluations, {len(topics.current)} promotions; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"  {'stage':10} {'figure':44} {'n':>5} {'p50 s':>9} {'p99 s':>9}  source")
    for figure in figures:
        p50, p99 = figure.quantile(0.5), figure.quantile(0.99)
        print(f"  {figure.stage:10} {figure.figure:44} {figure.count:5d} {_s(p50):>9} "
              f"{_s(p99):>9}  {figure.source}")
    print("  (trigger target: p99 < 1 s; histogram figures are interpolated in their buckets)")


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
