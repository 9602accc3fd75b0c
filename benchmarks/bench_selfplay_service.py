"""Selfplay as a service vs the library's self-play at the same budget: ``make bench-selfplay-service``.

Both sides play the same ``--games`` games: one untrained ``--preset`` checkpoint, Gumbel search
at ``--simulations``, ``--concurrency`` games in lockstep, one torch thread, the same seed (the
service's game ``g`` draws from ``default_rng([seed, g])`` like ``play_games``, and a bounded
pool refills exactly like ``run_lockstep``), so the positions played must agree and the
difference in positions/s is what the service adds:

- **library**: ``play_games`` in this process (what ``make bench-learn`` measures);
- **service**: ``ringrift service run selfplay --max-games N`` in a child process, the
  checkpoint promoted as the config's current model (so it plays the network), its own
  SQLite database, a real broker (``KAFKA_BOOTSTRAP_SERVERS``, else a local one for the run).
  Its figure is from its stop line: the first tick to the last game published, so start-up and
  model loading are left out, while encoding records, the outbox commits and the relay
  publishing (another thread of the same process) are in.

Rounds alternate library and service; the medians and the service's cost are printed. Run it
on a quiet machine (``uptime``); the load is printed with the figures.

``--batches K`` also compares, in the library alone, the service's rolling pool with whole
batches (what the retired single-process loop did): ``K * games`` games as one pool of
``--concurrency`` that refills as games end, against ``K`` batches that each wait for their
last game. Besides positions/s it prints how long a model promoted at a random moment waits
for the first game that starts with it (the next game end, against the end of the batch).
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.evaluation import load_for_play
from ringrift.events.envelope import new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.producer import EventProducer
from ringrift.events.provision import create_topics
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import MODEL_CURRENT, TOPICS
from ringrift.game import initial_state
from ringrift.localinfra.kafka import LocalKafka
from ringrift.models import build_model, save_checkpoint
from ringrift.search import GumbelConfig, engine_rules
from ringrift.selfplay import SelfPlaySettings, play_games
from ringrift.storage import migrations
from ringrift.storage.artifacts import DirectoryArtifactStore

_STOP_LINE = re.compile(r"(\d+) positions in ([\d.]+) s of play = ([\d.]+) positions/s "
                        r"\(([\d.]+) CPU s")


@contextmanager
def broker(workdir: Path) -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    with LocalKafka(workdir / "kafka") as local:
        yield local.bootstrap_servers


def library_round(args: argparse.Namespace, checkpoint: Path, config: GameConfig
                  ) -> tuple[int, float, float]:
    import torch

    torch.set_num_threads(1)
    model = load_for_play(checkpoint, config=config, device=args.device)
    settings = SelfPlaySettings(GumbelConfig(simulations=args.simulations),
                                concurrency=args.concurrency, max_moves=args.max_moves)
    cpu = time.process_time()
    batch = play_games(lambda: initial_state(config, pie_rule=False), engine_rules(),
                       model.evaluator, args.games, settings, seed=args.seed)
    cpu = time.process_time() - cpu
    return batch.positions, batch.positions / batch.seconds, batch.positions / cpu


def service_round(args: argparse.Namespace, workdir: Path, kafka: KafkaSettings,
                  namespace: str, index: int) -> tuple[int, float, float]:
    url = f"sqlite:///{workdir / f'selfplay-{index}.db'}"
    migrations.upgrade_to_head(url, "selfplay")
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "RINGRIFT_TOPIC_NAMESPACE": namespace,
        "RINGRIFT_ARTIFACT_DIR": str(workdir / "artifacts"),
        "RINGRIFT_SELFPLAY_DATABASE_URL": url, "RINGRIFT_SELFPLAY_HTTP_PORT": "0"}
    flags = ["--configs", args.config, "--max-games", str(args.games), "--concurrency",
             str(args.concurrency), "--simulations", str(args.simulations), "--max-moves",
             str(args.max_moves), "--seed", str(args.seed), "--torch-threads", "1",
             "--instance-id", f"bench-{index}"] + (["--device", args.device] if args.device
                                                   else [])
    done = subprocess.run([sys.executable, "-m", "ringrift.cli.main", "service", "run",
                           "selfplay", *flags], env=env, capture_output=True, text=True,
                          timeout=3600, check=False)
    found = _STOP_LINE.search(done.stdout + done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"the service failed (exit {done.returncode}):\n"
                         f"{(done.stdout + done.stderr)[-3000:]}")
    positions = int(found.group(1))
    return positions, float(found.group(3)), positions / float(found.group(4))


def promote(kafka: KafkaSettings, namespace: str, checkpoint: Path, store: Path,
            config: GameConfig, model_id: str) -> None:
    ref = DirectoryArtifactStore(store).put_bytes(checkpoint.read_bytes())
    payload = CurrentModel(config_key=config.key, model_id=model_id, revision=1,
                           encoder_version=ENCODER_VERSION,
                           weights=ArtifactRef(uri=ref.uri, sha256=ref.sha256,
                                               size_bytes=ref.size))
    with EventProducer(kafka, client_id="bench") as producer:
        producer.publish(replace(MODEL_CURRENT, name=f"{namespace}.{MODEL_CURRENT.name}"),
                         new_event(payload, config_key=config.key, producer="promoter"))


def promotion_wait(ends: list[float], total: float) -> float:
    """Mean wait from a uniformly random moment in ``[0, total]`` to the next moment in
    ``ends`` (a game starts with the new model there)."""
    points = sorted({0.0, *ends, total})
    return sum((b - a) ** 2 / 2 for a, b in zip(points, points[1:], strict=False)) / total


def rolling_vs_batches(args: argparse.Namespace, checkpoint: Path, config: GameConfig) -> None:
    import numpy as np
    import torch

    from ringrift.search import run_lockstep
    from ringrift.selfplay import game_task

    torch.set_num_threads(1)
    model = load_for_play(checkpoint, config=config, device=args.device)
    settings = SelfPlaySettings(GumbelConfig(simulations=args.simulations),
                                max_moves=args.max_moves)
    rules = engine_rules()
    total = args.batches * args.games

    def tasks(first: int, count: int) -> list:
        return [game_task(lambda: initial_state(config, pie_rule=False), rules,
                          model.evaluator, settings, np.random.default_rng([args.seed, g]),
                          f"g{g}") for g in range(first, first + count)]

    results = {}
    for mode in ("rolling", "batches"):
        ends: list[float] = []
        started, cpu = time.perf_counter(), time.process_time()

        def done(_index: int, _game: object, ends: list[float] = ends,
                 started: float = started) -> None:
            ends.append(time.perf_counter() - started)

        positions = 0
        if mode == "rolling":
            games = run_lockstep(tasks(0, total), on_done=done, concurrency=args.concurrency)
            positions = sum(len(g.moves) for g in games)
        else:
            for batch in range(args.batches):
                games = run_lockstep(tasks(batch * args.games, args.games),
                                     concurrency=args.concurrency)
                positions += sum(len(g.moves) for g in games)
                ends.append(time.perf_counter() - started)  # new games start only here
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        results[mode] = (positions, positions / seconds, positions / cpu,
                         promotion_wait(ends, seconds))
    print(f"rolling pool vs whole batches ({total} games, {args.concurrency} in flight, "
          f"{args.batches} batches of {args.games}):")
    for mode, (positions, rate, per_cpu, wait) in results.items():
        print(f"  {mode:8s} {positions} positions, {rate:6.1f} positions/s, {per_cpu:6.1f} per "
              f"CPU s; a promotion waits {wait:6.1f} s on average for its first game")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="square8_2p")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--simulations", type=int, default=16)
    parser.add_argument("--games", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-moves", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batches", type=int, default=0,
                        help="also compare a rolling pool with this many whole batches")
    args = parser.parse_args()
    config = GameConfig.parse(args.config)
    with tempfile.TemporaryDirectory(prefix="bench-selfplay-") as tmp, broker(Path(tmp)) as servers:
        workdir = Path(tmp)
        kafka = KafkaSettings(bootstrap_servers=servers)
        namespace = f"bench{os.getpid()}"
        create_topics(kafka, [replace(t, name=f"{namespace}.{t.name}") for t in TOPICS])
        checkpoint = workdir / "model.pt"
        metadata = save_checkpoint(checkpoint, build_model(config, args.preset),
                                   encoder_version=ENCODER_VERSION)
        promote(kafka, namespace, checkpoint, workdir / "artifacts", config, metadata.model_id)
        library_round(replace_games(args, 1), checkpoint, config)  # warm-up: kernels compiled
        library, service = [], []
        for index in range(args.rounds):
            library.append(library_round(args, checkpoint, config))
            service.append(service_round(args, workdir, kafka, namespace, index))
            print(f"round {index + 1}: library {library[-1][1]:.1f} positions/s "
                  f"({library[-1][2]:.1f} per CPU s), service {service[-1][1]:.1f} positions/s "
                  f"({service[-1][2]:.1f} per CPU s); {library[-1][0]} / {service[-1][0]} "
                  "positions", flush=True)
    lib = statistics.median(rate for _, rate, _ in library)
    svc = statistics.median(rate for _, rate, _ in service)
    lib_cpu = statistics.median(rate for _, _, rate in library)
    svc_cpu = statistics.median(rate for _, _, rate in service)
    same = {p for p, _, _ in library} == {p for p, _, _ in service}
    print(f"selfplay {config.key}: preset {args.preset}, {args.simulations} simulations, "
          f"{args.games} games, {args.concurrency} in lockstep, 1 torch thread")
    print(f"  library (play_games)   {lib:.1f} positions/s, {lib_cpu:.1f} per CPU s "
          f"(medians of {args.rounds})")
    print(f"  service (bounded run)  {svc:.1f} positions/s, {svc_cpu:.1f} per CPU s "
          f"(the whole process: relay, table readers, HTTP included)")
    print(f"  service cost           {100 * (1 - svc / lib):+.1f}% wall, "
          f"{100 * (1 - svc_cpu / lib_cpu):+.1f}% CPU   same games played: "
          f"{'yes' if same else 'NO'}")
    print(f"  load average           {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.batches:
        with tempfile.TemporaryDirectory(prefix="bench-selfplay-") as tmp:
            checkpoint = Path(tmp) / "model.pt"
            save_checkpoint(checkpoint, build_model(config, args.preset),
                            encoder_version=ENCODER_VERSION)
            rolling_vs_batches(args, checkpoint, config)
        print(f"  load average           {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def replace_games(args: argparse.Namespace, games: int) -> argparse.Namespace:
    return argparse.Namespace(**(vars(args) | {"games": games, "max_moves": 40}))


if __name__ == "__main__":
    main()
