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

# Reasons shared by several vectors of EXPECTED_FAILURES below.
_WRONG_PLAYER = ("the move is by player 1 while currentPlayer is 2 (rules §4.2, wire-format §5.1: "
                 "player must equal currentPlayer); PY lists this vector as stale (§10.6)")
_NO_REGION = ("the move names no region and the position has no processable region, so no "
              "choose_territory_option is legal (rules §4.3); the expected no-op is the reference "
              "engines' unvalidated apply path (§4.4)")
_ONE_PLAYER = ("a one-player state: the rules define games of 2-4 players (rules §0.2, §1.1), and "
               "the engine refuses to build it")
_VICTORY_TIMING = ("expects the game to end right after choose_territory_option (PY checks victory "
                   "after every move); the rules evaluate victory at turn end (rules §12.1, §16 D3) "
                   "and the mandatory self-elimination keeps the turn open")

# (test, vector id) -> why the vector contradicts the rules document. Tests: "wire"
# (test_contract_vectors.py) and "engine" (test_contract_engine.py). Strict: when a vector
# starts passing, its entry must go. Vectors are never edited.
EXPECTED_FAILURES: dict[tuple[str, str], str] = {
    ("wire", "territory.forced_elimination.simple_hexagonal"):
        "its stack at (3,3,0) is not a hex cell: x + y + z = 6, but cube coordinates sum to 0 "
        "(rules §1.2, wire-format §1.1); PY lists the vector as stale (§10.6)",
    ("engine", "territory.forced_elimination.simple_hexagonal"):
        "its input state has a cell that is not on a hex board (see the wire entry)",
    ("engine", "chain_capture.depth3.segment2.hexagonal"):
        "the input phase is line_processing but the move is a continue_capture_segment, which "
        "exists only in chain_capture (rules §4.2); PY lists the vector as stale (§10.6)",
    ("engine", "forced_elimination.monotone_chain.step1.square8"): _ONE_PLAYER,
    ("engine", "forced_elimination.monotone_chain.step2.square8"): _ONE_PLAYER,
    ("engine", "forced_elimination.monotone_chain.final.square8"): _ONE_PLAYER,
    ("engine", "forced_elimination.anm_guard.hexagonal"): _ONE_PLAYER,
    ("engine", "territory.forced_elimination.simple_square8"): _WRONG_PLAYER,
    ("engine", "territory.hex_region_then_elim.step2_elim"): _WRONG_PLAYER,
    ("engine", "territory.square_region_then_elim.step2_elim"): _WRONG_PLAYER,
    ("engine", "territory.square_two_regions_then_elim.step2_regionA"): _WRONG_PLAYER,
    ("engine", "territory.square19_two_regions_then_elim.step2_regionA"): _WRONG_PLAYER,
    ("engine", "territory.hex_two_regions_then_elim.step2_regionA"): _WRONG_PLAYER,
    ("engine", "forced_elimination.territory_no_host_fe.square8"): _NO_REGION,
    ("engine", "hex_edge_case.corner_region.case1.hexagonal"): _NO_REGION,
    ("engine", "territory_line.single_point_swing.square19"): _NO_REGION,
    ("engine", "territory_line.decision_auto_exit.square8"): _NO_REGION,
    ("engine", "near_victory_territory.process.single_region"): _VICTORY_TIMING,
    ("engine", "near_victory_territory.process.multi_cell_region"): _VICTORY_TIMING,
    ("engine", "territory_processing.mizw0rb1.wpbd"): _VICTORY_TIMING,
    ("engine", "meta.swap_sides.after_p1_first_move.square8"):
        "swap_sides in movement without rulesOptions.swapRuleEnabled: the pie rule is offered "
        "only when enabled, to player 2 in ring_placement (rules §13, §16 D11); TS rejects it",
    ("engine", "recovery.exact_length_option1"):
        "every player holds 0 rings in hand; after the slide player 1's last buried ring is "
        "extracted and player 3 has no ring anywhere, so player 2 wins as the only player with "
        "material (rules §12.2). The expected 'active' holds only under PY's reader defect that "
        "reads ringsInHand 0 as 18 (wire-format §4.5, §10.8); PY lists it as stale",
    ("engine", "recovery.overlength_option1"):
        "as recovery.exact_length_option1: expects 'active' only because PY's reader turns "
        "ringsInHand 0 into 18 (wire-format §4.5, §10.8); by the rules player 2 wins (§12.2)",
    ("engine", "recovery.fallback_reposition"):
        "as recovery.exact_length_option1: expects 'active' only because PY's reader turns "
        "ringsInHand 0 into 18 (wire-format §4.5, §10.8); by the rules player 2 wins (§12.2)",
    ("engine", "multi_phase.placement_capture_line"):
        "expects S +4 from a line reward taken with a 'zero-collapse option' (its description); "
        "the rules have no such option (§8.2: both options collapse markers) and the harness "
        "chain rule (§10.4 step 4) reaches S +2; PY skips multi_phase vectors",
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


@dataclass
class Run:
    """The outcome of one vector: input and result as wire states, and how the move applied."""

    before: WireState
    after: WireState
    untrusted_error: str | None
    """Why the engine refused the input move as illegal, when only the trusted path took it."""


def run_vector(vector: Vector) -> Run:
    """Steps 2-5 of the harness.

    The input move goes through the engine's validated ``apply_move`` first; a move the
    rules call illegal is then applied through the trusted path that mirrors the
    reference engines' unvalidated apply (``trust_payload``, wire-format §5.4, §10.8),
    which is what the PY runner does, and the refusal is kept in ``untrusted_error``.
    Continuations and bookkeeping moves come from the engine's own legal moves.
    """
    from ringrift.game import engine
    from ringrift.game.errors import IllegalMoveError
    from ringrift.game.state import GameState

    before = input_state(vector)
    state = GameState.from_wire(before)
    move = input_move(vector)
    untrusted_error = None
    try:
        state = engine.apply_move(state, move)
    except IllegalMoveError as error:
        untrusted_error = str(error)
        state = engine.apply_move(state, move, trust_payload=True)
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
    return Run(before, state.to_wire(), untrusted_error)
