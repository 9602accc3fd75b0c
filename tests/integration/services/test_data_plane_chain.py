"""The data plane end to end: selfplay -> exporter -> trainer, each a process, on one config.

Checks: a bounded self-play run (uniform evaluator, a tiny search budget) publishes its
games; the exporter puts each finished game with samples into exactly one shard; the trainer,
started on that data with a window minimum of exactly the samples published (so the last
shard completes its data), trains one candidate on every shard, whose weights load with the
library's loader and whose shards hold exactly the games published (truncated games give no
samples and are in none).
"""

from __future__ import annotations

from collections import Counter

import pytest

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.events.topics import CANDIDATE_READY, GAME_COMPLETED, SHARD_WRITTEN
from ringrift.models import load_checkpoint
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.training.shards import read_shard
from tests.fixtures.services import ServiceEnv
from tests.integration.events.support import wait_until

# Whole games (no move cap short of the default) on a loaded machine: three at a time took
# 150 s at load 16-26 on two cores, four two at a time 14 minutes at load 20-25 (past the
# suite's default 600 s).
pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(1800)]
SQUARE8 = GameConfig("square8", 2)
GAMES = 3


def test_games_become_shards_become_one_candidate(service_env: ServiceEnv) -> None:
    env = service_env
    for service in ("selfplay", "exporter", "trainer"):
        env.migrate(service)
    store = DirectoryArtifactStore(env.directory / "artifacts")
    selfplay = env.start("selfplay", "--max-games", str(GAMES), "--concurrency", str(GAMES),
                         "--simulations", "2", "--max-considered-actions", "2",
                         "--torch-threads", "1", "--instance-id", "chain")
    exporter = env.start("exporter", "--shard-samples", "150", "--max-delay-s", "3")
    assert selfplay.wait(timeout=900) == 0, selfplay.log()
    games = {event.payload.game_id: event.payload for event in env.read(GAME_COMPLETED, GAMES)}
    assert len(games) == GAMES

    finished = {game_id for game_id, game in games.items() if game.terminal}
    assert finished, "every game of the bounded run was truncated: nothing to train on"

    def game_ids(shards: list) -> Counter:
        return Counter(game_id for shard in shards for game_id in read_shard(
            store.local_path(shard.shard.uri, shard.shard.sha256)).metadata.game_ids)

    def sharded() -> bool:
        shards = [event.payload for event in env.read(SHARD_WRITTEN, 1, timeout=10)]
        return set(game_ids(shards)) >= finished
    wait_until(sharded, 600, "every finished game in a shard")
    exporter.terminate()
    assert exporter.wait() == 0, exporter.log()
    shards = [event.payload for event in env.read(SHARD_WRITTEN, 1, settle_s=2)]
    # Each finished game in exactly one shard; a truncated one (no samples) in none.
    in_shards = game_ids(shards)
    assert set(in_shards) == finished and set(in_shards.values()) == {1}
    assert sum(shard.num_games for shard in shards) <= GAMES
    total = sum(shard.num_samples for shard in shards)

    trainer = env.start("trainer", "--samples-per-candidate", "1", "--window-min-rows",
                        str(total), "--train-samples", "32", "--batch-size", "16",
                        "--preset", "tiny", "--device", "cpu", "--torch-threads", "1",
                        "--work-dir", str(env.directory / "trainer-work"))
    [ready] = env.read(CANDIDATE_READY, 1, timeout=600, settle_s=3)
    candidate = ready.payload
    assert list(candidate.shard_ids) == [shard.shard_id for shard in reversed(shards)]
    loaded = load_checkpoint(store.local_path(candidate.weights.uri, candidate.weights.sha256),
                             config=SQUARE8, encoder_version=ENCODER_VERSION)
    assert loaded.metadata.model_id == candidate.model_id
    assert (candidate.train_step, candidate.samples_seen) == (2, 32)
    trainer.terminate()
    assert trainer.wait() == 0, trainer.log()
