"""The evaluator's consumer handlers: a candidate becomes an evaluation job; decisions are noted.

``CandidateReady``: the candidate is checked (a registry config its envelope agrees on, a
model id, weights named by URI and sha256; anything else is poison, dead-lettered with the
reason), recorded (a later evaluation may play it as the config's first promoted model) and
handed to an evaluation job (:mod:`services.evaluator.evaluation`), which chooses the
opponent when it starts: evaluation is long work, and the partition of the config waits
while it runs, so candidates of one config are evaluated one after the other.

``ModelLifecycleChanged``: a promoter's decision on an evaluation is noted (the next
evaluation of the config waits for it, so it plays the model that is current after it),
and the first ``PROMOTED`` of a config is recorded, the third rung of the baseline ladder
(random, heuristic, first promoted model).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ringrift.configs import ALL_CONFIGS
from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event
from ringrift.events.gen.model.v1.model_pb2 import CandidateReady, ModelLifecycleChanged
from ringrift.events.jobs import JobRequest
from services.evaluator.tables import Candidate, Evaluation, FirstPromotion

log = logging.getLogger(__name__)
CONFIG_KEYS = frozenset(config.key for config in ALL_CONFIGS)
EVALUATE = "evaluate"
"""The job kind of an evaluation."""
_SHA256 = re.compile(r"[0-9a-f]{64}")


class InvalidEvent(PoisonMessage):
    """An event the evaluator can never act on (the reason names the field)."""


def handle(event: Event[Any], session: Session) -> list[JobRequest]:
    """The consumer handler of the evaluator's topics.

    Raises:
        InvalidEvent: the event is invalid (see the handlers of each type).
    """
    if isinstance(event.payload, CandidateReady):
        return on_candidate(event, session)
    if isinstance(event.payload, ModelLifecycleChanged):
        on_lifecycle(event, session)
        return []
    raise InvalidEvent(f"the evaluator does not handle {event.event_type}")


def on_candidate(event: Event[CandidateReady], session: Session) -> list[JobRequest]:
    """Record a candidate and request its evaluation as a job.

    Raises:
        InvalidEvent: the candidate names no registry config, disagrees with its envelope,
            has no model id, or names no weights.
    """
    candidate = event.payload
    _check_config(candidate.config_key, event.config_key, f"candidate {candidate.model_id!r}")
    _check_candidate(candidate)
    if session.get(Candidate, candidate.model_id) is None:
        session.add(Candidate(model_id=candidate.model_id, config_key=candidate.config_key,
                              weights_uri=candidate.weights.uri,
                              weights_sha256=candidate.weights.sha256,
                              weights_size=candidate.weights.size_bytes,
                              architecture=candidate.architecture,
                              received_at=datetime.now(UTC)))
    return [JobRequest(EVALUATE, {"model_id": candidate.model_id,
                                  "config_key": candidate.config_key,
                                  "uri": candidate.weights.uri,
                                  "sha256": candidate.weights.sha256})]


def on_lifecycle(event: Event[ModelLifecycleChanged], session: Session) -> None:
    """Note the promoter's decision on an evaluation, and a config's first promoted model.

    Raises:
        InvalidEvent: the event names no registry config or disagrees with its envelope.
    """
    change = event.payload
    _check_config(change.config_key, event.config_key, f"lifecycle event of {change.model_id!r}")
    if change.evaluation_id:
        decided = session.get(Evaluation, change.evaluation_id)
        if decided is not None and decided.decided_at is None:
            decided.decided_at = datetime.now(UTC)
    if change.transition != ModelLifecycleChanged.PROMOTED or not change.model_id:
        return
    if session.get(FirstPromotion, change.config_key) is None:
        session.add(FirstPromotion(config_key=change.config_key, model_id=change.model_id,
                                   promoted_at=datetime.now(UTC)))
        log.info("first promoted model of %s: %s", change.config_key, change.model_id)


def _check_config(config_key: str, envelope_key: str, what: str) -> None:
    if config_key not in CONFIG_KEYS:
        raise InvalidEvent(f"{what} has config {config_key!r}, which is not one of "
                           f"{', '.join(sorted(CONFIG_KEYS))}")
    if envelope_key != config_key:
        raise InvalidEvent(f"{what}: envelope config {envelope_key!r} differs from the "
                           f"payload's {config_key!r}")


def _check_candidate(candidate: CandidateReady) -> None:
    name = f"candidate {candidate.model_id!r}"
    if not candidate.model_id or len(candidate.model_id) > 64:
        raise InvalidEvent(f"{name}: model_id must be 1-64 characters (the sha256 of the "
                           "checkpoint's weights and metadata)")
    if not candidate.weights.uri:
        raise InvalidEvent(f"{name}: weights.uri is empty; it must name the checkpoint in "
                           "the artifact store")
    if not _SHA256.fullmatch(candidate.weights.sha256):
        raise InvalidEvent(f"{name}: weights.sha256 {candidate.weights.sha256!r} is not 64 "
                           "lower-case hex digits")
