"""The trainer's consumer handler as plain functions: an event and a session in, job requests out.

Two topics arrive here, in the trainer's consumer group:

- ``ShardWritten``: checked (a config of the registry, the envelope's config, an artifact
  reference, the encoder version this trainer reads), recorded once in the window table (a
  redelivery of the same shard is a no-op; the same id with other content is poison), and
  then the trigger rule (``trigger.py``) decides whether this shard starts a run: if so the
  run is recorded and a ``train`` job requested, in this same transaction.
- ``EvaluationCompleted``: the evaluator's decision on one of our candidates, which the
  feedback rule (``feedback.py``) turns into spent shards when it is a rejection; with
  ``--max-unevaluated`` it may start the run that waited for it (a ``train`` job too).

Anything that can never be handled (an unknown config, disagreeing configs, a missing
artifact reference, another encoder version) raises :class:`PoisonMessage` with the
reason: it goes to the dead-letter topic and the stream goes on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringrift.encoding import ENCODER_VERSION
from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel, EvaluationCompleted
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.jobs import JobRequest
from ringrift.events.jobstore import job_id_for
from services.trainer import metrics, trigger
from services.trainer.feedback import record_evaluation
from services.trainer.settings import CONFIG_KEYS, TrainerSettings
from services.trainer.tables import Run, Shard, Verdict

log = logging.getLogger(__name__)
TRAIN_JOB = "train"
"""The job kind of a training run."""
_SHA256 = re.compile(r"[0-9a-f]{64}")

CurrentModels = Callable[[str], CurrentModel | None]
"""The current (promoted) model of a config, or None before any."""


class TrainerHandler:
    """The consumer handler: dispatches each event to its function."""

    def __init__(self, settings: TrainerSettings, current_models: CurrentModels) -> None:
        self.settings = settings
        self.current_models = current_models

    def __call__(self, event: Event[Any], session: Session) -> list[JobRequest]:
        if isinstance(event.payload, ShardWritten):
            return on_shard(event, session, self.settings, self.current_models)
        if isinstance(event.payload, EvaluationCompleted):
            return on_evaluation(event, session, self.settings, self.current_models)
        raise PoisonMessage(f"the trainer does not handle {event.event_type} events")


def check_config(event: Event[Any], what: str) -> str:
    """The event's config key, checked against the registry and the envelope.

    Raises:
        PoisonMessage: an unknown config, or envelope and payload disagree.
    """
    key = event.payload.config_key
    if key not in CONFIG_KEYS:
        raise PoisonMessage(f"{what} has config {key!r}, which is not one of "
                            f"{', '.join(CONFIG_KEYS)}")
    if event.config_key != key:
        raise PoisonMessage(f"{what}: the envelope's config {event.config_key!r} differs from "
                            f"the payload's {key!r}")
    return str(key)


def check_shard(event: Event[ShardWritten]) -> str:
    """Check a ``ShardWritten``; returns its config key.

    Raises:
        PoisonMessage: it can never be trained on; the message says why.
    """
    shard = event.payload
    what = f"shard {shard.shard_id!r}"
    key = check_config(event, what)
    if not shard.shard_id or len(shard.shard_id) > 200:
        raise PoisonMessage(f"ShardWritten event {event.event_id} has no shard_id (or one "
                            "longer than 200 characters)")
    if not shard.shard.uri or not _SHA256.fullmatch(shard.shard.sha256):
        raise PoisonMessage(f"{what} has no artifact reference (uri {shard.shard.uri!r}, "
                            f"sha256 {shard.shard.sha256!r}); expected the store's URI and "
                            "the hex sha256 of the file")
    if shard.encoder_version != ENCODER_VERSION:
        raise PoisonMessage(f"{what} was encoded with encoder version "
                            f"{shard.encoder_version}; this trainer reads version "
                            f"{ENCODER_VERSION} only (re-export the games with it)")
    return key


def record_shard(session: Session, event: Event[ShardWritten]) -> Shard | None:
    """Add the shard to the window table; None when it is there already (a redelivery).

    Raises:
        PoisonMessage: a shard of that id is recorded with other content.
    """
    shard = event.payload
    known = session.scalar(select(Shard).where(Shard.shard_id == shard.shard_id))
    if known is not None:
        if known.sha256 != shard.shard.sha256:
            raise PoisonMessage(f"shard {shard.shard_id!r} is recorded with sha256 "
                                f"{known.sha256}, but this event says {shard.shard.sha256}: "
                                "a shard id names one content only")
        return None
    row = Shard(shard_id=shard.shard_id, config_key=shard.config_key, uri=shard.shard.uri,
                sha256=shard.shard.sha256, size_bytes=shard.shard.size_bytes,
                num_samples=shard.num_samples, num_games=shard.num_games,
                encoder_version=shard.encoder_version,
                source_model_ids=list(shard.source_model_ids), event_id=event.event_id,
                published_at=event.produced_at, received_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    return row


def on_shard(event: Event[ShardWritten], session: Session, settings: TrainerSettings,
             current_models: CurrentModels) -> list[JobRequest]:
    """Record a shard; request a training job if it completes the next run's data."""
    key = check_shard(event)
    shard = record_shard(session, event)
    if shard is None:
        return []
    run = start_if_due(event, session, key, settings, current_models, shard)
    pending = trigger.pending_samples(session, key)

    def count() -> None:
        metrics.SHARDS.labels(key).inc()
        metrics.PENDING_SAMPLES.labels(key).set(pending)
    metrics.after_commit(session, count)
    return [] if run is None else [JobRequest(TRAIN_JOB)]


def start_if_due(event: Event[Any], session: Session, key: str, settings: TrainerSettings,
                 current_models: CurrentModels, newest: Shard) -> Run | None:
    """Record the config's next run if it is due now (the trigger rule, ``trigger.py``).

    Args:
        event: the event being handled (the run's job id derives from it).
        session: the handler's transaction.
        key: the config.
        settings: the trainer's settings.
        current_models: the current model of a config.
        newest: the config's newest shard (the run's trigger shard).

    Returns:
        The run, whose ``train`` job the caller requests; None when none is due.
    """
    if not settings.trains(key) or (
            trigger.pending_samples(session, key) < settings.samples_per_candidate):
        return None
    if trigger.unfinished(session, key):
        log.info("%s: enough new samples; the next run starts after the current one", key)
        return None
    waiting = trigger.unevaluated(session, key) if settings.max_unevaluated else 0
    if settings.max_unevaluated and waiting >= settings.max_unevaluated:
        log.info("%s: enough new samples, but %d candidate(s) await their evaluation "
                 "(--max-unevaluated %d): the run starts once a result arrives", key, waiting,
                 settings.max_unevaluated)
        return None
    choice = trigger.choose_window(session, key, settings.window_rule())
    if choice is None:
        log.info("%s: enough new samples, but the eligible shards hold fewer than %d rows; "
                 "waiting for more", key, settings.window_min_rows)
        return None
    parent = trigger.choose_parent(session, key, settings.start_from, current_models(key))
    run = trigger.new_run(session, run_id=job_id_for(event, JobRequest(TRAIN_JOB)),
                          config_key=key, choice=choice, parent=parent, trigger=newest,
                          triggered_by=event.produced_at)
    log.info("%s: run %d triggered by %s (shard %s): %d shard(s), %d rows (desired %d), "
             "parent %s", key, run.number, event.event_type, newest.shard_id,
             len(choice.shard_ids), choice.rows, choice.desired_rows,
             parent.model_id if parent else "none")

    def count() -> None:
        metrics.WINDOW_ROWS.labels(key).set(run.window_rows)
        metrics.WINDOW_SHARDS.labels(key).set(len(run.shard_ids))
    metrics.after_commit(session, count)
    return run


def on_evaluation(event: Event[EvaluationCompleted], session: Session,
                  settings: TrainerSettings, current_models: CurrentModels) -> list[JobRequest]:
    """Apply the feedback rule to an evaluation of one of our candidates; with
    ``--max-unevaluated``, start the run this result lets start."""
    evaluation = event.payload
    key = check_config(event, f"evaluation {evaluation.evaluation_id!r}")
    if not evaluation.model_id or not evaluation.HasField("gate"):
        raise PoisonMessage(f"evaluation {evaluation.evaluation_id!r} of {key} has no model_id "
                            "or no gate decision")
    run = record_evaluation(session, evaluation)
    if run is None:
        return []
    if run.verdict == Verdict.REJECTED:
        seconds = run.train_seconds or 0.0

        def count() -> None:
            metrics.REJECTED.labels(key).inc()
            metrics.REJECTED_SECONDS.labels(key).inc(seconds)
        metrics.after_commit(session, count)
    newest = trigger.newest_shard(session, key) if settings.max_unevaluated else None
    if newest is None or start_if_due(event, session, key, settings, current_models,
                                      newest) is None:
        return []
    return [JobRequest(TRAIN_JOB)]
