"""When to train, on what and from what: the trigger rule, the window and the parent of a run.

A config's next run is triggered by the ``ShardWritten`` that brings the samples received
since its latest run was triggered to ``--samples-per-candidate`` or more, provided the
library's window rule (:func:`ringrift.training.window_size.pick_window`, KataGo's shuffle
window) finds a window among the config's *eligible* shards: usable and not spent by a
rejected candidate (``feedback.py``). No timer and no polling: the shard event itself
starts the run, and its job starts at once (the partition waits for it, so one config never
has two runs at a time and later shards are recorded once it ends).

With ``--max-unevaluated N`` a due run is held back while N of the config's candidates
await their evaluation (on two cores the evaluator is the bottleneck: candidates trained
faster than they are evaluated only queue up, each on less data than a later one would
have); the ``EvaluationCompleted`` that frees the slot starts it, on every shard received
until then. Its trigger time is then that event's production time. Whatever starts a run,
none starts while another run of the config is unfinished (one config, one run at a time).

The parent is the latest candidate trained for the config (``--start-from latest``; the
config's current promoted model before there is one), or always the current promoted
model (``--start-from promoted``); none means fresh weights of ``--preset``. The window and
the parent are fixed in the run's row when it is triggered, so a resumed run trains on the
same data from the same weights.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringrift.encoding import ENCODER_VERSION
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.jobs import JobRow, JobState
from ringrift.training.window_size import ShardRows, WindowChoice, WindowRule, pick_window
from services.trainer.tables import Run, RunState, Shard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parent:
    """The model a run starts from, as an artifact."""

    model_id: str
    uri: str
    sha256: str


def samples_received(session: Session, config_key: str) -> int:
    """Samples of every shard recorded for ``config_key``."""
    return int(session.scalar(select(func.coalesce(func.sum(Shard.num_samples), 0))
                              .where(Shard.config_key == config_key)) or 0)


def latest_run(session: Session, config_key: str, *, published: bool = False) -> Run | None:
    """The config's newest run (only among published ones with ``published``), or None."""
    query = select(Run).where(Run.config_key == config_key)
    if published:
        query = query.where(Run.state == RunState.PUBLISHED)
    return session.scalar(query.order_by(Run.number.desc()).limit(1))


def pending_samples(session: Session, config_key: str) -> int:
    """Samples received since the config's latest run was triggered."""
    last = latest_run(session, config_key)
    return samples_received(session, config_key) - (last.samples_total if last else 0)


def unevaluated(session: Session, config_key: str) -> int:
    """The config's published candidates without an evaluation result yet."""
    return int(session.scalar(select(func.count()).select_from(Run).where(
        Run.config_key == config_key, Run.state == RunState.PUBLISHED,
        Run.verdict.is_(None))) or 0)


def unfinished(session: Session, config_key: str) -> bool:
    """Whether a run of the config is still to train (its job neither done nor failed)."""
    return session.scalar(
        select(func.count()).select_from(Run).join(JobRow, JobRow.job_id == Run.run_id)
        .where(Run.config_key == config_key, Run.state != RunState.PUBLISHED,
               JobRow.state.not_in((JobState.DONE, JobState.FAILED)))) != 0


def newest_shard(session: Session, config_key: str) -> Shard | None:
    """The config's most recently received shard, or None."""
    return session.scalar(select(Shard).where(Shard.config_key == config_key)
                          .order_by(Shard.id.desc()).limit(1))


def eligible_shards(session: Session, config_key: str) -> list[ShardRows]:
    """The config's shards a window may take, newest first: usable and not spent."""
    rows = session.execute(
        select(Shard.shard_id, Shard.num_samples, Shard.source_model_ids)
        .where(Shard.config_key == config_key, Shard.unusable.is_(None),
               Shard.spent_by.is_(None))
        .order_by(Shard.id.desc()))
    return [ShardRows(shard_id, int(samples), uniform=not models)
            for shard_id, samples, models in rows]


def choose_window(session: Session, config_key: str, rule: WindowRule) -> WindowChoice | None:
    """The window for a run of ``config_key`` now, or None while too few rows are eligible."""
    return pick_window(eligible_shards(session, config_key), rule)


def choose_parent(session: Session, config_key: str, start_from: str,
                  current: CurrentModel | None) -> Parent | None:
    """The parent of the next run of ``config_key`` (see the module's docstring)."""
    if start_from == "latest":
        run = latest_run(session, config_key, published=True)
        if run is not None and run.model_id and run.weights_uri and run.weights_sha256:
            return Parent(run.model_id, run.weights_uri, run.weights_sha256)
    if current is None or not current.model_id or not current.weights.uri:
        return None
    if current.encoder_version and current.encoder_version != ENCODER_VERSION:
        log.warning("the current model %s of %s was trained with encoder version %d, this "
                    "trainer encodes with %d: starting from fresh weights instead",
                    current.model_id, config_key, current.encoder_version, ENCODER_VERSION)
        return None
    return Parent(current.model_id, current.weights.uri, current.weights.sha256)


def new_run(session: Session, *, run_id: str, config_key: str, choice: WindowChoice,
            parent: Parent | None, trigger: Shard, triggered_by: datetime | None = None) -> Run:
    """Record a triggered run (in the handler's transaction, beside its job).

    ``triggered_by`` is the production time of the event that started it (default: the
    trigger shard's); the trigger latency is measured from it."""
    last = latest_run(session, config_key)
    run = Run(run_id=run_id, config_key=config_key, number=(last.number + 1) if last else 1,
              state=RunState.PENDING, samples_total=samples_received(session, config_key),
              shard_ids=list(choice.shard_ids), window_rows=choice.rows,
              desired_rows=choice.desired_rows, usable_rows=choice.usable_rows,
              parent_model_id=parent.model_id if parent else None,
              parent_uri=parent.uri if parent else None,
              parent_sha256=parent.sha256 if parent else None,
              trigger_shard_id=trigger.shard_id,
              trigger_published_at=triggered_by or trigger.published_at,
              triggered_at=datetime.now(UTC), start_steps=[])
    session.add(run)
    session.flush()
    return run
