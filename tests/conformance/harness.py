"""The contract-vector harness of wire-format §10.4 (the PY runner), shared by the tests.

Vectors are loaded from the verbatim copies in ``tests/conformance/vectors/``
(``RINGRIFT_CONFORMANCE_DIR`` points at another copy). Each vector is run as:

1. skip when its own ``skip`` field is set (nothing else skips; vectors judged to
   contradict the rules are strict expected failures, see ``EXPECTED_FAILURES``);
2. S before = markers + collapsed + sum of ``board.eliminatedRings`` (§9, PY rule);
3. apply ``input.move`` (or ``input.initialMove``) through the normal apply path;
4. continue a capture chain when the vector expects to leave ``chain_capture``;
5. auto-complete the turn with ``no_line_action`` / ``no_territory_action`` unless the
   vector expects a decision phase or ``awaiting_decision``;
6. compare every assertion key a reference runner checks (§10.3): the PY keys and
   the TS-only player counters and ``victoryWinner``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ringrift.game.fingerprint import s_invariant
from ringrift.game.move import AUTO_BOOKKEEPING_TYPES, Move, MoveType
from ringrift.game.wire import WireState, state_from_json
from ringrift.game.wire_move import move_from_json

CONFORMANCE_DIR = Path(os.environ.get("RINGRIFT_CONFORMANCE_DIR")
                       or Path(__file__).with_name("vectors"))
CONTRACT_DIR = CONFORMANCE_DIR / "contract-vectors-v2"
FSM_FILE = CONFORMANCE_DIR / "fsm-v1" / "fsm_transitions.vectors.json"

# Phases in which the harness never auto-completes (§10.4 step 5).
_DECISION_PHASES = frozenset({"line_processing", "territory_processing", "chain_capture",
                              "capture", "forced_elimination"})
_MAX_STEPS = 20

# (test, vector id) -> why the vector contradicts the rules document. Tests: "wire"
# (test_contract_vectors.py) and "engine" (test_contract_engine.py). Strict: when a vector
# starts passing, its entry must go.
EXPECTED_FAILURES: dict[tuple[str, str], str] = {
    ("wire", "territory.forced_elimination.simple_hexagonal"):
        "its stack at (3,3,0) is not a hex cell: x + y + z = 6, but cube coordinates sum to 0 "
        "(rules §1.2, wire-format §1.1); PY lists the vector as stale (§10.6)",
    ("engine", "territory.forced_elimination.simple_hexagonal"):
        "its input state has a cell that is not on a hex board (see the wire entry)",
}


@dataclass(frozen=True)
class Vector:
    file: str
    id: str
    raw: dict[str, Any]

    @property
    def skip(self) -> str | None:
        return self.raw.get("skip") or None

    @property
    def expected(self) -> dict[str, Any]:
        return self.raw["expectedOutput"]


@cache
def contract_vectors() -> tuple[Vector, ...]:
    """Every vector of every ``*.vectors.json`` bundle, in file then bundle order."""
    vectors = []
    for path in sorted(CONTRACT_DIR.glob("*.vectors.json")):
        for raw in json.loads(path.read_text(encoding="utf-8"))["vectors"]:
            vectors.append(Vector(path.name, raw["id"], raw))
    return tuple(vectors)


@cache
def fsm_vectors() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(FSM_FILE.read_text(encoding="utf-8"))["vectors"])


def vector_params(test: str) -> list[pytest.ParameterSet]:
    """One pytest param per vector: its own skip, or a strict xfail from the table."""
    params = []
    for vector in contract_vectors():
        marks = []
        if vector.skip:
            marks.append(pytest.mark.skip(reason=f"vector skip: {vector.skip}"))
        reason = EXPECTED_FAILURES.get((test, vector.id))
        if reason:
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(vector, id=vector.id, marks=marks))
    return params


def input_state(vector: Vector) -> WireState:
    return state_from_json(vector.raw["input"]["state"], path="input.state")


def input_move(vector: Vector) -> Move:
    inputs = vector.raw["input"]
    key = "move" if "move" in inputs else "initialMove"
    return move_from_json(inputs[key], f"input.{key}")


def observed(state: WireState, before: WireState) -> dict[str, Any]:
    """Every checkable assertion key (§10.3) measured on ``state``."""
    values: dict[str, Any] = {
        "currentPlayer": state.current_player,
        "currentPhase": state.phase,
        "gameStatus": state.status,
        "stackCount": len(state.stacks),
        "markerCount": len(state.markers),
        "collapsedCount": len(state.collapsed),
        "sInvariantDelta": s_invariant(state, "board") - s_invariant(before, "board"),
        "victoryWinner": state.winner,
    }
    for index, player in enumerate(state.players[:2]):  # array position, not player number
        prefix = f"player{index + 1}"
        values[f"{prefix}RingsInHand"] = player.rings_in_hand
        values[f"{prefix}EliminatedRings"] = player.eliminated_rings
        values[f"{prefix}TerritorySpaces"] = player.territory_spaces
    return values


def mismatches(vector: Vector, state: WireState, before: WireState) -> list[str]:
    """``key: expected X, got Y`` for each checked assertion that differs."""
    measured = observed(state, before)
    return [f"{key}: expected {want!r}, got {measured[key]!r}"
            for key, want in vector.expected["assertions"].items()
            if key in measured and measured[key] != want]


def _chain_choice(legal: list[Move], plan: list[dict[str, Any]], step: int) -> Move | None:
    """The continuation to play (§10.4 step 4): the planned one, else the one nearest its target."""
    continuations = [m for m in legal if m.type is MoveType.CONTINUE_CAPTURE_SEGMENT]
    if not continuations:
        return None
    if step < len(plan):
        entry = plan[step]
        target, landing = entry.get("captureTarget") or {}, entry.get("landing") or {}
        for move in continuations:
            if (move.capture_target is not None and move.to is not None
                    and (move.capture_target.x, move.capture_target.y)
                    == (target.get("x"), target.get("y"))
                    and (move.to.x, move.to.y) == (landing.get("x"), landing.get("y"))):
                return move
    return min(continuations, key=lambda m: abs(m.to.x - m.capture_target.x)  # type: ignore
               + abs(m.to.y - m.capture_target.y))  # type: ignore[union-attr]


def run_vector(vector: Vector) -> tuple[WireState, WireState]:
    """Steps 2-5 of the harness; returns (input state, resulting state) as wire states.

    The input move is applied trusting its region payload, as the reference engines
    do (wire-format §5.2, §10.8); continuations and bookkeeping moves come from the
    engine's own legal moves.
    """
    from ringrift.game import engine
    from ringrift.game.state import GameState

    before = input_state(vector)
    state = GameState.from_wire(before)
    state = engine.apply_move(state, input_move(vector), trust_region_payload=True)
    expected = vector.expected
    want_phase = expected["assertions"].get("currentPhase")
    awaiting = expected.get("status") == "awaiting_decision"
    if state.phase == "chain_capture" and want_phase != "chain_capture" and not awaiting:
        plan = vector.raw["input"].get("expectedChainSequence") or []
        for step in range(1, _MAX_STEPS + 1):  # plan entry 0 is the input move
            if state.phase != "chain_capture":
                break
            move = _chain_choice(engine.legal_moves(state), plan, step)
            if move is None:
                break
            state = engine.apply_move(state, move)
    if want_phase not in _DECISION_PHASES and not awaiting:
        for _ in range(_MAX_STEPS):
            if state.is_terminal:
                break
            legal = engine.legal_moves(state)
            if len(legal) != 1 or legal[0].type not in AUTO_BOOKKEEPING_TYPES:
                break
            state = engine.apply_move(state, legal[0])
    return before, state.to_wire()
