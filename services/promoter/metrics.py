"""The promoter's metrics (``ringrift_promoter_*``), counted once a decision is committed.

The alert rules read ``promotions_total`` and ``rollbacks_total`` per config; their
series exist from the start for every config the registry knows (:func:`known_config`),
so that "no promotion in 24 h" can fire for a config that never had one. The
``stage_last_produced`` gauges are Unix times (seconds), the usual way to let Prometheus
compute "seconds since" (``time() - ...``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ringrift.service.metrics import counter, gauge
from services.promoter.lifecycle import Cause, State
from services.promoter.registry import Decision
from services.promoter.tables import ConfigState, Model

SERVICE = "promoter"
PROMOTIONS = counter(SERVICE, "promotions", "Models made current by a promotion (gate or "
                     "manual), per config.", ["config"])
ROLLBACKS = counter(SERVICE, "rollbacks", "Manual rollbacks, per config.", ["config"])
REJECTIONS = counter(SERVICE, "rejections", "Candidates the gate rejected, per config.",
                     ["config"])
CANDIDATES = counter(SERVICE, "candidates", "Candidates registered, per config.", ["config"])
EVALUATIONS = counter(SERVICE, "evaluations", "Completed evaluations received, per config and "
                      "what the promoter did with them (promoted, rejected, ignored, waiting).",
                      ["config", "decision"])
CURRENT_REVISION = gauge(SERVICE, "current_model", "revision", "Revision of the config's "
                         "current model (grows with every promotion or rollback).", ["config"])
STAGE_LAST_PRODUCED = gauge(SERVICE, "stage_last_produced", "timestamp_seconds",
                            "When each stage last produced, per config (export: a shard; "
                            "training: a candidate; evaluation_start, evaluation: a started "
                            "and a completed evaluation; promotion).",
                            ["config", "stage"])
REGISTERED = gauge(SERVICE, "registered", "models", "Registered models per config and state "
                   "(refreshed periodically from the registry).", ["config", "state"])
API_REQUESTS = counter(SERVICE, "api_requests", "REST requests, per method, route and status.",
                       ["method", "route", "status"])
API_DENIED = counter(SERVICE, "api_denied", "REST requests refused for missing, unknown, "
                     "revoked or underprivileged tokens.", ["reason"])


def known_config(config_key: str) -> None:
    """Create the per-config series the alerts read (at 0) for ``config_key``."""
    for metric in (PROMOTIONS, ROLLBACKS, REJECTIONS, CANDIDATES):
        metric.labels(config_key)


def after_commit(session: Session, action: object) -> None:
    """Run ``action()`` once ``session``'s transaction commits (never for a rollback)."""
    event.listen(session, "after_commit", lambda _session: action(), once=True)  # type: ignore[operator]


def count_decision(session: Session, decision: Decision) -> None:
    """Count ``decision``'s promotions, rollbacks and rejections once it is committed."""
    def count() -> None:
        known_config(decision.config_key)
        for change in decision.changes:
            if change.to_state is State.PROMOTED:
                (ROLLBACKS if change.cause is Cause.ROLLBACK else PROMOTIONS).labels(
                    change.config_key).inc()
            elif change.to_state is State.REJECTED:
                REJECTIONS.labels(change.config_key).inc()
        if decision.current is not None:
            CURRENT_REVISION.labels(decision.config_key).set(decision.revision)
            STAGE_LAST_PRODUCED.labels(decision.config_key, "promotion").set(time.time())
    after_commit(session, count)


def stage_produced(session: Session, config_key: str, stage: str, at: datetime) -> None:
    """Note (after commit) that ``stage`` last produced for ``config_key`` at ``at``."""
    after_commit(session, lambda: STAGE_LAST_PRODUCED.labels(config_key, stage).set(
        at.timestamp()))


def refresh(session: Session) -> list[object]:
    """The periodic task: per-state counts, revisions and stage times from the registry
    (so a restarted process shows them at once). Publishes nothing."""
    for config in session.scalars(select(ConfigState)):
        known_config(config.config_key)
        CURRENT_REVISION.labels(config.config_key).set(config.revision)
        for stage, at in config.stage_times():
            if at is not None:
                STAGE_LAST_PRODUCED.labels(config.config_key, stage).set(
                    at.replace(tzinfo=at.tzinfo or UTC).timestamp())
    counts = {(key, state): count for key, state, count in session.execute(
        select(Model.config_key, Model.state, func.count()).group_by(Model.config_key,
                                                                      Model.state))}
    for key in {key for key, _ in counts}:
        for state in State:
            REGISTERED.labels(key, state.value).set(counts.get((key, state.value), 0))
    return []
