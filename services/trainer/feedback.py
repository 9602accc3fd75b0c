"""Evaluation feedback: what a rejected candidate changes for the runs after it.

The rule: the shards a rejected candidate was trained on are *spent*. No later run of that
config puts them in its window; the window rule then works on the eligible shards alone,
so after a rejection the next run waits until ``--samples-per-candidate`` new samples have
arrived *and* the unspent shards hold at least the window's minimum rows, and its window
grows from there as fresh data comes in.

Why: a rejected candidate shows that those rows, trained from that parent, did not make a
model the gate accepts. The next run's sliding window would overlap the rejected one's by
most of its rows, and by default continues from the rejected weights, which have already
fitted exactly those rows: it would re-fit the same data from nearly the same point and
produce a near-copy that the gate rejects again, the compute the system we replace wasted.
What can change the outcome is data the rejected candidate never saw: self-play keeps
playing the current (promoted) model, and only those new games enter the next window. The
price is that rows of a rejected window are never trained on again; they are the oldest
rows of the config at that point, the ones the window would drop first anyway.

The evaluator's *first* decision on a candidate is the one the rule uses (a later
evaluation of the same candidate against another opponent is ignored here): spending is not
undone. The training seconds of rejected candidates are kept per config (the sum of their
runs' ``train_seconds``), exported as a counter and shown by ``ringrift trainer status``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ringrift.events.gen.model.v1.model_pb2 import EvaluationCompleted
from services.trainer.tables import Run, Shard, Verdict

log = logging.getLogger(__name__)


def record_evaluation(session: Session, evaluation: EvaluationCompleted) -> Run | None:
    """Note the evaluator's decision on one of our candidates; spend its shards if rejected.

    Args:
        session: the handler's transaction.
        evaluation: the evaluation, of a candidate of ``evaluation.config_key``.

    Returns:
        The candidate's run when this was its first decision, else None (not our
        candidate, or decided before).
    """
    run = session.scalar(select(Run).where(Run.model_id == evaluation.model_id,
                                           Run.config_key == evaluation.config_key))
    if run is None:
        log.info("evaluation %s is of %s, which this trainer did not train: ignored",
                 evaluation.evaluation_id, evaluation.model_id)
        return None
    if run.verdict is not None:
        log.info("evaluation %s of %s: the candidate was %s already (evaluation %s); the "
                 "first decision stands", evaluation.evaluation_id, evaluation.model_id,
                 run.verdict, run.evaluation_id)
        return None
    run.verdict = Verdict.PASSED if evaluation.gate.passed else Verdict.REJECTED
    run.evaluation_id = evaluation.evaluation_id
    run.evaluated_at = datetime.now(UTC)
    if run.verdict == Verdict.REJECTED:
        spent = session.execute(
            update(Shard).where(Shard.shard_id.in_(run.shard_ids), Shard.spent_by.is_(None))
            .values(spent_by=run.run_id)).rowcount
        log.info("candidate %s of %s was rejected (%s): %d shard(s) of its window are spent, "
                 "%.0f training seconds went into it", run.model_id, run.config_key,
                 evaluation.gate.summary or evaluation.gate.verdict, spent,
                 run.train_seconds or 0.0)
    return run


def rejected_seconds(session: Session, config_key: str) -> float:
    """Training seconds of the config's candidates the evaluator rejected, all time."""
    return float(session.scalar(select(func.coalesce(func.sum(Run.train_seconds), 0.0))
                                .where(Run.config_key == config_key,
                                       Run.verdict == Verdict.REJECTED)) or 0.0)
