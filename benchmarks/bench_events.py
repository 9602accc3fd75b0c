"""Benchmark of the event backbone on a real broker: ``make bench-events``.

Prints four figures (targets in brackets; printed, never asserted):

* publish-to-handle latency of single events at light load, p50 and p99 [p99 < 50 ms]:
  one event at a time, every 20 ms, from ``publish`` to the handler's call, through the
  full consumer loop (decode, idempotency check, SQLite transaction, offset store);
* the same through the outbox, two hops: the first stage's handler writes an output to
  its outbox in its transaction, the relay publishes it after the commit, and the latency
  runs to the second stage's handler [p99 < 50 ms];
* sustained throughput of 1 KB events through one consumer group [>= 5,000 events/s]:
  a producer publishes as fast as it can while one consumer loop handles them;
* the same with the outbox in the path: each event's handler writes a 1 KB output to the
  outbox and the figure counts until the relay has every output acknowledged.

Beside each throughput, the CPU seconds of the consumer loop's own thread per event (its
``time.thread_time``): on a busy machine the wall-clock rate says more about the other
processes than about the loop, while its CPU per event says what one core could carry.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringrift.events import envelope
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.outbox import OutboxRow
from ringrift.events.producer import EventProducer
from ringrift.events.provision import create_topics
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import GAME_COMPLETED, TopicSpec
from ringrift.localinfra.kafka import LocalKafka
from ringrift.storage.database import make_engine, session_scope
from ringrift.storage.migrations import upgrade_to_head
from ringrift.telemetry.logging import configure_logging

KEYS = [f"square8_{n}p" for n in (2, 3, 4)] + [f"hex8_{n}p" for n in (2, 3, 4)]


@contextmanager
def broker(workdir: Path) -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    with LocalKafka(workdir / "kafka") as local:
        yield local.bootstrap_servers


class Recorder:
    """A handler that notes when each event arrived (by its id, or its cause's id), and
    optionally returns an output for the outbox."""

    def __init__(self, output: Callable[[Event[GameCompleted]], object] | None = None) -> None:
        self.handled: dict[str, float] = {}
        self.lock = threading.Lock()
        self._output = output

    def __call__(self, event: Event[GameCompleted], _session: Session) -> list:
        now = time.perf_counter()
        with self.lock:
            self.handled[event.causation_id or event.event_id] = now
        return [self._output(event)] if self._output else []

    def count(self) -> int:
        with self.lock:
            return len(self.handled)


class Stage:
    """A consumer loop (its own SQLite store, outbox and relay) running in a thread."""

    def __init__(self, settings: KafkaSettings, topic: TopicSpec, recorder: Recorder,
                 db: Path) -> None:
        upgrade_to_head(f"sqlite:///{db}")
        self.engine = make_engine(f"sqlite:///{db}")
        self.loop = ConsumerLoop(settings, service="bench",
                                 group=f"bench-{uuid.uuid4().hex[:8]}", topics=[topic],
                                 handler=recorder, engine=self.engine)
        self.cpu_s: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.loop.run()
        self.cpu_s = time.thread_time()  # this thread's CPU: the loop's, start-up included

    def stop(self) -> None:
        self.loop.stop()
        self.thread.join(60)


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


def forward(topic: TopicSpec) -> Callable[[Event[GameCompleted]], object]:
    """An output per event: a copy of it (same size) for ``topic``, through the outbox."""
    return lambda event: (topic, envelope.follow_up(event, event.payload, producer="bench"))


def bench_latency(settings: KafkaSettings, topics: list[TopicSpec], workdir: Path,
                  count: int) -> list[float]:
    """Publish-to-handle seconds through ``len(topics)`` stages (outbox between them)."""
    stages, recorder = [], Recorder()
    for n, topic in enumerate(topics):
        last = n == len(topics) - 1
        recorder = Recorder(None if last else forward(topics[n + 1]))
        stages.append(Stage(settings, topic, recorder, workdir / f"latency-{topic.name}.db"))
    latencies: list[float] = []
    with EventProducer(settings) as producer:
        # Warm up: the first events pay for the group join and connection set-up.
        for i in range(count + 20):
            event = new_event(game(200), config_key="square8_2p", producer="bench")
            sent = time.perf_counter()
            producer.publish(topics[0], event)
            if not wait_for(lambda e=event: e.event_id in recorder.handled, 60):
                raise SystemExit("an event was not handled within 60 s")
            if i >= 20:
                latencies.append(recorder.handled[event.event_id] - sent)
            time.sleep(0.02)
    for stage in stages:
        stage.stop()
    return latencies


def bench_throughput(settings: KafkaSettings, topic: TopicSpec, workdir: Path, count: int,
                     size: int, output: TopicSpec | None) -> tuple[float, float, float]:
    """(published/s, finished/s, the loop thread's CPU seconds per event): finished =
    handled, and with ``output`` also relayed."""
    recorder = Recorder(forward(output) if output else None)
    payloads = [game(size) for _ in range(min(count, 1000))]
    stage = Stage(settings, topic, recorder, workdir / f"throughput-{topic.name}.db")
    produced_at: list[float] = []

    def produce() -> None:
        with EventProducer(settings) as producer:
            for i in range(count):
                producer.publish(topic, new_event(payloads[i % len(payloads)],
                                                  config_key=KEYS[i % len(KEYS)],
                                                  producer="bench"))
        produced_at.append(time.perf_counter())

    start = time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()
    if not wait_for(lambda: recorder.count() >= count, 600):
        raise SystemExit(f"only {recorder.count()} of {count} events handled in 600 s")
    if output is not None:  # the outputs must be out too: rows the relay had acknowledged
        if not wait_for(lambda: published(stage) >= count, 600):
            raise SystemExit(f"only {published(stage)} of {count} outputs relayed in 600 s")
    end = time.perf_counter()
    producer.join()
    stage.stop()
    assert stage.cpu_s is not None, "the consumer loop did not stop"
    return count / (produced_at[0] - start), count / (end - start), stage.cpu_s / count


def published(stage: Stage) -> int:
    """Outbox rows the relay has marked sent."""
    with session_scope(stage.engine, read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(OutboxRow)
                                  .where(OutboxRow.sent_at.is_not(None))) or 0)


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

            def topic(name: str) -> TopicSpec:
                spec = replace(GAME_COMPLETED, name=f"bench.{name}.{suffix}")
                create_topics(settings, [spec])
                return spec

            print(f"broker {bootstrap}; consumer loops with SQLite stores (idempotency, outbox)")
            runs = [(f"single events (linger.ms={linger})",
                     settings.model_copy(update={"linger_ms": linger}),
                     [topic(f"latency-l{linger}")]) for linger in (settings.linger_ms, 0)]
            runs.append(("two hops through the outbox (linger.ms=0)",
                         settings.model_copy(update={"linger_ms": 0}),
                         [topic("hop1"), topic("hop2")]))
            for what, tuned, chain in runs:
                ms = sorted(x * 1000 for x in bench_latency(tuned, chain, workdir,
                                                            args.latency_events))
                p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
                print(f"latency, {what}: p50 {statistics.median(ms):.1f} ms  p99 {p99:.1f} ms"
                      f"  max {ms[-1]:.1f} ms  (n={len(ms)}; target p99 < 50 ms)")
            for what, output in (("", None), (", each with a 1 KB output through the outbox",
                                              topic("throughput-out"))):
                published_rate, finished, cpu = bench_throughput(
                    settings, topic(f"throughput{'-outbox' if output else ''}"), workdir,
                    args.throughput_events, args.size, output)
                print(f"throughput, {args.size} B events{what}, one consumer group: "
                      f"{finished:,.0f} events/s end to end ({published_rate:,.0f} events/s "
                      f"published; n={args.throughput_events}; target >= 5,000 events/s); "
                      f"consumer loop thread {cpu * 1e6:.0f} us CPU per event "
                      f"({1 / cpu:,.0f} events per CPU-second)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
