"""Region detection against an independent reading of rules §9.1.

``_reference_regions`` follows the two passes of the rules text on wire coordinates
(marker-bordered components per marker colour, then collapse-bordered components with
exactly one controller; a region's controllers must be a strict subset of the players
owning any ring on the board). The engine's regions must be the same cell sets on
positions from seeded random play, where regions arise in most games.
"""

from __future__ import annotations

import random

import pytest

from ringrift.configs import GameConfig
from ringrift.game import GameState, apply_move, initial_state, legal_moves
from ringrift.game.territory import find_regions

SQUARE_NBRS = ((1, 0), (-1, 0), (0, 1), (0, -1))
HEX_NBRS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1))


def _reference_regions(state: GameState) -> set[frozenset[str]]:
    wire = state.to_wire()
    geo = state.geometry
    cells = {(int(geo.cell_x[c]), int(geo.cell_y[c])): geo.keys[c] for c in range(geo.num_cells)}
    by_key = {v: k for k, v in cells.items()}
    owner = {by_key[k]: s.controlling_player for k, s in wire.stacks.items()}
    if not owner:
        return set()
    active = {ring for s in wire.stacks.values() for ring in s.rings}
    markers = {by_key[k]: p for k, p in wire.markers.items()}
    collapsed = {by_key[k] for k in wire.collapsed}
    nbrs = HEX_NBRS if geo.is_hex else SQUARE_NBRS

    def components(open_cells: set) -> list[set]:
        seen: set = set()
        out = []
        for start in sorted(open_cells):
            if start in seen:
                continue
            comp, todo = {start}, [start]
            seen.add(start)
            while todo:
                x, y = todo.pop()
                for dx, dy in nbrs:
                    nb = (x + dx, y + dy)
                    if nb in open_cells and nb not in seen:
                        seen.add(nb)
                        comp.add(nb)
                        todo.append(nb)
            out.append(comp)
        return out

    found: set[frozenset[str]] = set()
    for colour in sorted(set(markers.values())):
        open_cells = {c for c in cells if c not in collapsed and markers.get(c) != colour}
        for comp in components(open_cells):
            colours = {owner[c] for c in comp if c in owner}
            if colours < active:
                found.add(frozenset(cells[c] for c in comp))
    for comp in components({c for c in cells if c not in collapsed}):
        colours = {owner[c] for c in comp if c in owner}
        if len(colours) == 1 and colours < active:
            found.add(frozenset(cells[c] for c in comp))
    return found


def _engine_regions(state: GameState) -> set[frozenset[str]]:
    geo = state.geometry
    flat, offsets = find_regions(state.board, state.rings, geo.territory_nbrs, state.num_players)
    return {frozenset(geo.keys[c] for c in flat[offsets[r]:offsets[r + 1]])
            for r in range(len(offsets) - 1)}


@pytest.mark.parametrize("key", ["square8_2p", "square8_3p", "hex8_2p", "hex8_4p"])
def test_regions_match_the_reference(key: str) -> None:
    with_regions = 0
    for seed in range(4):
        rng = random.Random(seed)
        state = initial_state(GameConfig.parse(key))
        while not state.is_terminal:
            if state.phase in ("line_processing", "territory_processing"):
                expected = _reference_regions(state)
                assert _engine_regions(state) == expected, (seed, state.move_count)
                with_regions += bool(expected)
            state = apply_move(state, rng.choice(legal_moves(state)))
    assert with_regions > 0
