"""What a training job writes to its run's row, each in a short transaction of its own.

The job runs on a worker thread for minutes or hours, so it never holds a transaction
open: it reads its run, notes its progress (deferred, training, the step each start began
from), drops a shard whose artifact turns out missing or damaged (choosing the window
again, see :func:`drop_shard`), and finally records the published candidate inside the
transaction that ends the job (:func:`record_candidate`, a job effect), so the row, the
``CandidateReady`` in the outbox and the job's end commit together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from ringrift.errors import PoisonMessage
from ringrift.storage.artifact_index import record_artifact
from ringrift.storage.artifacts import ArtifactRef
from ringrift.storage.database import as_utc, session_scope
from ringrift.training.window_size import WindowRule
from services.trainer import trigger
from services.trainer.tables import Run, RunState, Shard

if TYPE_CHECKING:
    from ringrift.training.trainer import TrainResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunView:
    """A run's row as a job needs it (detached from any session)."""

    run_id: str
    config_key: str
    number: int
    shard_ids: tuple[str, ...]
    parent_model_id: str | None
    parent_uri: str | None
    parent_sha256: str | None
    trigger_published_at: datetime


@dataclass(frozen=True)
class ShardFile:
    """A shard of a run's window: where the store has it and what it must hash to."""

    shard_id: str
    uri: str
    sha256: str


def load(engine: Engine, run_id: str) -> RunView:
    """The run of job ``run_id``.

    Raises:
        PoisonMessage: no such run (the job was recorded without one: a bug).
    """
    with session_scope(engine, read_only=True) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise PoisonMessage(f"training job {run_id} has no run in the trainer's runs table")
        return RunView(run.run_id, run.config_key, run.number, tuple(run.shard_ids),
                       run.parent_model_id, run.parent_uri, run.parent_sha256,
                       as_utc(run.trigger_published_at))


def window_files(engine: Engine, run: RunView) -> list[ShardFile]:
    """The run's window, newest first, as artifacts to fetch."""
    with session_scope(engine, read_only=True) as session:
        rows = {row.shard_id: row for row in session.query(Shard)
                .filter(Shard.shard_id.in_(run.shard_ids))}
        return [ShardFile(shard_id, rows[shard_id].uri, rows[shard_id].sha256)
                for shard_id in run.shard_ids]


def note(engine: Engine, run_id: str, **values: Any) -> None:
    """Set columns of the run (state, started_at, batch_size, ...)."""
    with session_scope(engine) as session:
        session.execute(update(Run).where(Run.run_id == run_id).values(**values))


def add_start_step(engine: Engine, run_id: str, step: int) -> None:
    """Note that a start of the run began at ``step`` (0, or where a resume picked up)."""
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        if run is not None:
            run.start_steps = [*run.start_steps, int(step)]


def drop_shard(engine: Engine, run: RunView, shard_id: str, reason: str,
               rule: WindowRule) -> RunView:
    """Mark a shard unusable and choose the run's window again without it.

    Returns:
        The run with its new window.

    Raises:
        PoisonMessage: too few eligible rows are left for a window (the run cannot train).
    """
    with session_scope(engine) as session:
        session.execute(update(Shard).where(Shard.shard_id == shard_id)
                        .values(unusable=reason[:4000]))
    log.warning("run %d of %s: shard %s is unusable (%s); choosing the window again",
                run.number, run.config_key, shard_id, reason)
    with session_scope(engine) as session:
        choice = trigger.choose_window(session, run.config_key, rule)
        if choice is None:
            raise PoisonMessage(f"run {run.number} of {run.config_key} cannot train: shard "
                                f"{shard_id} is unusable ({reason}) and the eligible shards "
                                f"left hold fewer than {rule.min_rows} rows")
        session.execute(update(Run).where(Run.run_id == run.run_id).values(
            shard_ids=list(choice.shard_ids), window_rows=choice.rows,
            desired_rows=choice.desired_rows, usable_rows=choice.usable_rows))
    return RunView(run.run_id, run.config_key, run.number, choice.shard_ids,
                   run.parent_model_id, run.parent_uri, run.parent_sha256,
                   run.trigger_published_at)


def record_candidate(session: Session, run_id: str, result: TrainResult,
                     weights: ArtifactRef) -> None:
    """The job's effect: the run is published with its candidate (same transaction as the
    ``CandidateReady`` output and the job's end)."""
    run = session.get(Run, run_id)
    if run is None:
        raise PoisonMessage(f"training job {run_id} lost its run row")
    run.state = RunState.PUBLISHED
    run.model_id = result.model_id
    run.weights_uri, run.weights_sha256 = weights.uri, weights.sha256
    run.train_seconds = result.train_seconds
    run.train_step, run.samples_seen = result.train_step, result.samples_seen
    run.losses = dict(result.losses)
    run.shard_ids = list(result.shard_ids)
    run.finished_at = datetime.now(UTC)
    record_artifact(session, weights, "model")
