"""The evaluation job: choose the opponent, load the models, play the gate and the baselines,
refit the ratings, and publish the result.

Evaluation is long work (the backbone's job pattern, :mod:`ringrift.events.jobs`): the
candidate's partition waits while the job runs on a worker thread, and the job's result
(``EvaluationCompleted``) enters the outbox in the transaction that marks the job and the
evaluation done, so it is published exactly once. The steps, each safe to repeat:

1. *Choose* (:mod:`services.evaluator.planning`), once the cluster lets evaluation run and
   the promoter has acted on the config's last passed gate; the evaluation's id is the
   job's checkpoint, so a resumed job continues the same evaluation.
2. *Load* the models through the one loader. A model that can never be loaded (a corrupt
   artifact, a checkpoint of another config, weights that are not the announced model) is
   poison: the evaluation is marked failed and the candidate dead-lettered with the reason.
   An artifact store that is away is an outage: retried.
3. *Start*: the evaluation is marked playing and ``EvaluationStarted`` enters the outbox,
   in one transaction, once.
4. *Play* (:mod:`services.evaluator.matches`): every game is stored as it ends; a kill
   loses at most the games in flight, and the resumed job plays only the missing ones.
5. *Finish*: ratings refitted from the config's whole match log, the result built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ringrift.configs import GameConfig
from ringrift.errors import PoisonMessage
from ringrift.evaluation import (
    HEURISTIC_ID,
    RANDOM_ID,
    GateDecision,
    GateSettings,
    MatchOptions,
    baseline_player,
    load_for_play,
    search_player,
)
from ringrift.events.envelope import Event, follow_up
from ringrift.events.gen.model.v1.model_pb2 import (
    CurrentModel,
    EvaluationCompleted,
    EvaluationStarted,
)
from ringrift.events.jobs import JobContext
from ringrift.events.outbox import Output
from ringrift.events.topics import EVALUATION_COMPLETED, EVALUATION_STARTED, TopicSpec
from ringrift.models import CheckpointError
from ringrift.players.base import Player
from ringrift.search import GameRules, engine_rules
from ringrift.storage.artifacts import ArtifactRef
from ringrift.storage.database import as_utc, session_scope
from services.evaluator import matchlog, planning, results
from services.evaluator.matches import MatchContext, play_baseline, play_gate
from services.evaluator.metrics import (
    DEFERRED,
    EVALUATION_SECONDS,
    EVALUATIONS,
    SPRT_BOUND,
    SPRT_LLR,
    export_ratings,
)
from services.evaluator.settings import EvaluatorSettings
from services.evaluator.tables import Evaluation

log = logging.getLogger(__name__)
PRODUCER = "evaluator"
Enqueue = Callable[[Session, TopicSpec, Event[Message]], None]
WAIT_CHECK_S = 0.5
"""How often a waiting evaluation looks again (a table value and one small query)."""


class UnplayableModel(PoisonMessage):
    """A model of the evaluation can never be loaded (the message says which and why)."""


@dataclass(frozen=True)
class Chosen:
    """The evaluation a job plays, as stored (detached from any session)."""

    evaluation_id: str
    config_key: str
    model_id: str
    state: str
    plan: dict[str, Any]
    started_at: datetime | None

    @classmethod
    def of(cls, row: Evaluation) -> Chosen:
        return cls(row.evaluation_id, row.config_key, row.model_id, row.state, dict(row.plan),
                   row.started_at)


class EvaluationJob:
    """The job function of kind ``evaluate``.

    Args:
        engine: the evaluator's database.
        settings: the service's settings (the plan fixes what a match depends on).
        current_models: the current model of a config (the ``model.current`` table).
        hold: why evaluation must not run now (the cluster status), or None.
        enqueue: adds an output to the outbox in a session's transaction.
    """

    def __init__(self, engine: Engine, settings: EvaluatorSettings,
                 current_models: Callable[[str], CurrentModel | None],
                 hold: Callable[[], str | None], enqueue: Enqueue) -> None:
        self.engine = engine
        self.settings = settings
        self.current_models = current_models
        self.hold = hold
        self.enqueue = enqueue

    def __call__(self, context: JobContext) -> list[Output]:
        if self.settings.threads:
            import torch

            torch.set_num_threads(self.settings.threads)
        chosen = self._choose(context)
        if chosen is None:
            return []
        config = GameConfig.parse(chosen.config_key)
        rules = engine_rules()
        plan = chosen.plan
        candidate = self._player(chosen, plan["candidate"], "candidate", config, rules)
        opponent = self._player(chosen, plan["opponent"], "gate opponent", config, rules)
        baselines = [(spec["model_id"], self._player(chosen, spec, "baseline", config, rules))
                     for spec in plan["baselines"]]
        started_at = self._start(context, chosen)
        match = MatchContext(self.engine, chosen.evaluation_id, chosen.config_key, candidate,
                             partial(_new_game, config), rules,
                             MatchOptions(self.settings.concurrency, plan["max_moves"],
                                          f"evaluation {chosen.evaluation_id}"),
                             context.check_cancelled)
        opponent_id = plan["opponent"]["model_id"]
        total = GateSettings(**plan["gate"]).max_games + plan["baseline_games"] * len(baselines)

        def on_batch(decision: GateDecision) -> None:
            context.report_progress(decision.games / total, decision.describe())

        run = play_gate(match, GateSettings(**plan["gate"]),
                        planning.match_seed(chosen.evaluation_id, opponent_id), opponent,
                        opponent_id, on_batch)
        log.info("evaluation %s: %s", chosen.evaluation_id, run.decision.describe())
        records = [results.opponent_result(opponent_id, run.decision.summary, "gate")]
        for baseline_id, player in baselines:
            summary = play_baseline(match, plan["baseline_games"],
                                    planning.match_seed(chosen.evaluation_id, baseline_id),
                                    player, baseline_id)
            log.info("evaluation %s: against %s %s", chosen.evaluation_id, baseline_id, summary)
            records.append(results.opponent_result(baseline_id, summary, "baseline"))
        return [self._finish(context, chosen, run.decision, records, started_at)]

    # ---- steps -----------------------------------------------------------------------

    def _choose(self, context: JobContext) -> Chosen | None:
        checkpoint = context.load_checkpoint()
        if checkpoint:
            with session_scope(self.engine, read_only=True) as session:
                row = session.get(Evaluation, checkpoint.decode())
                if row is not None:
                    return Chosen.of(row)
        params = dict(context.params)
        config = params["config_key"]

        def why_wait() -> str | None:
            with session_scope(self.engine, read_only=True) as session:
                return self.hold() or planning.pending_decision(
                    session, config, self.current_models(config),
                    self.settings.decision_wait_s)

        self._wait(context, why_wait)
        with session_scope(self.engine) as session:
            chosen = Chosen.of(planning.choose(session, params, self.settings,
                                               self.current_models(config)))
        if chosen.state == planning.DONE:
            log.info("candidate %s against %s: evaluated already (%s); nothing to publish",
                     chosen.model_id, chosen.plan["opponent"]["model_id"], chosen.evaluation_id)
            return None
        context.save_checkpoint(chosen.evaluation_id.encode())
        return chosen

    def _player(self, chosen: Chosen, spec: dict[str, str], role: str, config: GameConfig,
                rules: GameRules) -> Player:
        model_id = spec["model_id"]
        if model_id in (RANDOM_ID, HEURISTIC_ID):
            return baseline_player(model_id, rules)
        source = ArtifactRef(spec["uri"], spec["sha256"], 0) if spec.get("uri") else None
        try:
            model = load_for_play(source, config=config, device=self.settings.device or None)
            if source is not None and model.model_id != model_id:
                raise UnplayableModel(f"the weights {spec['uri']} hold model {model.model_id}, "
                                      f"not {model_id}")
        except (CheckpointError, PoisonMessage) as error:
            # The class first: dead letters of failed jobs keep the first 300 characters,
            # and an artifact's message starts with its (long) URI.
            reason = (f"the {role} {model_id} of {chosen.config_key} cannot be loaded: "
                      f"{type(error).__name__}: {error}")
            with session_scope(self.engine) as session:
                row = session.get(Evaluation, chosen.evaluation_id)
                if row is not None:
                    row.state, row.error = planning.FAILED, reason
            raise UnplayableModel(f"{reason} (evaluation {chosen.evaluation_id})") from error
        return search_player(model, rules, chosen.plan["simulations"])

    def _start(self, context: JobContext, chosen: Chosen) -> datetime:
        """Mark the evaluation playing and announce it (once); returns when it started."""
        with session_scope(self.engine) as session:
            row = session.get(Evaluation, chosen.evaluation_id)
            assert row is not None, chosen.evaluation_id
            if row.state in (planning.QUEUED, planning.FAILED):
                row.state, row.error = planning.PLAYING, None
                row.started_at = row.started_at or datetime.now(UTC)
                started = EvaluationStarted(
                    evaluation_id=row.evaluation_id, model_id=row.model_id,
                    config_key=row.config_key, opponent_model_id=row.opponent_model_id,
                    max_games=GateSettings(**chosen.plan["gate"]).plan(
                        GameConfig.parse(row.config_key).num_players, 0).max_games,
                    baselines=row.baselines)
                self.enqueue(session, EVALUATION_STARTED,
                             follow_up(context.event, started, producer=PRODUCER))
            return as_utc(row.started_at or datetime.now(UTC))

    def _finish(self, context: JobContext, chosen: Chosen, decision: GateDecision,
                records: list[Any], started_at: datetime) -> Output:
        config = chosen.config_key
        ratings = matchlog.config_ratings(self.engine, config)
        export_ratings(config, ratings)
        with session_scope(self.engine, read_only=True) as session:
            games = matchlog.games_played(session, chosen.evaluation_id)
        seconds = (datetime.now(UTC) - started_at).total_seconds()
        completed = EvaluationCompleted(
            evaluation_id=chosen.evaluation_id, model_id=chosen.model_id, config_key=config,
            results=records, gate=results.gate_decision(decision, records[0].opponent_model_id),
            games_played=games, ratings=results.player_ratings(ratings), seconds=seconds)
        if chosen.model_id in ratings.ratings:
            completed.elo.CopyFrom(results.rating_estimate(ratings[chosen.model_id]))
        else:
            log.warning("evaluation %s: candidate %s is not connected to the random player in "
                        "the log; no rating", chosen.evaluation_id, chosen.model_id)

        def mark_done(session: Session) -> None:
            row = session.get(Evaluation, chosen.evaluation_id)
            if row is not None:
                row.state, row.finished_at = planning.DONE, datetime.now(UTC)
                row.verdict, row.passed = decision.verdict.value, decision.passed
                row.llr, row.games = decision.llr, games

        context.add_effect(mark_done)
        SPRT_LLR.labels(config).set(decision.llr)
        SPRT_BOUND.labels(config, "lower").set(decision.lower_bound)
        SPRT_BOUND.labels(config, "upper").set(decision.upper_bound)
        EVALUATIONS.labels(config, decision.verdict.value).inc()
        EVALUATION_SECONDS.labels(config).observe(seconds)
        return EVALUATION_COMPLETED, follow_up(context.event, completed, producer=PRODUCER)

    def _wait(self, context: JobContext, why: Callable[[], str | None]) -> None:
        """Wait (cancellably) while ``why()`` gives a reason, looking again twice a second."""
        said = None
        while (reason := why()) is not None:
            if reason != said:
                log.info("evaluation waits: %s", reason)
                said = reason
            DEFERRED.set(1 if self.hold() else 0)
            context.report_progress(context.progress, f"waiting: {reason}")
            deadline = time.monotonic() + WAIT_CHECK_S
            while time.monotonic() < deadline:
                context.check_cancelled()
                time.sleep(0.1)
        DEFERRED.set(0)


def _new_game(config: GameConfig) -> Any:
    from ringrift.game import initial_state

    return initial_state(config, pie_rule=False)
