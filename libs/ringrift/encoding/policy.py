"""The fixed policy index space of each board, and moves to indices and back.

Every board has one index space, the same for 2, 3 and 4 players. Most moves are
anchored on a cell: ``index = plane * H * W + row * W + col`` with ``(row, col)``
the anchor's place in the encoder's grid (hex boards embedded as in
``ringrift.game.geometry``). Moves without a cell take the global slots after the
planes. Plane groups, in order (D movement directions, A line axes):

=================  ===========================  ==========================================
group              planes                       anchor and parameters
=================  ===========================  ==========================================
place              3                            ``to``; placement count 1..3
move               D x (side - 1)               ``from``; direction, distance to ``to``.
                                                ``move_stack``, ``overtaking_capture`` and
                                                ``continue_capture_segment`` share it: a
                                                move ends before the first stack of a ray,
                                                a capture lands beyond it, and the two
                                                capture types belong to different phases.
recovery           D x X                        ``from``; slide direction, rank of the
                                                extraction stack (line exact/Option 1,
                                                fallback, stack strike)
recovery segment   D x A x 4                    ``from``; slide direction, axis of the
                                                collapsed block, place of ``to`` in it
                                                (recovery Option 2)
line               A x (side - Lmin + 1)        the first cell of the collapsed cells along
                                                the axis; axis, number of cells
                                                (``process_line`` and every
                                                ``choose_line_option``)
eliminate          1                            ``to`` (``eliminate_rings_from_stack``)
forced             1                            ``to`` (``forced_elimination``)
territory          5                            the region's lowest cell; rank among the
                                                regions sharing that cell (see below)
=================  ===========================  ==========================================

Global slots: one per move type in ``GLOBAL_TYPES``. ``resign`` and ``timeout`` are
not rules moves and have no index.

Regions of one position can overlap (the engine finds them once per marker
colour and once more bounded by collapsed cells, rules §9.1), so several can
share their lowest cell; a cell lies in at most one region per pass, hence at
most 5 regions share it, ranked by size and then cells.

The extraction rank is the place of the extraction stack among all stacks that
hold a buried ring of the mover, in cell order. Each such stack holds at least one
of the mover's rings, so the rank is below the board's rings per player, and that
is the number of slots X: 18 on square8 and hex8, 72 on square19, 96 on hexagonal.
(Encoder version 1 had 18 everywhere and could not index a square19 or hexagonal
recovery with more than 18 candidate stacks.) Only a ``ringsPerPlayer`` override
above the standard count can exceed it, which raises :class:`EncodingError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding.errors import EncodingError
from ringrift.game.geometry import (
    BOARD_SIZE,
    HEX_DIRS,
    RINGS_PER_PLAYER,
    SQUARE_DIRS,
    Geometry,
    build_geometry,
    line_length,
)
from ringrift.game.move import Move, MoveType, Position
from ringrift.game.state import GameState

SEGMENT_SLOTS = 4
TERRITORY_SLOTS = 5
GLOBAL_TYPES: tuple[MoveType, ...] = (
    MoveType.SKIP_PLACEMENT, MoveType.NO_PLACEMENT_ACTION, MoveType.SWAP_SIDES,
    MoveType.SKIP_CAPTURE, MoveType.NO_MOVEMENT_ACTION, MoveType.SKIP_RECOVERY,
    MoveType.NO_LINE_ACTION, MoveType.SKIP_TERRITORY_PROCESSING, MoveType.NO_TERRITORY_ACTION,
)
_MOVE_TYPES = frozenset({MoveType.MOVE_STACK, MoveType.OVERTAKING_CAPTURE,
                         MoveType.CONTINUE_CAPTURE_SEGMENT})
_CELL_TYPES = {MoveType.ELIMINATE_RINGS_FROM_STACK: "eliminate",
               MoveType.FORCED_ELIMINATION: "forced"}


@dataclass(frozen=True, eq=False)
class PolicyLayout:
    """Plane offsets and sizes of one board's index space (see the module docstring)."""

    geometry: Geometry
    num_dirs: int
    num_axes: int
    max_dist: int
    min_line: int
    line_lengths: int
    extraction_slots: int
    """Recovery extraction ranks: the board's rings per player (see the module docstring)."""

    @property
    def cells_per_plane(self) -> int:
        return self.geometry.height * self.geometry.width

    # Plane offsets of each group, in the documented order.
    @property
    def place(self) -> int:
        return 0

    @property
    def move(self) -> int:
        return 3

    @property
    def recovery(self) -> int:
        return self.move + self.num_dirs * self.max_dist

    @property
    def segment(self) -> int:
        return self.recovery + self.num_dirs * self.extraction_slots

    @property
    def line(self) -> int:
        return self.segment + self.num_dirs * self.num_axes * SEGMENT_SLOTS

    @property
    def eliminate(self) -> int:
        return self.line + self.num_axes * self.line_lengths

    @property
    def forced(self) -> int:
        return self.eliminate + 1

    @property
    def territory(self) -> int:
        return self.eliminate + 2

    @property
    def num_planes(self) -> int:
        return self.territory + TERRITORY_SLOTS

    @property
    def size(self) -> int:
        return self.num_planes * self.cells_per_plane + len(GLOBAL_TYPES)

    @property
    def directions(self) -> tuple[tuple[int, ...], ...]:
        return HEX_DIRS if self.geometry.is_hex else SQUARE_DIRS

    def axis_vector(self, axis: int) -> tuple[int, ...]:
        return self.directions[int(self.geometry.line_dirs[axis])]

    def index(self, plane: int, cell: int) -> int:
        """The index of ``plane`` anchored on engine cell ``cell``."""
        geo = self.geometry
        return (plane * self.cells_per_plane + int(geo.cell_row[cell]) * geo.width
                + int(geo.cell_col[cell]))

    def global_index(self, move_type: MoveType) -> int:
        return self.num_planes * self.cells_per_plane + GLOBAL_TYPES.index(move_type)

    def order_dependent(self, indices: np.ndarray) -> np.ndarray:
        """Which ``indices`` are defined by cell order, which board symmetries do not keep:
        territory decisions (anchored on a region's lowest cell) and recovery slides with an
        extraction rank above 0 (present whenever a slide has several extraction choices)."""
        plane = np.asarray(indices) // self.cells_per_plane
        recovery = (plane >= self.recovery) & (plane < self.segment)
        rank = (plane - self.recovery) % self.extraction_slots
        territory = (plane >= self.territory) & (plane < self.num_planes)
        return territory | (recovery & (rank > 0))

    def anchor(self, index: int) -> tuple[int, int]:
        """``(plane, cell)`` of a cell-anchored index; cell is -1 off the board, plane -1
        for a global slot."""
        plane, rest = divmod(index, self.cells_per_plane)
        if plane >= self.num_planes:
            return -1, -1
        row, col = divmod(rest, self.geometry.width)
        return plane, int(self.geometry.grid_index[row, col])

    # -- moves to indices ------------------------------------------------------------
    def coords(self, cell: int) -> tuple[int, ...]:
        geo = self.geometry
        if geo.is_hex:
            return int(geo.cell_x[cell]), int(geo.cell_y[cell]), int(geo.cell_z[cell])
        return int(geo.cell_x[cell]), int(geo.cell_y[cell])

    def cell(self, pos: Position | None) -> int:
        if pos is None:
            raise EncodingError("move lacks a position the encoder needs")
        cell = self.geometry.index_of(pos.x, pos.y, pos.z)
        if cell < 0:
            raise EncodingError(f"position {pos.key} is not on a {self.geometry.board_type} board")
        return cell

    def step(self, a: int, b: int) -> tuple[int, int]:
        """Direction index and distance from cell ``a`` to cell ``b`` on a common ray."""
        delta = [q - p for p, q in zip(self.coords(a), self.coords(b), strict=True)]
        dist = (sum(abs(v) for v in delta) // 2 if self.geometry.is_hex
                else max(abs(v) for v in delta))
        unit = tuple(v // dist for v in delta) if dist else ()
        if dist == 0 or unit not in self.directions or any(v % dist for v in delta):
            raise EncodingError("cells are not on a common ray")
        return self.directions.index(unit), dist

    def run(self, cells: tuple[int, ...]) -> tuple[int, int, int]:
        """A straight run of cells as ``(first cell along its axis, axis, length)``."""
        if len(cells) < 2:
            raise EncodingError("a line needs at least two cells")
        d, _ = self.step(cells[0], cells[1])
        unit = self.directions[d]
        for axis in range(self.num_axes):
            vec = self.axis_vector(axis)
            if vec == unit or tuple(-v for v in vec) == unit:
                first = min(cells, key=lambda c: sum(
                    p * v for p, v in zip(self.coords(c), vec, strict=True)))
                return first, axis, len(cells)
        raise EncodingError("cells do not lie along a line axis")

    def move_to_index(self, state: GameState, move: Move) -> int:
        """The index of ``move`` (a legal move of ``state``); see the module docstring.

        Raises:
            EncodingError: a meta move (resign, timeout) or a move off this board.
        """
        t = move.type
        if t in GLOBAL_TYPES:
            return self.global_index(t)
        if t is MoveType.PLACE_RING:
            return self.index(self.place + (move.placement_count or 1) - 1, self.cell(move.to))
        if t in _MOVE_TYPES:
            origin = self.cell(move.from_pos)
            d, dist = self.step(origin, self.cell(move.to))
            return self.index(self.move + d * self.max_dist + dist - 1, origin)
        if t is MoveType.RECOVERY_SLIDE:
            return self._recovery_index(state, move)
        if t in (MoveType.PROCESS_LINE, MoveType.CHOOSE_LINE_OPTION):
            cells = move.collapsed_markers or (move.line.positions if move.line else ())
            first, axis, length = self.run(tuple(self.cell(p) for p in cells))
            return self.index(self.line + axis * self.line_lengths + length - self.min_line,
                              first)
        if t is MoveType.CHOOSE_TERRITORY_OPTION:
            anchor, slot = territory_slot(self.geometry, state, move)
            return self.index(self.territory + slot, anchor)
        if t in _CELL_TYPES:
            return self.index(getattr(self, _CELL_TYPES[t]), self.cell(move.to))
        raise EncodingError(f"{t.value} is not a rules move and has no policy index")

    def _recovery_index(self, state: GameState, move: Move) -> int:
        origin = self.cell(move.from_pos)
        d, dist = self.step(origin, self.cell(move.to))
        if dist != 1:
            raise EncodingError("a recovery slide moves one step")
        if move.recovery_option == 2 and move.collapse_positions:
            cells = tuple(self.cell(p) for p in move.collapse_positions)
            first, axis, _ = self.run(cells)
            _, offset = (0, 0) if first == self.cell(move.to) else self.step(
                first, self.cell(move.to))
            plane = self.segment + (d * self.num_axes + axis) * SEGMENT_SLOTS + offset
            return self.index(plane, origin)
        if not move.extraction_stacks:
            raise EncodingError("a recovery slide must name its extraction stack")
        rank = extraction_rank(state, self.geometry.index_of_key(move.extraction_stacks[0]))
        if rank >= self.extraction_slots:
            raise EncodingError(
                f"more than {self.extraction_slots} stacks hold buried rings of the mover "
                "(a ringsPerPlayer override above the board's standard count)")
        return self.index(self.recovery + d * self.extraction_slots + rank, origin)


def territory_slot(geo: Geometry, state: GameState, move: Move) -> tuple[int, int]:
    """``(anchor cell, slot)`` of a territory decision (see the module docstring)."""
    from ringrift.game.engine import legal_moves

    def cells_of(m: Move) -> tuple[int, ...]:
        if m.region is None:
            raise EncodingError("a territory decision must carry its region")
        return tuple(sorted(geo.index_of(p.x, p.y, p.z) for p in m.region.spaces))

    own = cells_of(move)
    sharing = sorted({r for r in (cells_of(m) for m in legal_moves(state)
                                  if m.type is MoveType.CHOOSE_TERRITORY_OPTION)
                      if r[0] == own[0]} | {own}, key=lambda r: (len(r), r))
    slot = sharing.index(own)
    if slot >= TERRITORY_SLOTS:
        raise EncodingError(f"more than {TERRITORY_SLOTS} territory regions share a first cell")
    return own[0], slot


def extraction_rank(state: GameState, cell: int) -> int:
    """Rank of ``cell`` among the stacks holding a buried ring of the mover, in cell order."""
    player = state.current_player
    heights = state.stack_height
    rank = 0
    for c in np.flatnonzero(heights >= 2):
        if c == cell:
            break
        if player in state.stack_rings(int(c))[1:]:
            rank += 1
    else:
        raise EncodingError("the extraction stack holds no buried ring of the mover")
    return rank


@cache
def layout_for(board_type: str) -> PolicyLayout:
    """The index space of a board type (standard size)."""
    geo = build_geometry(board_type, BOARD_SIZE[board_type])
    min_line = min(line_length(board_type, n) for n in (2, 3, 4))
    side = geo.height
    return PolicyLayout(geometry=geo, num_dirs=geo.num_dirs, num_axes=len(geo.line_dirs),
                        max_dist=side - 1, min_line=min_line,
                        line_lengths=side - min_line + 1,
                        extraction_slots=RINGS_PER_PLAYER[board_type])


def layout_of(config: GameConfig) -> PolicyLayout:
    return layout_for(config.board_type)
