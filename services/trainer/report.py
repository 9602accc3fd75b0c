"""Where each config stands, from the trainer's tables: for the gauges and for people.

:func:`summaries` derives, per config, what the trainer has (shards, samples, samples since
the latest run), its latest run with the state of its job (the backbone's ``jobs`` table:
progress, message, failure), and what its candidates cost (published, rejected, seconds of
training that went into rejected ones). The report timer (:func:`refresh`) exports the
state gauges from it; ``ringrift trainer status`` prints it (:func:`status_lines`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ringrift.events.jobs import JobRow, JobState
from ringrift.events.outbox import Output
from ringrift.storage.database import session_scope
from services.trainer import metrics, trigger
from services.trainer.feedback import rejected_seconds
from services.trainer.settings import TrainerSettings
from services.trainer.tables import Run, RunState, Shard, Verdict


@dataclass(frozen=True)
class ConfigSummary:
    """One config as the trainer sees it."""

    config_key: str
    shards: int
    samples: int
    pending_samples: int
    unusable_shards: int
    spent_shards: int
    runs: int
    published: int
    rejected: int
    rejected_seconds: float
    latest: Run | None
    latest_job: JobRow | None


def summaries(session: Session) -> list[ConfigSummary]:
    """Every config with shards or runs, by name."""
    keys = sorted(set(session.scalars(select(Shard.config_key).distinct()))
                  | set(session.scalars(select(Run.config_key).distinct())))
    found = []
    for key in keys:
        counts = session.execute(select(
            func.count(), func.count(Shard.unusable), func.count(Shard.spent_by))
            .where(Shard.config_key == key)).one()
        verdicts = dict(session.execute(
            select(Run.verdict, func.count()).where(Run.config_key == key,
                                                    Run.state == RunState.PUBLISHED)
            .group_by(Run.verdict)).all())
        latest = trigger.latest_run(session, key)
        found.append(ConfigSummary(
            config_key=key, shards=int(counts[0]), samples=trigger.samples_received(session, key),
            pending_samples=trigger.pending_samples(session, key),
            unusable_shards=int(counts[1]), spent_shards=int(counts[2]),
            runs=latest.number if latest else 0, published=sum(verdicts.values()),
            rejected=int(verdicts.get(Verdict.REJECTED, 0)),
            rejected_seconds=rejected_seconds(session, key), latest=latest,
            latest_job=session.get(JobRow, latest.run_id) if latest else None))
    return found


def refresh(session: Session) -> list[Output]:
    """The report timer: the per-config state gauges from the database (publishes nothing)."""
    for summary in summaries(session):
        metrics.PENDING_SAMPLES.labels(summary.config_key).set(summary.pending_samples)
        if summary.latest is not None:
            metrics.WINDOW_ROWS.labels(summary.config_key).set(summary.latest.window_rows)
            metrics.WINDOW_SHARDS.labels(summary.config_key).set(len(summary.latest.shard_ids))
    return []


def create_series(engine: Engine, settings: TrainerSettings) -> None:
    """Show the counters of every enabled or known config at 0 from the start."""
    with session_scope(engine, read_only=True) as session:
        known = {summary.config_key for summary in summaries(session)}
    for key in sorted(known | set(settings.configs)):
        metrics.create_series(key)


def status_lines(session: Session) -> Iterator[str]:
    """``ringrift trainer status``: a paragraph per config."""
    found = summaries(session)
    if not found:
        yield "no shards recorded yet"
    for s in found:
        yield (f"{s.config_key}: {s.shards} shard(s), {s.samples} sample(s), {s.pending_samples}"
               f" since the latest run; {s.unusable_shards} unusable, {s.spent_shards} spent "
               "by rejected candidates")
        yield (f"  {s.runs} run(s), {s.published} candidate(s) published, {s.rejected} "
               f"rejected ({s.rejected_seconds:.0f} training seconds on rejected candidates)")
        if s.latest is not None:
            yield "  latest: " + _describe(s.latest, s.latest_job)


def _describe(run: Run, job: JobRow | None) -> str:
    text = (f"run {run.number} ({run.run_id}) {run.state}, {len(run.shard_ids)} shard(s) / "
            f"{run.window_rows} rows, parent {run.parent_model_id or 'none (fresh weights)'}")
    if run.start_steps:
        text += f", started at step(s) {', '.join(map(str, run.start_steps))}"
    if run.state == RunState.PUBLISHED:
        text += (f"; candidate {run.model_id}, {run.train_seconds or 0:.0f} s, "
                 f"{run.verdict or 'not evaluated yet'}")
    elif job is not None:
        if job.state == JobState.FAILED:
            text += f"; job FAILED: {job.error}"
        elif job.progress is not None or job.message:
            text += f"; {100 * (job.progress or 0):.0f}% {job.message or ''}".rstrip()
    return text
