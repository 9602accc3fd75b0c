"""Benchmark of the event backbone on a real broker: ``make bench-events``.

Prints two figures (targets in brackets; printed, never asserted):

* publish-to-handle latency of single events at light load, p50 and p99 [p99 < 50 ms]:
  one event at a time, every 20 ms, from ``publish`` to the handler's call, through the
  full consumer loop (decode, idempotency check, SQLite transaction, offset store);
* sustained throughput of 1 KB events through one consumer group [>= 5,000 events/s]:
  a producer publishes as fast as it can while one consumer loop handles them.

Uses the broker named by ``KAFKA_BOOTSTRAP_SERVERS``, or starts a local one for the run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from ringrift.events.consumer import ConsumerLoop
from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.producer import EventProducer
from ringrift.events.provision import create_topics
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import GAME_COMPLETED, TopicSpec
from ringrift.localinfra.kafka import LocalKafka
from ringrift.storage.database import make_engine
from ringrift.storage.migrations import upgrade_to_head
from ringrift.telemetry.logging import configure_logging


@contextmanager
def broker(workdir: Path) -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    with LocalKafka(workdir / "kafka") as local:
        yield local.bootstrap_servers


class Recorder:
    """A handler that notes when each event arrived, by event id."""

    def __init__(self) -> None:
        self.handled: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, event: Event[GameCompleted], _session: Session) -> None:
        now = time.perf_counter()
        with self.lock:
            self.handled[event.event_id] = now

    def count(self) -> int:
        with self.lock:
            return len(self.handled)


def start_loop(settings: KafkaSettings, topic: TopicSpec, recorder: Recorder, db: Path
               ) -> tuple[ConsumerLoop, threading.Thread]:
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(f"sqlite:///{db}")
    loop = ConsumerLoop(settings, service="bench", group=f"bench-{uuid.uuid4().hex[:8]}",
                        topics=[topic], handler=recorder, engine=engine)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    return loop, thread


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def game(size: int) -> GameCompleted:
    return GameCompleted(game_id=str(uuid.uuid4()), config_key="square8_2p", num_moves=60,
                         record=os.urandom(size), record_encoding="bench")


def bench_latency(settings: KafkaSettings, topic: TopicSpec, workdir: Path, count: int
                  ) -> list[float]:
    recorder = Recorder()
    loop, thread = start_loop(settings, topic, recorder, workdir / "latency.db")
    latencies: list[float] = []
    with EventProducer(settings) as producer:
        # Warm up: the first events pay for the group join and connection set-up.
        for i in range(count + 20):
            event = new_event(game(200), config_key="square8_2p", producer="bench")
            sent = time.perf_counter()
            producer.publish(topic, event)
            if not wait_for(lambda e=event: e.event_id in recorder.handled, 60):
                raise SystemExit("an event was not handled within 60 s")
            if i >= 20:
                latencies.append(recorder.handled[event.event_id] - sent)
            time.sleep(0.02)
    loop.stop()
    thread.join(30)
    return latencies


def bench_throughput(settings: KafkaSettings, topic: TopicSpec, workdir: Path, count: int,
                     size: int) -> tuple[float, float]:
    recorder = Recorder()
    payloads = [game(size) for _ in range(min(count, 1000))]
    loop, thread = start_loop(settings, topic, recorder, workdir / "throughput.db")
    produced_at: list[float] = []

    def produce() -> None:
        keys = [f"square8_{n}p" for n in (2, 3, 4)] + [f"hex8_{n}p" for n in (2, 3, 4)]
        with EventProducer(settings) as producer:
            for i in range(count):
                producer.publish(topic, new_event(payloads[i % len(payloads)],
                                                  config_key=keys[i % len(keys)],
                                                  producer="bench"))
        produced_at.append(time.perf_counter())

    start = time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()
    if not wait_for(lambda: recorder.count() >= count, 600):
        raise SystemExit(f"only {recorder.count()} of {count} events handled in 600 s")
    end = time.perf_counter()
    producer.join()
    loop.stop()
    thread.join(30)
    return count / (produced_at[0] - start), count / (end - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-events", type=int, default=300)
    parser.add_argument("--throughput-events", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=1024, help="payload bytes (default 1 KB)")
    args = parser.parse_args()
    # The client's start-up chatter (coordinator loading, retrying) is not a result.
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        workdir = Path(tmp)
        with broker(workdir) as bootstrap:
            settings = KafkaSettings(bootstrap_servers=bootstrap)
            suffix = uuid.uuid4().hex[:8]
            latency_topic = replace(GAME_COMPLETED, name=f"bench.latency.{suffix}")
            throughput_topic = replace(GAME_COMPLETED, name=f"bench.throughput.{suffix}")
            create_topics(settings, [latency_topic, throughput_topic])

            print(f"broker {bootstrap}; consumer loop with a SQLite idempotency store")
            for linger in (settings.linger_ms, 0):
                tuned = settings.model_copy(update={"linger_ms": linger})
                topic = replace(latency_topic, name=f"{latency_topic.name}.l{linger}")
                create_topics(settings, [topic])
                ms = sorted(x * 1000 for x in bench_latency(tuned, topic, workdir,
                                                            args.latency_events))
                p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
                print(f"latency, single events (linger.ms={linger}): "
                      f"p50 {statistics.median(ms):.1f} ms  p99 {p99:.1f} ms  "
                      f"max {ms[-1]:.1f} ms  (n={len(ms)}; target p99 < 50 ms)")
            published, handled = bench_throughput(settings, throughput_topic, workdir,
                                                   args.throughput_events, args.size)
            print(f"throughput, {args.size} B events, one consumer group: "
                  f"{handled:,.0f} events/s handled end to end ({published:,.0f} events/s "
                  f"published; n={args.throughput_events}; target >= 5,000 events/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
