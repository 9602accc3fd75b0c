"""What people do to the registry: promote a model, roll a config back; each one audited.

A manual action runs in one transaction under its config's lock (as the gate's
decisions do), writes an :class:`~services.promoter.tables.AuditEntry` (who, what, when,
why) and returns the :class:`~services.promoter.registry.Decision` whose events the
caller enqueues in that same transaction. A caller may pass the revision it saw
(``expected_revision``): if the config's current model changed since, the action is
refused instead of acting on a state the caller never saw, so of two people promoting
different models at once, one wins and the other is told. Promoting the same model
twice is refused by the lifecycle (it is current already) whether or not a revision is
given.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringrift.errors import RingriftError
from services.promoter.lifecycle import WAS_CURRENT, Cause, IllegalTransition, State
from services.promoter.metrics import count_decision
from services.promoter.registry import Decision, get_model, lock_config, make_current, now
from services.promoter.tables import AuditEntry, ConfigState, Transition


class RevisionMoved(RingriftError):
    """The config's current model changed since the revision the caller gave (REST: 409)."""


def promote(session: Session, model_id: str, *, actor: str, reason: str,
            expected_revision: int | None = None) -> Decision:
    """Make ``model_id`` its config's current model by hand.

    Raises:
        UnknownModel: no such model.
        RevisionMoved: ``expected_revision`` is not the config's revision.
        IllegalTransition: the model may not be promoted (current already, or it was
            current before: roll back to it instead).
    """
    config = lock_config(session, get_model(session, model_id).config_key)
    model = get_model(session, model_id)  # reread under the lock: another call may have won
    expect(config, expected_revision)
    if model.state == State.PROMOTED:
        raise IllegalTransition(f"model {model_id} is the current model of {config.config_key} "
                                f"already (revision {config.revision})")
    previous = config.current_model_id or ""
    decision = make_current(session, config, model, Cause.MANUAL, actor=actor,
                            reason=f"manual: {reason}")
    audit(session, actor, "promote", config.config_key, model_id, reason,
          previous_model_id=previous, revision=decision.revision)
    count_decision(session, decision)
    return decision


def rollback(session: Session, config_key: str, *, actor: str, reason: str,
             model_id: str | None = None, expected_revision: int | None = None) -> Decision:
    """Make an earlier current model of ``config_key`` current again (default: the one
    current just before); the replaced model is recorded as rolled back.

    Raises:
        UnknownModel: ``model_id`` is not registered.
        RevisionMoved: ``expected_revision`` is not the config's revision.
        IllegalTransition: nothing to roll back (no current model, no earlier one), or the
            target is current already, of another config, or was never current.
    """
    config = lock_config(session, config_key)
    expect(config, expected_revision)
    current = config.current_model_id
    if not current:
        raise IllegalTransition(f"{config_key} has no current model: nothing to roll back")
    target_id = model_id or previous_current(session, config_key)
    if target_id is None:
        raise IllegalTransition(f"{config_key} has had one current model only ({current}); "
                                "there is no earlier one to roll back to")
    target = get_model(session, target_id)
    if target.config_key != config_key:
        raise IllegalTransition(f"model {target_id} is a model of {target.config_key}, not of "
                                f"{config_key}")
    if target.model_id == current:
        raise IllegalTransition(f"model {target_id} is the current model of {config_key} "
                                f"already (revision {config.revision})")
    decision = make_current(session, config, target, Cause.ROLLBACK, actor=actor,
                            reason=f"rollback: {reason}")
    audit(session, actor, "rollback", config_key, target_id, reason,
          previous_model_id=current, revision=decision.revision)
    count_decision(session, decision)
    return decision


def previous_current(session: Session, config_key: str) -> str | None:
    """The model that was current just before the current one (None if there was none)."""
    last_left = session.scalar(
        select(Transition.model_id).where(Transition.config_key == config_key,
                                          Transition.from_state == State.PROMOTED.value)
        .order_by(Transition.id.desc()).limit(1))
    if last_left is None or State(get_model(session, last_left).state) not in WAS_CURRENT:
        return None
    return last_left


def expect(config: ConfigState, expected_revision: int | None) -> None:
    """Refuse to act if the config moved past the revision the caller saw.

    Raises:
        RevisionMoved: it did.
    """
    if expected_revision is not None and expected_revision != config.revision:
        raise RevisionMoved(
            f"{config.config_key} is at revision {config.revision} (current model "
            f"{config.current_model_id or 'none'}), not {expected_revision} as the request "
            "expected: someone changed it meanwhile; look again, then retry")


def audit(session: Session, actor: str, action: str, config_key: str, model_id: str,
          reason: str, **detail: object) -> None:
    """Write one line of the audit log (in the action's transaction)."""
    session.add(AuditEntry(at=now(), actor=actor, action=action, config_key=config_key,
                           model_id=model_id, reason=reason, detail=detail))
