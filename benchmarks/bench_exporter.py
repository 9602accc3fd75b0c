"""Benchmark of the exporter: ``make bench-exporter`` (BENCH_ARGS=... for the options).

Prints, for synthetic self-play games of square8 2p (``ringrift.selfplay.synthetic``: real,
replayable games with a random policy per decision, encoded with selfplay's record codec):

* **ingest** [target >= 1,000 games/s]: games per second the exporter service (a real
  ``ringrift service run exporter`` process against a real broker and its database) stores
  from a backlog on the games topic, from its first stored game to its last (start-up left
  out); shards are held back (huge --shard-samples and --max-delay-s) so this is ingest alone.
  Beside it, games per CPU-second of the service process over the same span: on a shared,
  loaded machine the wall-clock rate says more about the load than about the exporter;
* where ingest time goes, in process: envelope decode, the ingest checks (fields and the
  record codec's ``check_record``), the database (two statements a game, batches of 500);
* **shard building**: games and samples per second through the shard path on the stored
  games, and its split into decode + replay, encoding (``game_samples``), writing the shard
  (``write_shard`` + the artifact store) and the commit.

Machine load (1-minute average) is printed at the start and the end: the figures are only
comparable at similar load. Uses the broker named by KAFKA_BOOTSTRAP_SERVERS or starts a
local one; the database is SQLite in a scratch directory unless --database-url names an
empty one (e.g. a PostgreSQL database).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import psutil
from sqlalchemy import func, select

from ringrift.configs import GameConfig
from ringrift.encoding import Encoder
from ringrift.events import envelope
from ringrift.events.envelope import new_event
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.producer import EventProducer
from ringrift.events.provision import create_topics
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN
from ringrift.selfplay.play import SelfPlayGame
from ringrift.selfplay.record_codec import encode_game
from ringrift.selfplay.samples import game_samples
from ringrift.selfplay.synthetic import synthetic_game
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import make_engine, session_scope
from ringrift.storage.migrations import upgrade_to_head
from services.exporter import records, shards
from services.exporter.games import store_game
from services.exporter.tables import Origin, StoredGame

sys.path.insert(0, str(Path(__file__).parent))
from bench_events import broker  # noqa: E402  (the same local broker as bench-events)

CONFIG = GameConfig("square8", 2)


def payloads(pool: list[SelfPlayGame], count: int) -> list[GameCompleted]:
    """``count`` distinct games: the pool's games under new ids, each encoded afresh."""
    out = []
    for index in range(count):
        game = replace(pool[index % len(pool)], game_id=f"bench-{index:07d}")
        record = encode_game(game, ["uniform", "uniform"])
        out.append(GameCompleted(
            game_id=game.game_id, config_key=CONFIG.key, seat_model_ids=["uniform"] * 2,
            record=record.data, record_encoding=record.encoding, num_moves=len(game.moves),
            ranking=list(game.ranking), simulations_per_move=0, terminal=True))
    return out


def ingest_service(bootstrap: str, url: str, work: Path, games: list[GameCompleted]
                   ) -> tuple[float, float]:
    """Games/s the service stores from a backlog of ``games`` (first to last stored), and
    games per CPU-second of the service process over the same span (less load-dependent)."""
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    topic = replace(GAME_COMPLETED, name=f"{namespace}.{GAME_COMPLETED.name}")
    create_topics(kafka, [topic, replace(SHARD_WRITTEN, name=f"{namespace}."
                                         f"{SHARD_WRITTEN.name}")])
    with EventProducer(kafka, client_id="bench-exporter") as producer:
        for payload in games:
            producer.publish(topic, new_event(payload, config_key=CONFIG.key,
                                              producer="selfplay"))
    env = os.environ | {"KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                        "RINGRIFT_TOPIC_NAMESPACE": namespace,
                        "RINGRIFT_ARTIFACT_DIR": str(work / "artifacts"),
                        "RINGRIFT_EXPORTER_DATABASE_URL": url,
                        "RINGRIFT_EXPORTER_HTTP_PORT": "0", "RINGRIFT_LOG_LEVEL": "WARNING"}
    service = subprocess.Popen(
        [sys.executable, "-m", "ringrift.cli.main", "service", "run", "exporter",
         "--shard-samples", "1000000000", "--max-delay-s", "1000000"], env=env,
        stdout=(work / "exporter.log").open("wb"), stderr=subprocess.STDOUT)
    engine = make_engine(url)
    process = psutil.Process(service.pid)
    cpu: list[tuple[int, float]] = []  # (games stored, CPU seconds of the service) samples
    try:
        while not cpu or cpu[-1][0] < len(games):
            if service.poll() is not None:
                raise SystemExit(f"the exporter exited: see {work / 'exporter.log'}")
            times = process.cpu_times()
            cpu.append((_stored(engine), times.user + times.system))
            time.sleep(0.2)
        with session_scope(engine, read_only=True) as session:
            first, last = session.execute(select(func.min(StoredGame.stored_at),
                                                 func.max(StoredGame.stored_at))).one()
    finally:
        service.terminate()
        service.wait(60)
        engine.dispose()
    start = next(i for i, (stored, _) in enumerate(cpu) if stored > 0)
    games_done = cpu[-1][0] - cpu[start][0]
    per_cpu = games_done / max(1e-9, cpu[-1][1] - cpu[start][1])
    return len(games) / max(1e-9, (last - first).total_seconds()), per_cpu


def _stored(engine) -> int:
    with session_scope(engine, read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(StoredGame)) or 0)


def ingest_split(url: str, games: list[GameCompleted]) -> dict[str, float]:
    """Microseconds a game per ingest stage, in process (batches of 500 per transaction)."""
    events = [envelope.encode(new_event(p, config_key=CONFIG.key, producer="selfplay",
                                        event_id=str(uuid.uuid4()))) for p in games]
    spent = {"decode envelope": 0.0, "ingest checks": 0.0, "database": 0.0}
    engine = make_engine(url)
    try:
        for start in range(0, len(events), 500):
            with session_scope(engine) as session:
                for value in events[start:start + 500]:
                    t0 = time.perf_counter()
                    event = envelope.decode(value, GAME_COMPLETED)
                    t1 = time.perf_counter()
                    new = records.from_event(event)
                    new = replace(new, game_id=new.game_id + "-split")
                    t2 = time.perf_counter()
                    store_game(session, new)
                    t3 = time.perf_counter()
                    spent["decode envelope"] += t1 - t0
                    spent["ingest checks"] += t2 - t1
                    spent["database"] += t3 - t2
    finally:
        engine.dispose()
    return {name: 1e6 * seconds / len(events) for name, seconds in spent.items()}


def shard_building(url: str, work: Path, count: int) -> dict[str, float]:
    """Throughput of the shard path over ``count`` stored games, and its split (seconds)."""
    engine = make_engine(url)
    store = DirectoryArtifactStore(work / "artifacts")
    encoder = Encoder.for_config(CONFIG)
    key = shards.QueueKey(CONFIG.key, Origin.SELFPLAY)
    try:
        with session_scope(engine, read_only=True) as session:
            window = shards.take_window(session, key, 10 ** 12)[:count]
        build = shards.Build(key, "samples", window)
        split = {"decode + replay": 0.0, "encode": 0.0}
        for game in window:  # the same steps as Build.advance, timed apart
            t0 = time.perf_counter()
            played = records.training_game(game.game_id, game.content_encoding, game.content)
            t1 = time.perf_counter()
            build.samples.extend(game_samples(played, encoder))
            build.sample_game_ids.append(game.game_id)
            split["decode + replay"] += t1 - t0
            split["encode"] += time.perf_counter() - t1
        build.position = len(window)
        t0 = time.perf_counter()
        ref = shards.write_artifact(build, store)
        t1 = time.perf_counter()
        with session_scope(engine) as session:
            shards.commit(session, build, ref)
        split["write shard"] = t1 - t0
        split["commit"] = time.perf_counter() - t1
    finally:
        engine.dispose()
    total = sum(split.values())
    return {"games": len(window), "samples": len(build.samples), "seconds": total, **split}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=10_000, help="games in the backlog")
    parser.add_argument("--pool", type=int, default=40, help="distinct synthetic games")
    parser.add_argument("--shard-games", type=int, default=200,
                        help="games through the shard path")
    parser.add_argument("--database-url", help="an EMPTY database (default: SQLite scratch)")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    pool = [synthetic_game(CONFIG, seed) for seed in range(args.pool)]
    moves = sum(len(g.moves) for g in pool) / len(pool)
    decisions = sum(len(g.decisions) for g in pool) / len(pool)
    print(f"synthetic {CONFIG.key} games: {moves:.0f} moves, {decisions:.0f} searched "
          f"positions a game on average")
    games = payloads(pool, args.games)
    print(f"GameCompleted payload: {sum(g.ByteSize() for g in games) / len(games):.0f} bytes "
          "a game on average")
    with tempfile.TemporaryDirectory(prefix="bench-exporter-") as scratch:
        work = Path(scratch)
        url = args.database_url or f"sqlite:///{work / 'exporter.db'}"
        upgrade_to_head(url, "exporter")
        with broker(work) as bootstrap:
            rate, per_cpu = ingest_service(bootstrap, url, work, games)
        print(f"ingest (service, {args.games} games, {url.split(':')[0]}): {rate:,.0f} games/s "
              f"[target >= 1,000]; {per_cpu:,.0f} games per CPU-second of the service")
        split = ingest_split(url, games[:2000])
        print("ingest split (in process, us a game): " + ", ".join(
            f"{name} {value:.0f}" for name, value in split.items()))
        built = shard_building(url, work, args.shard_games)
        print(f"shard building ({built['games']} games, {built['samples']} samples): "
              f"{built['games'] / built['seconds']:.1f} games/s, "
              f"{built['samples'] / built['seconds']:,.0f} samples/s; split (s): " + ", ".join(
                  f"{name} {built[name]:.2f}" for name in
                  ("decode + replay", "encode", "write shard", "commit")))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
