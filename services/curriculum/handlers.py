"""The curriculum's logic: evaluations and promotions in, self-play weights out.

No Kafka and no environment here: :meth:`Curriculum.handle` is the consumer handler
(``EvaluationCompleted`` and ``ModelLifecycleChanged``), :meth:`Curriculum.recompute`
the timer (model ages grow with time). Both end in :meth:`Curriculum.recompute`, which
builds each enabled config's inputs from the tables, applies the policy
(:mod:`services.curriculum.policy`) and publishes ``CurriculumWeights`` when they
changed enough, recording each publication.

The tables are the log (each evaluation once, each promotion); a config's inputs are
recomputed from it every time (:mod:`services.curriculum.history`), never accumulated,
so the order in which the two topics deliver does not change the weights.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event, follow_up, new_event
from ringrift.events.gen.model.v1.model_pb2 import EvaluationCompleted, ModelLifecycleChanged
from ringrift.events.gen.ops.v1.ops_pb2 import CurriculumWeights
from ringrift.events.outbox import Output
from ringrift.events.topics import CURRICULUM_WEIGHTS
from ringrift.service.metrics import counter, gauge
from ringrift.storage.database import as_utc
from services.curriculum import history, policy
from services.curriculum.settings import CONFIG_KEYS
from services.curriculum.tables import EvaluationSeen, Promotion, WeightPublication

log = logging.getLogger(__name__)
PRODUCER = "curriculum"
PROMOTED = ModelLifecycleChanged.Transition.PROMOTED
WEIGHT = gauge("curriculum", "weight", "ratio", "Self-play share per config.", ["config"])
VELOCITY = gauge("curriculum", "rating_velocity", "elo_per_hour", "Rating change per hour of "
                 "the config's current model over the velocity window.", ["config"])
MODEL_AGE = gauge("curriculum", "model_age", "hours", "Hours since the config's model was "
                  "promoted.", ["config"])
PUBLISHED = counter("curriculum", "publications", "CurriculumWeights published.")


class BadInput(PoisonMessage):
    """An evaluation or lifecycle event the curriculum cannot use (dead-lettered)."""


@dataclass(frozen=True)
class CurriculumPolicy:
    configs: Sequence[str]
    settings: policy.PolicySettings = policy.PolicySettings()
    velocity_window_h: float = 24.0
    min_change: float = 0.01


@dataclass
class Curriculum:
    rules: CurriculumPolicy
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def handle(self, event: Event[Message], session: Session) -> list[Output]:
        """The consumer handler of both topics.

        Raises:
            BadInput: an unknown config, a config that differs between envelope and
                payload, an evaluation without an id, a promotion without a model.
        """
        payload = event.payload
        key = getattr(payload, "config_key", "")
        if key not in CONFIG_KEYS:
            raise BadInput(f"{event.event_type} {event.event_id} names config {key!r}, which "
                           f"is not one of {', '.join(CONFIG_KEYS)}")
        if event.config_key != key:
            raise BadInput(f"{event.event_type} {event.event_id}: envelope config "
                           f"{event.config_key!r} differs from the payload's {key!r}")
        if isinstance(payload, EvaluationCompleted):
            changed = self._evaluation(event, payload, session)
        elif isinstance(payload, ModelLifecycleChanged):
            changed = self._lifecycle(event, payload, session)
        else:
            raise BadInput(f"the curriculum does not read {event.event_type}")
        return self.recompute(session, event) if changed else []

    def recompute(self, session: Session, cause: Event[Message] | None = None) -> list[Output]:
        """Weights of the enabled configs now; published if they changed enough."""
        now = self.clock()
        inputs = [self._inputs(session, key, now) for key in self.rules.configs]
        weights = policy.config_weights(inputs, self.rules.settings)
        for item in weights:
            WEIGHT.labels(item.config_key).set(item.weight)
            VELOCITY.labels(item.config_key).set(item.elo_velocity)
            MODEL_AGE.labels(item.config_key).set(item.hours_since_promotion)
        last = session.scalars(select(WeightPublication)
                               .order_by(WeightPublication.revision.desc()).limit(1)).first()
        if last is not None:
            published = CurriculumWeights()
            published.ParseFromString(last.content)
            if not policy.changed(published.weights, weights, self.rules.min_change):
                return []
        revision = (last.revision if last is not None else 0) + 1
        message = CurriculumWeights(weights=weights, policy=policy.POLICY, revision=revision,
                                    floor=self.rules.settings.floor_share / len(weights))
        message.computed_at.FromDatetime(now)
        session.add(WeightPublication(revision=revision, computed_at=now, policy=policy.POLICY,
                                      content=message.SerializeToString(),
                                      cause=cause.event_id if cause else "timer"))
        PUBLISHED.inc()
        log.info("weights r%d: %s", revision, ", ".join(f"{w.config_key} {w.weight:.3f}"
                                                         for w in weights))
        event = (follow_up(cause, message, producer=PRODUCER, config_key="all")
                 if cause is not None else new_event(message, config_key="all",
                                                     producer=PRODUCER))
        return [(CURRICULUM_WEIGHTS, event)]

    # ---- the log -----------------------------------------------------------------------

    @staticmethod
    def _evaluation(event: Event[Message], evaluation: EvaluationCompleted,
                    session: Session) -> bool:
        if not evaluation.evaluation_id:
            raise BadInput(f"evaluation event {event.event_id} has no evaluation_id")
        if session.get(EvaluationSeen, evaluation.evaluation_id) is not None:
            return False  # the same evaluation published again
        ratings = {r.player_id: [r.elo.value, r.stderr] for r in evaluation.ratings
                   if r.player_id and math.isfinite(r.elo.value) and math.isfinite(r.stderr)}
        session.add(EvaluationSeen(evaluation_id=evaluation.evaluation_id,
                                   config_key=evaluation.config_key,
                                   model_id=evaluation.model_id, elo=evaluation.elo.value,
                                   ratings=json.dumps(ratings, sort_keys=True),
                                   completed_at=event.produced_at))
        return True

    @staticmethod
    def _lifecycle(event: Event[Message], change: ModelLifecycleChanged,
                   session: Session) -> bool:
        if change.transition != PROMOTED:
            return False  # rejections, supersessions, rollbacks: a PROMOTED follows a rollback
        if not change.model_id:
            raise BadInput(f"lifecycle event {event.event_id}: PROMOTED without a model_id")
        session.add(Promotion(event_id=event.event_id, config_key=change.config_key,
                              model_id=change.model_id, promoted_at=event.produced_at))
        return True

    def _inputs(self, session: Session, key: str, now: datetime) -> policy.ConfigInputs:
        """One config's inputs, from its log (:mod:`services.curriculum.history`)."""
        window = timedelta(hours=self.rules.velocity_window_h)
        promotions = [history.Promoted(as_utc(row.promoted_at), row.model_id)
                      for row in session.scalars(select(Promotion).where(
                          Promotion.config_key == key).order_by(Promotion.promoted_at,
                                                                Promotion.event_id))]
        of_config = select(EvaluationSeen).where(EvaluationSeen.config_key == key)
        # The window, and as much before it as promotions in it may look back on.
        rows = list(session.scalars(of_config.where(
            EvaluationSeen.completed_at >= now - 2 * window).order_by(
            EvaluationSeen.completed_at, EvaluationSeen.evaluation_id)))
        if not rows:  # nothing recent: the latest evaluation still says the rating
            rows = list(session.scalars(of_config.order_by(
                EvaluationSeen.completed_at.desc()).limit(1)))
        found = history.samples([history.Evaluated.of(as_utc(row.completed_at), row.ratings)
                                 for row in rows], promotions)
        evaluations = int(session.scalar(select(func.count()).select_from(
            of_config.subquery())) or 0)
        if not evaluations and not promotions:
            return policy.ConfigInputs(key)
        first = session.scalar(select(func.min(EvaluationSeen.completed_at)).where(
            EvaluationSeen.config_key == key))
        seen = [when for when in (as_utc(first) if first else None,
                                  promotions[0].at if promotions else None) if when]
        age_from = promotions[-1].at if promotions else min(seen)
        latest = found[-1] if found else None
        return policy.ConfigInputs(
            key, model_id=promotions[-1].model_id if promotions else "",
            elo=latest.elo if latest else 0.0, elo_stderr=latest.stderr if latest else 0.0,
            elo_velocity=policy.velocity([(sample.at, sample.elo) for sample in found
                                          if sample.at >= now - window]),
            hours_since_promotion=max(0.0, (now - age_from).total_seconds() / 3600),
            evaluations=evaluations)
