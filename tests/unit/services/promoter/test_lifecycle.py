"""The lifecycle state machine: exactly the legal changes pass, every other one is refused.

Checks: every (from, to, cause) triple outside the table is refused with a message that
names the model and its state; the legal ones pass; final states and the two "use the
other action" cases (promoting a model that was current before, rolling back to one that
never was) say what to do instead.
"""

from __future__ import annotations

import itertools

import pytest

from services.promoter.lifecycle import LEGAL, Cause, IllegalTransition, State, check

TRIPLES = list(itertools.product(State, State, Cause))
ILLEGAL = [triple for triple in TRIPLES if triple[2] not in LEGAL.get(triple[:2], frozenset())]


def test_the_table_is_the_issue_s_state_machine() -> None:
    assert {pair: set(causes) for pair, causes in LEGAL.items()} == {
        (State.CANDIDATE, State.EVALUATING): {Cause.EVALUATION},
        (State.EVALUATING, State.PROMOTED): {Cause.GATE, Cause.MANUAL},
        (State.EVALUATING, State.REJECTED): {Cause.GATE},
        (State.CANDIDATE, State.PROMOTED): {Cause.MANUAL},
        (State.REJECTED, State.PROMOTED): {Cause.MANUAL},
        (State.PROMOTED, State.SUPERSEDED): {Cause.SUCCESSION},
        (State.PROMOTED, State.ROLLED_BACK): {Cause.ROLLBACK},
        (State.SUPERSEDED, State.PROMOTED): {Cause.ROLLBACK},
        (State.ROLLED_BACK, State.PROMOTED): {Cause.ROLLBACK},
    }


@pytest.mark.parametrize("current, target, cause", ILLEGAL,
                         ids=[f"{a}-{b}-{c}" for a, b, c in ILLEGAL])
def test_every_illegal_change_is_refused(current: State, target: State, cause: Cause) -> None:
    with pytest.raises(IllegalTransition, match=f"model m1 is {current}"):
        check("m1", current, target, cause)


@pytest.mark.parametrize("current, target, cause",
                         [(a, b, c) for (a, b), causes in LEGAL.items() for c in causes])
def test_the_legal_changes_pass(current: State, target: State, cause: Cause) -> None:
    check("m1", current, target, cause)


def test_refusals_say_what_to_do_instead() -> None:
    with pytest.raises(IllegalTransition, match="roll its config back to it"):
        check("m1", State.SUPERSEDED, State.PROMOTED, Cause.MANUAL)
    with pytest.raises(IllegalTransition, match="promote it instead"):
        check("m1", State.REJECTED, State.PROMOTED, Cause.ROLLBACK)
    with pytest.raises(IllegalTransition, match="promoted already"):
        check("m1", State.PROMOTED, State.PROMOTED, Cause.MANUAL)
    with pytest.raises(IllegalTransition, match=r"may become: promoted \(manual\)"):
        check("m1", State.REJECTED, State.EVALUATING, Cause.EVALUATION)
    with pytest.raises(IllegalTransition, match="gate cannot make it rejected"):
        check("m1", State.CANDIDATE, State.REJECTED, Cause.GATE)
