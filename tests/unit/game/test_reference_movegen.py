"""The compiled move generator against a slow, independent reading of the rules.

``_reference_moves`` re-implements placement (rules §5.1 with no-dead-placement),
non-capture movement (§6.1) and capture segments (§7.1) directly on wire coordinates,
with no lookup tables, and the test compares its move sets with the engine's on
positions reached by seeded random play on square and hex boards.
"""

from __future__ import annotations

import random

import pytest

from ringrift.configs import GameConfig
from ringrift.game import GameState, MoveType, apply_move, initial_state, legal_moves
from ringrift.game.geometry import HEX_DIRS, SQUARE_DIRS


def _board(state: GameState):
    wire = state.to_wire()
    stacks = {}
    for stack in wire.stacks.values():
        p = stack.position
        stacks[(p.x, p.y)] = (stack.stack_height, stack.cap_height, stack.controlling_player)
    markers = {(wire.marker_positions[k].x, wire.marker_positions[k].y): v
               for k, v in wire.markers.items()}
    collapsed = {(wire.collapsed_positions[k].x, wire.collapsed_positions[k].y)
                 for k in wire.collapsed}
    return wire, stacks, markers, collapsed


def _on_board(state: GameState, x: int, y: int) -> bool:
    geo = state.geometry
    if geo.is_hex:
        r = geo.radius
        return max(abs(x), abs(y), abs(x + y)) <= r
    return 0 <= x < geo.size and 0 <= y < geo.size


def _segments(state, stacks, collapsed, origin, height, cap):
    """Non-capture destinations and capture (target, landing) pairs of a stack on ``origin``."""
    dirs = [(d[0], d[1]) for d in (HEX_DIRS if state.geometry.is_hex else SQUARE_DIRS)]
    moves, captures = set(), set()
    for dx, dy in dirs:
        x, y = origin
        dist = 0
        target = None
        while True:
            x, y, dist = x + dx, y + dy, dist + 1
            if not _on_board(state, x, y) or (x, y) in collapsed:
                break
            if (x, y) in stacks:
                if target is not None or stacks[(x, y)][1] > cap:
                    break
                target = (x, y)
                continue
            if dist >= height:
                if target is None:
                    moves.add((x, y))
                else:
                    captures.add((target, (x, y)))
    return moves, captures


def _reference_moves(state: GameState) -> set[tuple]:
    wire, stacks, markers, collapsed = _board(state)
    player = state.current_player
    out: set[tuple] = set()
    if state.phase == "ring_placement":
        hand = wire.player(player).rings_in_hand
        mine = sum(ring == player for s in wire.stacks.values() for ring in s.rings)
        supply = state.rings_per_player - mine
        geo = state.geometry
        for cell in range(geo.num_cells):
            x, y = int(geo.cell_x[cell]), int(geo.cell_y[cell])
            if (x, y) in collapsed or (x, y) in markers:
                continue
            top = 1 if (x, y) in stacks else 3
            for count in range(1, min(top, hand, supply) + 1):
                if (x, y) in stacks:
                    h, cap, owner = stacks[(x, y)]
                    shape = (h + count, cap + count if owner == player else count)
                else:
                    shape = (count, count)
                others = {k: v for k, v in stacks.items() if k != (x, y)}
                moves, captures = _segments(state, others, collapsed, (x, y), *shape)
                if moves or captures:
                    out.add(("place", x, y, count))
    elif state.phase == "movement":
        must = state.must_move_from
        for (x, y), (h, cap, owner) in stacks.items():
            if owner != player:
                continue
            if must is not None and state.geometry.index_of(x, y) != must:
                continue
            others = {k: v for k, v in stacks.items() if k != (x, y)}
            moves, captures = _segments(state, others, collapsed, (x, y), h, cap)
            out |= {("move", x, y, tx, ty) for tx, ty in moves}
            out |= {("capture", x, y, t, land) for t, land in captures}
    return out


def _engine_moves(state: GameState) -> set[tuple]:
    out: set[tuple] = set()
    for m in legal_moves(state):
        if m.type is MoveType.PLACE_RING:
            out.add(("place", m.to.x, m.to.y, m.placement_count))
        elif m.type is MoveType.MOVE_STACK:
            out.add(("move", m.from_pos.x, m.from_pos.y, m.to.x, m.to.y))
        elif m.type is MoveType.OVERTAKING_CAPTURE:
            out.add(("capture", m.from_pos.x, m.from_pos.y,
                     (m.capture_target.x, m.capture_target.y), (m.to.x, m.to.y)))
    return out


@pytest.mark.parametrize("key", ["square8_2p", "hex8_3p", "square8_4p"])
def test_generator_matches_the_reference(key: str) -> None:
    checked = 0
    for seed in range(3):
        rng = random.Random(seed)
        state = initial_state(GameConfig.parse(key))
        while not state.is_terminal:
            if state.phase in ("ring_placement", "movement"):
                assert _engine_moves(state) == _reference_moves(state), (seed, state.move_count)
                checked += 1
            state = apply_move(state, rng.choice(legal_moves(state)))
    assert checked > 100
