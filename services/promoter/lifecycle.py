"""The lifecycle state machine of a model: which state changes are legal, and for what cause.

::

    candidate ──evaluation started──▶ evaluating ──gate passed──▶ promoted ──later promotion──▶ superseded
        │                                 │ ╰──gate failed──▶ rejected                │ ╰──rollback──▶ rolled_back
        ╰──────────── manual promote ─────┴─────── (also from rejected) ──────────────╯
    superseded | rolled_back ──rollback to it──▶ promoted

Exactly one model per config is ``promoted``: the current one. A *promotion* (by the
gate, or a person's manual promote of a model that was never current) supersedes the
current model; a *rollback* makes an earlier current model (superseded or rolled back)
current again and records ``rolled_back`` for the one it replaces. Everything else is
refused with :class:`IllegalTransition`, whose message says what is legal instead.
This module is pure: the registry (:mod:`services.promoter.registry`) applies it.
"""

from __future__ import annotations

from enum import StrEnum

from ringrift.errors import RingriftError


class State(StrEnum):
    CANDIDATE = "candidate"
    EVALUATING = "evaluating"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    ROLLED_BACK = "rolled_back"


class Cause(StrEnum):
    """Why a model changes state."""

    EVALUATION = "evaluation"
    """The evaluator started evaluating it."""
    GATE = "gate"
    """The evaluator's gate decided (passed or failed)."""
    MANUAL = "manual"
    """A person promoted it through the REST API."""
    SUCCESSION = "succession"
    """Another model of its config became current."""
    ROLLBACK = "rollback"
    """A person rolled its config back (to it, or away from it)."""


LEGAL: dict[tuple[State, State], frozenset[Cause]] = {
    (State.CANDIDATE, State.EVALUATING): frozenset({Cause.EVALUATION}),
    (State.EVALUATING, State.PROMOTED): frozenset({Cause.GATE, Cause.MANUAL}),
    (State.EVALUATING, State.REJECTED): frozenset({Cause.GATE}),
    (State.CANDIDATE, State.PROMOTED): frozenset({Cause.MANUAL}),
    # A person may overrule the gate; the gate itself never revisits a rejection.
    (State.REJECTED, State.PROMOTED): frozenset({Cause.MANUAL}),
    (State.PROMOTED, State.SUPERSEDED): frozenset({Cause.SUCCESSION}),
    (State.PROMOTED, State.ROLLED_BACK): frozenset({Cause.ROLLBACK}),
    (State.SUPERSEDED, State.PROMOTED): frozenset({Cause.ROLLBACK}),
    (State.ROLLED_BACK, State.PROMOTED): frozenset({Cause.ROLLBACK}),
}
"""Every legal change and the causes that may make it; nothing else is legal."""

WAS_CURRENT = frozenset({State.SUPERSEDED, State.ROLLED_BACK})
"""States of models that were current once: the targets of a rollback."""
UNDECIDED = frozenset({State.CANDIDATE, State.EVALUATING})
"""States in which the gate may still decide."""


class IllegalTransition(RingriftError):
    """A state change the lifecycle does not allow (REST: 409 Conflict)."""


def check(model_id: str, current: State, target: State, cause: Cause) -> None:
    """Refuse ``current -> target`` for ``cause`` unless the lifecycle allows it.

    Raises:
        IllegalTransition: the change is not legal; the message names the legal ones.
    """
    if cause in LEGAL.get((current, target), frozenset()):
        return
    raise IllegalTransition(f"model {model_id} is {current}: {_explain(current, target, cause)}")


def _explain(current: State, target: State, cause: Cause) -> str:
    if current == target:
        return f"it is {target} already"
    if target is State.PROMOTED and cause is Cause.MANUAL and current in WAS_CURRENT:
        return "it was current before; roll its config back to it instead of promoting it"
    if target is State.PROMOTED and cause is Cause.ROLLBACK:
        return ("only a model that was current before (superseded or rolled_back) can be "
                "rolled back to; promote it instead")
    legal = sorted(f"{to} ({', '.join(sorted(causes))})"
                   for (frm, to), causes in LEGAL.items() if frm == current)
    allowed = ", ".join(legal) if legal else "nothing (a final state)"
    return f"{cause} cannot make it {target}; from {current} it may become: {allowed}"
