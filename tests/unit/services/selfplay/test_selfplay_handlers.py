"""The selfplay service's decisions as plain functions, on a migrated database (no broker).

Checks: configs share games by the curriculum weights (equal shares alternate; 3:1 is 3:1; a
weight of 0 gets no games; all zero means no games; before weights, ``--configs``); the
model slots give the uniform evaluator before
any promotion, load a real tiny checkpoint from the artifact store once per revision, keep
the previous model (and report it) when a promoted artifact is corrupt or of another config
(named by the payload or the checkpoint; never retried), and retry a transient
failure only after the retry delay; game numbers come from the durable per-replica sequence
in the publishing transaction (a rolled-back transaction uses none), each GameCompleted
decodes with the record codec, carries its seats' models and has an event id derived from
its game id; a game over the broker's size limit is dropped, not published.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.errors import RetryableError
from ringrift.evaluation import UNIFORM_ID, PlayModel
from ringrift.events.envelope import Event, derive_event_id, new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.gen.ops.v1.ops_pb2 import ConfigWeight, CurriculumWeights
from ringrift.events.topics import GAME_COMPLETED
from ringrift.models import build_model, save_checkpoint
from ringrift.search import GumbelConfig, UniformEvaluator
from ringrift.search.network import NetworkEvaluator
from ringrift.selfplay import SelfPlaySettings, play_games
from ringrift.selfplay.record_codec import decode_game
from ringrift.storage import migrations
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import make_engine, session_scope
from services.selfplay import handlers
from services.selfplay.handlers import ConfigChooser, FinishedGame, ModelSlots
from services.selfplay.tables import GameSequence
from tests.utils import engine as rules_engine

SQUARE8 = GameConfig("square8", 2)


def weights(**shares: float) -> CurriculumWeights:
    return CurriculumWeights(weights=[ConfigWeight(config_key=k, weight=w)
                                      for k, w in shares.items()], policy="test")


def picks(chooser: ConfigChooser, curriculum, count: int) -> list[str | None]:
    return [chooser.next(curriculum) for _ in range(count)]


def test_configs_follow_the_curriculum_weights() -> None:
    chooser = ConfigChooser(["square8_2p", "hex8_2p"])
    assert picks(chooser, None, 4) == ["square8_2p", "hex8_2p"] * 2
    three_to_one = weights(square8_2p=0.75, hex8_3p=0.25)
    got = picks(chooser, three_to_one, 40)
    assert got.count("square8_2p") == 30 and got.count("hex8_3p") == 10
    zero = weights(square8_2p=0.0, hex8_3p=1.0, nonsense_9p=5.0)
    assert set(picks(chooser, zero, 5)) == {"hex8_3p"}
    assert picks(chooser, weights(square8_2p=0.0), 3) == [None] * 3
    assert picks(chooser, CurriculumWeights(), 2) == ["square8_2p", "hex8_2p"]


def current(revision: int, ref: ArtifactRef | None = None, model_id: str = "m") -> Event:
    payload = CurrentModel(config_key="square8_2p", model_id=f"{model_id}{revision}",
                           revision=revision, weights=ref)
    return new_event(payload, config_key="square8_2p", producer="promoter")


@pytest.fixture
def store(tmp_path) -> DirectoryArtifactStore:
    return DirectoryArtifactStore(tmp_path / "artifacts")


def tiny_checkpoint(store: DirectoryArtifactStore, tmp_path) -> tuple[ArtifactRef, str]:
    path = tmp_path / "tiny.pt"
    metadata = save_checkpoint(path, build_model(SQUARE8, "tiny"),
                               encoder_version=ENCODER_VERSION)
    ref = store.put_bytes(path.read_bytes())
    return ArtifactRef(uri=ref.uri, sha256=ref.sha256, size_bytes=ref.size), metadata.model_id


def test_model_slots_load_each_revision_once_and_keep_the_old_on_failure(store,
                                                                        tmp_path) -> None:
    table: dict[str, Event] = {}
    loads: list[int] = []
    loader = handlers.artifact_loader("cpu")

    def counting(payload, config):
        loads.append(payload.revision)
        return loader(payload, config)

    slots = ModelSlots(table.get, counting)
    before = slots.for_new_game("square8_2p")
    assert before.model.model_id == UNIFORM_ID and before.revision == 0
    assert isinstance(before.model.evaluator, UniformEvaluator)
    assert slots.model_ages() == {}

    ref, model_id = tiny_checkpoint(store, tmp_path)
    table["square8_2p"] = current(1, ref)
    first = slots.for_new_game("square8_2p")
    assert first.model.model_id == model_id and first.revision == 1
    assert isinstance(first.model.evaluator, NetworkEvaluator)
    assert slots.for_new_game("square8_2p") is first and loads == [1]
    assert 0 <= slots.model_ages()["square8_2p"] < 3600

    damaged = ArtifactRef(uri=ref.uri, sha256="0" * 64, size_bytes=ref.size_bytes)
    table["square8_2p"] = current(2, damaged)
    assert slots.for_new_game("square8_2p") is first  # the previous model plays on
    assert "revision 2" in slots.problems()
    assert slots.for_new_game("square8_2p") is first and loads == [1, 2]  # not retried
    table["square8_2p"] = current(3, ref)
    assert slots.for_new_game("square8_2p").revision == 3 and slots.problems() is None


def test_transient_load_failures_are_retried_after_the_delay() -> None:
    now = [0.0]
    attempts: list[float] = []

    def flaky(payload, config):
        attempts.append(now[0])
        if len(attempts) < 2:
            raise RetryableError("object store unreachable")
        return PlayModel(UniformEvaluator(), payload.model_id)

    slots = ModelSlots({"square8_2p": current(1)}.get, flaky, retry_s=30, clock=lambda: now[0])
    assert slots.for_new_game("square8_2p").revision == 0
    now[0] = 10.0
    assert slots.for_new_game("square8_2p").revision == 0 and attempts == [0.0]
    assert "unreachable" in slots.problems()
    now[0] = 31.0
    assert slots.for_new_game("square8_2p").model.model_id == "m1"
    assert attempts == [0.0, 31.0] and slots.problems() is None


@pytest.fixture(scope="module")
def games():
    settings = SelfPlaySettings(GumbelConfig(simulations=2, max_considered_actions=2),
                                max_moves=40)
    return play_games(rules_engine.new_game(), rules_engine.rules(), UniformEvaluator(), 3,
                      settings, seed=5).games


@pytest.fixture
def db(sqlite_url: str):
    migrations.upgrade_to_head(sqlite_url, "selfplay")
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def finished(game, seats=("m1", "m1")) -> FinishedGame:
    return FinishedGame(game, "square8_2p", seats, 1.5, 2)


def test_games_are_numbered_from_the_durable_sequence(db, games) -> None:
    with session_scope(db) as session:
        outputs, dropped = handlers.publish_games(session, "r1", [finished(g) for g in games[:2]],
                                                  max_message_bytes=1_000_000)
    assert dropped == []
    assert [event.payload.game_id for _, event in outputs] == ["r1-0000000000", "r1-0000000001"]
    with pytest.raises(RuntimeError), session_scope(db) as session:  # rolled back: no number
        handlers.publish_games(session, "r1", [finished(games[2])], max_message_bytes=10**6)
        raise RuntimeError("the transaction fails after numbering")
    with session_scope(db) as session:
        again, _ = handlers.publish_games(session, "r1", [finished(games[2])],
                                          max_message_bytes=1_000_000)
        other, _ = handlers.publish_games(session, "r2", [finished(games[0])],
                                          max_message_bytes=1_000_000)
    assert again[0][1].payload.game_id == "r1-0000000002"
    assert other[0][1].payload.game_id == "r2-0000000000"
    with session_scope(db, read_only=True) as session:
        assert session.get(GameSequence, "r1").next_sequence == 3


def test_game_completed_carries_a_decodable_record(db, games) -> None:
    game = games[0]
    with session_scope(db) as session:
        [(topic, event)], _ = handlers.publish_games(session, "r1", [finished(game)],
                                                     max_message_bytes=1_000_000)
    payload = event.payload
    assert topic == GAME_COMPLETED and event.config_key == "square8_2p"
    assert event.event_id == derive_event_id(payload.game_id, "game-completed")
    assert list(payload.seat_model_ids) == ["m1", "m1"]
    assert payload.num_moves == len(game.moves) and payload.simulations_per_move == 2
    assert payload.terminal == (not game.truncated)
    assert payload.duration.ToNanoseconds() == 1_500_000_000
    decoded = decode_game(payload.record, payload.record_encoding)
    assert decoded.game_id == payload.game_id and decoded.moves == game.moves
    if not game.truncated:
        assert sorted(payload.outcome) == [0.0, 1.0]
    assert event.produced_at <= datetime.now(UTC)


def test_a_game_over_the_size_limit_is_dropped(db, games) -> None:
    with session_scope(db) as session:
        outputs, dropped = handlers.publish_games(session, "r1", [finished(games[0])],
                                                  max_message_bytes=5000)
    assert outputs == [] and len(dropped) == 1


def test_a_current_model_of_another_config_is_refused_and_the_previous_plays_on(
        store, tmp_path) -> None:
    table: dict[str, Event] = {}
    now, loads = [0.0], []
    loader = handlers.artifact_loader("cpu")

    def counting(payload, config):
        loads.append(payload.revision)
        return loader(payload, config)

    slots = ModelSlots(table.get, counting, retry_s=5.0, clock=lambda: now[0])
    ref, _ = tiny_checkpoint(store, tmp_path)
    table["square8_2p"] = current(1, ref)
    first = slots.for_new_game("square8_2p")
    assert first.revision == 1

    # Keyed as square8_2p's current model, but the payload names hex8_2p.
    payload = CurrentModel(config_key="hex8_2p", model_id="h2", revision=2, weights=ref)
    table["square8_2p"] = new_event(payload, config_key="square8_2p", producer="promoter")
    assert slots.for_new_game("square8_2p") is first
    assert "revision 2" in slots.problems() and "hex8_2p" in slots.problems()

    # A hex8 checkpoint announced as square8_2p's current model.
    path = tmp_path / "hex8.pt"
    save_checkpoint(path, build_model(GameConfig("hex8", 2), "tiny"),
                    encoder_version=ENCODER_VERSION)
    stored = store.put_bytes(path.read_bytes())
    table["square8_2p"] = current(3, ArtifactRef(uri=stored.uri, sha256=stored.sha256,
                                                 size_bytes=stored.size))
    assert slots.for_new_game("square8_2p") is first
    assert "revision 3" in slots.problems()
    now[0] += 60  # well past the retry delay: a wrong checkpoint is refused for good
    assert slots.for_new_game("square8_2p") is first and loads == [1, 2, 3]
