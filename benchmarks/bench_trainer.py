"""Benchmark of the trainer service's trigger: ``make bench-trainer``.

Prints (targets in brackets; printed, never asserted):

* trigger latency, p50 / p90 / p99 / max [p99 < 1 s]: from the production time of the
  ``ShardWritten`` that reaches the sample threshold to the start of its training run, through
  the real path: broker, the trainer's consumer loop and handler (shard recorded, run and job
  committed), the job claimed and started on a worker thread, its settings saved;
* preparation (mean, and the histogram bucket holding the p99): from the run's start to its
  first step (shards fetched and sha256-checked, converted to row files, network built);
* shard published to candidate (p50, max): the whole run, tiny on purpose (one step).

The trainer runs as users run it (``ringrift service run trainer`` in its own process) against
a real broker (``KAFKA_BOOTSTRAP_SERVERS``, or a local one started for the run). Every shard
reaches the threshold by itself (``--samples-per-candidate`` = the shard's samples) and the
next one is published only once the previous candidate is out, so each latency is measured
with the trainer idle, as the target says ("once the threshold is reached"). The shards hold
real samples of synthetic square8 games (``ringrift.selfplay.synthetic``).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.events import envelope
from ringrift.events.envelope import new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.producer import EventProducer
from ringrift.events.provision import create_topics
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import CANDIDATE_READY, SHARD_WRITTEN, TOPICS
from ringrift.localinfra.kafka import LocalKafka
from ringrift.selfplay.samples import write_games_shard
from ringrift.selfplay.synthetic import synthetic_game
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import as_utc, make_engine, session_scope
from ringrift.storage.migrations import upgrade_to_head
from services.trainer.tables import Run

CONFIG = GameConfig("square8", 2)
_LISTENING = re.compile(r"serving HTTP on http://[^:\s]+:(\d+)")


def make_shards(store: DirectoryArtifactStore, scratch: Path, count: int, games: int
                ) -> list[tuple[str, ArtifactRef, int]]:
    """``count`` shards of ``games`` synthetic games each, in the store: (id, ref, samples)."""
    encoder = Encoder.for_config(CONFIG)
    made = []
    for n in range(count):
        played = [synthetic_game(CONFIG, seed=n * 1000 + g) for g in range(games)]
        path = scratch / f"shard-{n}.npz"
        samples = write_games_shard(path, played, encoder, ["rr-bench"])
        ref = store.put_file(path)
        path.unlink()
        made.append((f"bench-{n:04d}", ArtifactRef(uri=ref.uri, sha256=ref.sha256,
                                                   size_bytes=ref.size), samples))
    return made


def wait_for_port(log: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            raise SystemExit(f"the trainer exited:\n{log.read_text()}")
        time.sleep(0.2)
    raise SystemExit("the trainer did not start serving HTTP")


def wait_ready(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the trainer did not become ready")


def histogram(port: int, name: str) -> tuple[float, float, list[tuple[float, float]]]:
    """(count, sum, [(upper bound, cumulative count)]) of a histogram on /metrics."""
    count = total = 0.0
    buckets = []
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"{name}_count":
                count = sample.value
            elif sample.name == f"{name}_sum":
                total = sample.value
            elif sample.name == f"{name}_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    return count, total, sorted(buckets)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run(args: argparse.Namespace, bootstrap: str, work: Path) -> None:
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    create_topics(kafka, [replace(spec, name=f"{namespace}.{spec.name}") for spec in TOPICS])
    url = f"sqlite:///{work / 'trainer.db'}"
    upgrade_to_head(url, "trainer")
    store = DirectoryArtifactStore(work / "artifacts")
    (work / "scratch").mkdir()
    print(f"making {args.runs} shards of {args.games} synthetic games ...", flush=True)
    shards = make_shards(store, work / "scratch", args.runs, args.games)
    threshold = min(samples for _, _, samples in shards)
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "RINGRIFT_TOPIC_NAMESPACE": namespace,
        "RINGRIFT_ARTIFACT_DIR": str(work / "artifacts"), "RINGRIFT_TRAINER_DATABASE_URL": url,
        "RINGRIFT_TRAINER_HTTP_HOST": "127.0.0.1", "RINGRIFT_TRAINER_HTTP_PORT": "0"}
    log = work / "trainer.log"
    flags = ["--samples-per-candidate", str(threshold), "--window-min-rows", str(threshold),
             "--window-max-rows", str(4 * threshold), "--train-samples", "16",
             "--batch-size", "16", "--preset", "tiny", "--device", "cpu",
             "--torch-threads", "1", "--work-dir", str(work / "trainer")]
    with log.open("wb") as out:
        trainer = subprocess.Popen([sys.executable, "-m", "ringrift.cli.main", "service", "run",
                                    "trainer", *flags], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    consumer = Consumer(kafka.client_config() | {"group.id": f"bench-{uuid.uuid4().hex[:8]}",
                                                 "enable.auto.commit": False})
    candidates = f"{namespace}.{CANDIDATE_READY.name}"
    consumer.assign([TopicPartition(candidates, p, OFFSET_BEGINNING)
                     for p in range(CANDIDATE_READY.partitions)])
    try:
        port = wait_for_port(log, trainer, 300)
        wait_ready(port, 300)
        load_before = os.getloadavg()
        whole: list[float] = []
        topic = replace(SHARD_WRITTEN, name=f"{namespace}.{SHARD_WRITTEN.name}")
        with EventProducer(kafka, client_id="bench-exporter") as producer:
            for n, (shard_id, ref, samples) in enumerate(shards):
                event = new_event(ShardWritten(
                    shard_id=shard_id, config_key=CONFIG.key, shard=ref, num_samples=samples,
                    num_games=args.games, encoder_version=ENCODER_VERSION,
                    source_model_ids=["rr-bench"]), config_key=CONFIG.key, producer="exporter")
                producer.publish(topic, event)
                producer.flush()
                began = time.perf_counter()
                while True:
                    record = consumer.poll(1.0)
                    if record is not None and record.error() is None:
                        envelope.decode(record.value())
                        whole.append(time.perf_counter() - began)
                        break
                    if trainer.poll() is not None or time.perf_counter() - began > 600:
                        raise SystemExit(f"no candidate for shard {n}:\n{log.read_text()}")
        load_after = os.getloadavg()
        prep_count, prep_sum, prep_buckets = histogram(port, "ringrift_trainer_preparation_seconds")
    finally:
        consumer.close()
        trainer.terminate()
        trainer.wait(120)
    engine = make_engine(url)
    with session_scope(engine, read_only=True) as session:
        latencies = [(as_utc(run.started_at) - as_utc(run.trigger_published_at)).total_seconds()
                     for run in session.scalars(select(Run).order_by(Run.number))]
    engine.dispose()
    p99_bucket = next((bound for bound, cumulative in prep_buckets
                       if cumulative >= 0.99 * prep_count), float("inf"))
    print(f"runs: {len(latencies)} (shards of {threshold}+ samples, {args.games} games each); "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, "
          f"{os.cpu_count()} cores")
    print(f"trigger latency (ShardWritten produced -> training start): "
          f"p50 {1000 * statistics.median(latencies):.0f} ms, "
          f"p90 {1000 * percentile(latencies, 0.90):.0f} ms, "
          f"p99 {1000 * percentile(latencies, 0.99):.0f} ms, "
          f"max {1000 * max(latencies):.0f} ms  [target p99 < 1000 ms]")
    print(f"preparation (training start -> first step): mean "
          f"{1000 * prep_sum / max(prep_count, 1):.0f} ms, p99 <= {p99_bucket:g} s")
    print(f"shard published -> candidate received: p50 {statistics.median(whole):.2f} s, "
          f"max {max(whole):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="training runs (default 100)")
    parser.add_argument("--games", type=int, default=4, help="games per shard (default 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-trainer-") as tmp:
        work = Path(tmp)
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if external:
            run(args, external, work)
        else:
            with LocalKafka(work / "kafka") as local:
                run(args, local.bootstrap_servers, work)


if __name__ == "__main__":
    main()
