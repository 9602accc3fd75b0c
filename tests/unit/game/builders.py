"""Small factories for rules-engine tests: a position from a few readable arguments."""

from __future__ import annotations

from typing import Any

from ringrift.game import GameState, Move, MoveType, legal_moves
from ringrift.game.move import Position
from ringrift.game.wire import state_from_json

RINGS = {"square8": 18, "square19": 72, "hex8": 18, "hexagonal": 96}
SIZES = {"square8": 8, "square19": 19, "hex8": 9, "hexagonal": 25}


def _pos(key: str) -> dict[str, int]:
    parts = [int(v) for v in key.split(",")]
    out = {"x": parts[0], "y": parts[1]}
    if len(parts) == 3:
        out["z"] = parts[2]
    return out


def make_state(*, board: str = "square8", players: int = 2, current: int = 1,
               phase: str = "ring_placement", stacks: dict[str, list[int]] | None = None,
               markers: dict[str, int] | None = None, collapsed: dict[str, int] | None = None,
               hand: list[int] | None = None, eliminated: list[int] | None = None,
               history: list[dict[str, Any]] | None = None, **extra: Any) -> GameState:
    """A state from top-first ring lists keyed by position key (contract form)."""
    hand = hand if hand is not None else [RINGS[board]] * players
    eliminated = eliminated or [0] * players
    territory = [0] * players
    for owner in (collapsed or {}).values():
        territory[owner - 1] += 1
    doc = {
        "board": {
            "type": board, "size": extra.pop("size", SIZES[board]),
            "stacks": {k: {"position": _pos(k), "rings": r, "stackHeight": len(r),
                           "capHeight": _cap(r), "controllingPlayer": r[0]}
                       for k, r in (stacks or {}).items()},
            "markers": {k: {"position": _pos(k), "player": p, "type": "regular"}
                        for k, p in (markers or {}).items()},
            "collapsedSpaces": dict(collapsed or {}),
            "eliminatedRings": {str(i + 1): e for i, e in enumerate(eliminated)},
        },
        "players": [{"playerNumber": i + 1, "ringsInHand": hand[i],
                     "eliminatedRings": eliminated[i], "territorySpaces": territory[i],
                     "isActive": True} for i in range(players)],
        "currentPlayer": current, "currentPhase": phase, "gameStatus": "active",
        "moveHistory": history or [], "totalRingsEliminated": sum(eliminated),
    }
    doc.update(extra)
    return GameState.from_wire(state_from_json(doc))


def _cap(rings: list[int]) -> int:
    k = 1
    while k < len(rings) and rings[k] == rings[0]:
        k += 1
    return k


def P(key: str) -> Position:  # noqa: N802 - reads like the rules' notation
    parts = [int(v) for v in key.split(",")]
    return Position(*parts)


def moves_of(state: GameState, kind: MoveType) -> list[Move]:
    return [m for m in legal_moves(state) if m.type is kind]


def only(state: GameState, kind: MoveType) -> Move:
    """The single legal move of ``kind`` (fails if there is not exactly one)."""
    found = moves_of(state, kind)
    assert len(found) == 1, [m.describe() for m in legal_moves(state)]
    return found[0]


def types(state: GameState) -> set[str]:
    return {m.type.value for m in legal_moves(state)}
