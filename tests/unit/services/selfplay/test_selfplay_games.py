"""The selfplay game loop (the service's source) on a migrated SQLite database, without a broker.

Checks: a bounded run (``--max-games``) puts exactly that many decodable GameCompleted rows
into the outbox, numbered 0..N-1, and then asks the runtime to stop; the pool stays full
(finished games are replaced at the next turn); a model promoted mid-run is played by every
game that starts after it, while the games in flight finish with the model they started with;
a config whose weight is 0 gets no games; a cluster status that defers self-play stops the
ticks (no network call, games wait) and play resumes when it clears; a publish that fails
keeps the finished games and publishes them, once, when the database works again.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select, text

from ringrift.evaluation import UNIFORM_ID, PlayModel
from ringrift.events import envelope
from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, ConfigWeight, CurriculumWeights
from ringrift.events.outbox import OutboxRow
from ringrift.events.topics import GAME_COMPLETED
from ringrift.search import UniformEvaluator
from ringrift.selfplay.record_codec import decode_game
from ringrift.service.cluster import ClusterView
from ringrift.service.health import Heartbeat
from ringrift.service.hooks import Namespace, SourceContext
from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope
from services.selfplay.games import GameLoop
from services.selfplay.handlers import ModelSlots
from services.selfplay.settings import SelfplaySettings


@pytest.fixture
def db(sqlite_url: str):
    migrations.upgrade_to_head(sqlite_url, "selfplay")
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


class Run:
    """A loop, its context and the tables it reads, as the runtime would wire them."""

    def __init__(self, db, *, max_games: int | None, concurrency: int = 2,
                 configs: tuple[str, ...] = ("square8_2p",)) -> None:
        self.db = db
        self.models: dict[str, Event] = {}
        self.curriculum: CurriculumWeights | None = None
        self.cluster: ClusterStatus | None = None
        view = ClusterView(lambda: None if self.cluster is None else new_event(
            self.cluster, config_key="", producer="cluster-monitor"), "node-1")
        self.stopped = False
        self.loaded: list[str] = []
        settings = SelfplaySettings(configs=list(configs), concurrency=concurrency,
                                    simulations=2, max_considered_actions=2, max_moves=24,
                                    max_games=max_games, seed=11)
        slots = ModelSlots(self.models.get, self._load)
        self.loop = GameLoop(settings, replica_id="rep", slots=slots,
                             curriculum=lambda: self.curriculum, cluster=view,
                             max_message_bytes=1_000_000)
        self.context = SourceContext(db, Namespace(""), Heartbeat(), self._stop,
                                     lambda: self.stopped)

    def _load(self, payload: CurrentModel, _config) -> PlayModel:
        self.loaded.append(payload.model_id)
        return PlayModel(UniformEvaluator(), payload.model_id)

    def _stop(self) -> None:
        self.stopped = True

    def turn(self) -> int:
        return self.loop(self.context)

    def until(self, condition: Callable[[], bool], turns: int = 20_000) -> None:
        for _ in range(turns):
            if condition():
                return
            self.turn()
        raise AssertionError("the condition did not hold within the turns")

    def published(self) -> list[Event]:
        with session_scope(self.db, read_only=True) as session:
            rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
            assert {row.topic for row in rows} <= {GAME_COMPLETED.name}
            return [envelope.decode(row.value, GAME_COMPLETED) for row in rows]


def promote(run: Run, revision: int) -> None:
    run.models["square8_2p"] = new_event(
        CurrentModel(config_key="square8_2p", model_id=f"m{revision}", revision=revision),
        config_key="square8_2p", producer="promoter")


def test_bounded_run_publishes_exactly_n_games_then_stops(db) -> None:
    run = Run(db, max_games=5, concurrency=2)
    run.turn()
    assert len(run.loop.in_flight) == 2
    run.until(lambda: run.stopped)
    events = run.published()
    assert [e.payload.game_id for e in events] == [f"rep-{n:010d}" for n in range(5)]
    for event in events:
        game = decode_game(event.payload.record, event.payload.record_encoding)
        assert game.game_id == event.payload.game_id
        assert list(event.payload.seat_model_ids) == [UNIFORM_ID, UNIFORM_ID]
    assert run.loop.started == 5 and not run.loop.in_flight


def test_a_promotion_reaches_the_next_game_and_in_flight_games_keep_theirs(db) -> None:
    run = Run(db, max_games=8, concurrency=3)
    run.until(lambda: run.loop.published >= 1)
    before = run.loop.published + len(run.loop.unpublished)
    in_flight_at_promotion = len(run.loop.in_flight)
    promote(run, 1)
    run.until(lambda: run.stopped)
    seats = [tuple(e.payload.seat_model_ids) for e in run.published()]
    assert len(seats) == 8 and run.loaded == ["m1"]
    uniform = seats.count((UNIFORM_ID, UNIFORM_ID))
    assert uniform == before + in_flight_at_promotion
    assert seats.count(("m1", "m1")) == 8 - uniform > 0


def test_a_config_with_weight_zero_gets_no_games(db) -> None:
    run = Run(db, max_games=4, configs=("square8_2p", "hex8_2p"))
    run.curriculum = CurriculumWeights(weights=[ConfigWeight(config_key="square8_2p", weight=0),
                                                ConfigWeight(config_key="hex8_2p", weight=0)])
    assert run.turn() == 0 and not run.loop.in_flight
    run.curriculum = CurriculumWeights(weights=[ConfigWeight(config_key="square8_2p", weight=0),
                                                ConfigWeight(config_key="hex8_2p", weight=1)])
    run.until(lambda: run.stopped)
    assert {e.config_key for e in run.published()} == {"hex8_2p"}


def test_defer_pauses_the_ticks_and_play_resumes_when_it_clears(db) -> None:
    run = Run(db, max_games=3)
    run.turn()
    calls = run.loop.pool.evaluator_calls
    run.cluster = ClusterStatus(defer=["selfplay"])
    for _ in range(20):
        assert run.turn() == 0
    assert run.loop.pool.evaluator_calls == calls and run.loop.paused
    assert len(run.loop.in_flight) == 2 and run.published() == []
    run.cluster = ClusterStatus(defer=["training"])
    run.until(lambda: run.stopped)
    assert run.loop.paused is None and len(run.published()) == 3


def test_a_failed_publish_keeps_the_games_and_publishes_them_once_later(db) -> None:
    run = Run(db, max_games=2)
    with db.begin() as connection:  # the sequence table is gone: every publish fails
        connection.execute(text("ALTER TABLE game_sequences RENAME TO away"))
    run.until(lambda: len(run.loop.unpublished) == 2)
    calls = run.loop.pool.evaluator_calls
    assert run.turn() == 0 and run.published() == []
    with db.begin() as connection:
        connection.execute(text("ALTER TABLE away RENAME TO game_sequences"))
    run.until(lambda: run.stopped)
    assert run.loop.pool.evaluator_calls == calls
    assert [e.payload.game_id for e in run.published()] == ["rep-0000000000", "rep-0000000001"]
