"""The evaluation job as a plain function: a JobContext in, outputs and stored games out.

Tiny budgets: an untrained ``tiny`` network against search over the uniform evaluator,
2 simulations, 30-move games, a gate of 4 games in batches of 2 and baseline matches of
2 games. Checks: a finished evaluation publishes one ``EvaluationCompleted`` (gate first,
then the baselines, counts and intervals, ratings of the whole log with random at 0) and
announces itself once with ``EvaluationStarted``; every game is in the match log; a job
cancelled mid-match resumes from its stored games, plays only the missing ones and ends
with exactly the games and decision of an uninterrupted run; the same pair is not played
twice; a corrupt artifact, a checkpoint of another config and weights that are not the
announced model are poison naming the model, with the evaluation marked failed and
nothing published; a held evaluation waits, and stops when cancelled; a 3-player
evaluation plays whole rounds (the candidate in every seat) and counts games by score.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.errors import PoisonMessage
from ringrift.events import envelope
from ringrift.events.gen.model.v1.model_pb2 import EvaluationCompleted, EvaluationStarted
from ringrift.events.jobs import JobCancelled, JobContext, JobRow
from ringrift.events.outbox import OutboxRow, enqueue
from ringrift.events.topics import EVALUATION_COMPLETED
from ringrift.models import build_model, save_checkpoint
from ringrift.storage import migrations
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import make_engine, session_scope
from services.evaluator import handlers, matchlog
from services.evaluator.evaluation import EvaluationJob
from services.evaluator.settings import EvaluatorSettings
from services.evaluator.tables import Evaluation, MatchGame
from tests.utils.evaluator import candidate

CONFIG = GameConfig("square8", 2)
SETTINGS = EvaluatorSettings(simulations=2, max_moves=30, gate_batch_games=2,
                             gate_max_games=4, baseline_games=2, concurrency=8)


@pytest.fixture
def store(tmp_path: Path) -> DirectoryArtifactStore:
    return DirectoryArtifactStore(tmp_path / "artifacts")


def checkpoint(store, tmp_path: Path, config: GameConfig = CONFIG, name: str = "m"):
    path = tmp_path / f"{name}.pt"
    metadata = save_checkpoint(path, build_model(config, "tiny"), encoder_version=ENCODER_VERSION)
    return metadata.model_id, store.put_file(path)


class Run:
    """One job of a candidate event, run by hand as the job runner would (checkpoint kept)."""

    def __init__(self, engine, event, hold=lambda: None) -> None:
        with session_scope(engine) as session:
            [request] = handlers.handle(event, session)
        self.engine, self.event, self.params = engine, event, dict(request.params)
        self.checkpoint: bytes | None = None
        self.cancel = threading.Event()
        self.job = EvaluationJob(engine, SETTINGS, lambda _config: None, hold, enqueue)

    def __call__(self):
        row = JobRow(job_id="job-1", kind=handlers.EVALUATE, params=self.params,
                     checkpoint=self.checkpoint, progress=None, message=None)
        context = JobContext(row, self.event, attempt=1, save=self._save, cancelled=self.cancel)
        outputs = self.job(context)
        with session_scope(self.engine) as session:  # as the runner's finishing transaction
            for effect in context.effects:
                effect(session)
        return outputs

    def _save(self, data: bytes) -> None:
        self.checkpoint = data


def outbox(engine) -> list:
    with session_scope(engine, read_only=True) as session:
        return [envelope.decode(row.value) for row in session.scalars(select(OutboxRow))]


def log_of(engine) -> list[tuple]:
    with session_scope(engine, read_only=True) as session:
        return [(g.opponent_id, g.game_index, g.role, tuple(g.players), tuple(g.ranking))
                for g in session.scalars(select(MatchGame).order_by(
                    MatchGame.opponent_id, MatchGame.game_index))]


def test_an_evaluation_publishes_its_result_once_with_every_game_stored(engine, store, tmp_path):
    model_id, ref = checkpoint(store, tmp_path)
    [(topic, event)] = Run(engine, candidate(model_id, ref=ref))()
    assert topic is EVALUATION_COMPLETED
    result: EvaluationCompleted = event.payload
    assert (result.model_id, result.config_key) == (model_id, "square8_2p")
    assert [(r.opponent_model_id, r.role) for r in result.results] == [
        ("uniform", "gate"), ("random", "baseline"), ("heuristic", "baseline")]
    gate = result.gate
    assert gate.opponent_model_id == "uniform" and gate.method == "sprt"
    assert gate.verdict in ("pass", "fail", "inconclusive") and gate.passed == (
        gate.verdict == "pass")
    assert gate.games == result.results[0].games == sum(gate.counts) * 2
    assert gate.llr_lower < 0 < gate.llr_upper and gate.max_games == 4
    for record in result.results:
        assert record.wins + record.draws + record.losses == record.games
        assert record.win_rate.lower <= record.win_rate.value <= record.win_rate.upper
    assert result.games_played == len(log_of(engine)) == 4 + 2 + 2
    ratings = {r.player_id: r for r in result.ratings}
    assert set(ratings) == {"random", "heuristic", "uniform", model_id}
    assert ratings["random"].elo.value == 0 and ratings["random"].stderr == 0
    assert result.elo.lower < result.elo.value < result.elo.upper
    assert result.elo.value == ratings[model_id].elo.value and result.seconds >= 0
    [started] = [e.payload for e in outbox(engine)]
    assert isinstance(started, EvaluationStarted)
    assert (started.evaluation_id, started.opponent_model_id, started.max_games,
            started.baselines) == (result.evaluation_id, "uniform", 4, True)
    with session_scope(engine, read_only=True) as session:
        row = session.get(Evaluation, result.evaluation_id)
        assert (row.state, row.verdict, row.games) == ("done", gate.verdict, 8)


def test_a_cancelled_match_resumes_from_its_stored_games(engine, store, tmp_path, sqlite_url,
                                                        monkeypatch):
    model_id, ref = checkpoint(store, tmp_path)
    other_url = sqlite_url.replace("ringrift.db", "uninterrupted.db")
    migrations.upgrade_to_head(other_url, "evaluator")
    other = make_engine(other_url)
    [(_, expected)] = Run(other, candidate(model_id, ref=ref))()

    run = Run(engine, candidate(model_id, ref=ref))
    stores: list[int] = []
    resumed_once = False
    original = matchlog.store_game

    def store_then_maybe_cancel(*args, **kwargs):
        original(*args, **kwargs)
        stores.append(kwargs["result"].index)
        if len(stores) == 3 and not resumed_once:
            run.cancel.set()  # the job is asked to stop (SIGTERM, partition revoked)

    monkeypatch.setattr(matchlog, "store_game", store_then_maybe_cancel)
    with pytest.raises(JobCancelled):
        run()
    stored = len(log_of(engine))
    assert 3 <= stored < 8 and run.checkpoint is not None
    run.cancel.clear()
    stores.clear()
    resumed_once = True
    [(_, resumed)] = run()
    assert len(stores) == 8 - stored  # only the missing games were played
    assert log_of(engine) == log_of(other)
    for field in ("evaluation_id", "games_played", "results", "ratings"):
        assert getattr(resumed.payload, field) == getattr(expected.payload, field)
    assert resumed.payload.gate.summary == expected.payload.gate.summary
    assert len(outbox(engine)) == 1  # announced once, not again on resume
    other.dispose()


def test_the_same_pair_is_not_played_twice(engine, store, tmp_path):
    model_id, ref = checkpoint(store, tmp_path)
    assert len(Run(engine, candidate(model_id, ref=ref))()) == 1
    assert Run(engine, candidate(model_id, ref=ref))() == []
    assert len(outbox(engine)) == 1


def test_unplayable_models_are_poison_and_publish_nothing(engine, store, tmp_path):
    model_id, ref = checkpoint(store, tmp_path)
    path = store.path_for(ref.sha256)
    path.chmod(0o644)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(PoisonMessage, match=f"candidate {model_id} of square8_2p cannot be"):
        Run(engine, candidate(model_id, ref=ref))()
    hex_id, hex_ref = checkpoint(store, tmp_path, GameConfig("hex8", 2), "hex")
    with pytest.raises(PoisonMessage, match="cannot be loaded.*board_type"):
        Run(engine, candidate(hex_id, ref=hex_ref))()
    good_id, good_ref = checkpoint(store, tmp_path, name="good")
    with pytest.raises(PoisonMessage, match=f"hold model {good_id}, not m-other"):
        Run(engine, candidate("m-other", ref=good_ref))()
    with session_scope(engine, read_only=True) as session:
        rows = session.scalars(select(Evaluation)).all()
        assert [row.state for row in rows] == ["failed"] * 3
        assert all("cannot be loaded" in row.error for row in rows)
    assert outbox(engine) == [] and log_of(engine) == []


def test_a_held_evaluation_waits_and_stops_when_cancelled(engine, store, tmp_path):
    model_id, ref = checkpoint(store, tmp_path)
    asked = []

    def hold() -> str:
        asked.append(1)
        if len(asked) == 3:
            run.cancel.set()
        return "the cluster status defers evaluation"

    run = Run(engine, candidate(model_id, ref=ref), hold)
    with pytest.raises(JobCancelled):
        run()
    with session_scope(engine, read_only=True) as session:
        assert session.scalars(select(Evaluation)).all() == []
    assert outbox(engine) == []


def test_a_three_player_evaluation_counts_games_by_rank_score(engine, store, tmp_path):
    config = GameConfig("square8", 3)
    model_id, ref = checkpoint(store, tmp_path, config)
    [(_, event)] = Run(engine, candidate(model_id, "square8_3p", ref=ref))()
    result = event.payload
    gate = result.gate
    assert gate.max_games == 6 and gate.games % 3 == 0  # whole rounds: every seat once
    assert len(gate.counts) == 2 * (3 - 1) + 1 and sum(gate.counts) == gate.games  # per game
    assert [(r.opponent_model_id, r.games) for r in result.results] == [
        ("uniform", gate.games), ("random", 3), ("heuristic", 3)]
    with session_scope(engine, read_only=True) as session:
        seats = [g.candidate_seat for g in session.scalars(select(MatchGame).where(
            MatchGame.opponent_id == "random"))]
    assert sorted(seats) == [0, 1, 2]
    assert {r.player_id for r in result.ratings} == {"random", "heuristic", "uniform", model_id}
    [started] = [e.payload for e in outbox(engine)]
    assert started.max_games == gate.max_games == 6
