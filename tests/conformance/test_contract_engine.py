"""Every contract vector through the rules engine (wire-format §10.4), one test per vector id.

Checks, per vector: the harness procedure of ``harness.py`` (apply the input move,
continue a capture chain, auto-complete the turn as the PY runner does), then every
assertion key a reference runner compares (§10.3): phase, player, status, stack /
marker / collapsed counts, ``sInvariantDelta``, the first two players' counters and
``victoryWinner``. A vector whose input move the engine refuses as illegal is applied through the
trusted path, as the PY runner applies moves unvalidated; its refusal is recorded
and listed in ``FAILURES.md``. Only a vector's own ``skip`` field skips it; vectors judged to
contradict the rules are strict expected failures in ``harness.EXPECTED_FAILURES``.
Failures are summarised for the engine's owner in ``FAILURES.md`` by ``report.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conformance.harness import Vector, mismatches, run_vector, vector_params


@pytest.mark.parametrize("vector", vector_params("engine"))
def test_engine(vector: Vector, record_property: Callable[[str, object], None]) -> None:
    run = run_vector(vector)
    if run.untrusted_error:  # listed in FAILURES.md: the vector's move is illegal by the rules
        record_property("illegal_input_move", run.untrusted_error)
    problems = mismatches(vector, run.after, run.before)
    assert not problems, "; ".join(problems)
