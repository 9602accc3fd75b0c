"""Board symmetries applied consistently to feature planes and to policy indices.

Square boards have the 8 symmetries of the square (rotations by 90 degrees and
reflections); hex boards the 12 of the hexagon (rotations by 60 degrees and
reflections, in cube coordinates). A :class:`Symmetry` carries two permutations:

- ``grid_source``: transformed planes are ``planes.reshape(..., H*W)[..., grid_source]``;
- ``policy_map``: the move with index ``i`` in a position becomes the move with index
  ``policy_map[i]`` in the transformed position.

The policy map follows the geometry of each plane group (see
:mod:`ringrift.encoding.policy`): anchors move with the board, directions and axes
turn with it, and a line or recovery block whose axis is reversed is re-anchored
at its other end. Indices that no move can use (an anchor off the board, a ray
past the edge) are paired among themselves, so the map stays a permutation.
Two parameters are not geometric and are kept as they are: the extraction rank of
a recovery slide and the territory anchor (a region's lowest cell and its rank),
both defined by cell order. The policy map is wrong for them, so positions with
several extraction choices or a territory decision
(:meth:`~ringrift.encoding.policy.PolicyLayout.order_dependent`) are not
transformed: the trainer draws them as they are (:mod:`ringrift.training.batches`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding.policy import (
    GLOBAL_TYPES,
    SEGMENT_SLOTS,
    PolicyLayout,
    layout_of,
)
from ringrift.game.geometry import Geometry, line_length
from ringrift.game.move import Cells, LineInfo, Move, Position, Territory

Matrix = tuple[tuple[int, ...], ...]


@dataclass(frozen=True, eq=False)
class Symmetry:
    """One board symmetry; see the module docstring."""

    name: str
    matrix: Matrix
    cell_map: np.ndarray
    dir_map: np.ndarray
    grid_source: np.ndarray
    policy_map: np.ndarray

    def apply_planes(self, planes: np.ndarray) -> np.ndarray:
        """Transform ``[..., C, H, W]`` planes."""
        shape = planes.shape
        flat = planes.reshape(*shape[:-2], shape[-2] * shape[-1])
        return flat[..., self.grid_source].reshape(shape)

    def apply_indices(self, indices: np.ndarray) -> np.ndarray:
        """Transform policy indices."""
        return self.policy_map[np.asarray(indices)]

    def inverse(self) -> Symmetry:
        """The symmetry that undoes this one."""
        return Symmetry(
            name=f"{self.name}^-1", matrix=_invert(self.matrix),
            cell_map=np.argsort(self.cell_map), dir_map=np.argsort(self.dir_map),
            grid_source=np.argsort(self.grid_source), policy_map=np.argsort(self.policy_map))

    def apply_position(self, geo: Geometry, pos: Position) -> Position:
        cell = geo.index_of(pos.x, pos.y, pos.z)
        target = int(self.cell_map[cell])
        if geo.is_hex:
            return Position(int(geo.cell_x[target]), int(geo.cell_y[target]),
                            int(geo.cell_z[target]))
        return Position(int(geo.cell_x[target]), int(geo.cell_y[target]))


def _invert(matrix: Matrix) -> Matrix:
    # Signed permutation matrices are orthogonal: the inverse is the transpose.
    return tuple(tuple(row[i] for row in matrix) for i in range(len(matrix)))


def _square_matrices() -> list[Matrix]:
    out = []
    for swap in (False, True):
        for sx in (1, -1):
            for sy in (1, -1):
                out.append(((0, sx), (sy, 0)) if swap else ((sx, 0), (0, sy)))
    return out


def _hex_matrices() -> list[Matrix]:
    rotate = ((0, 0, -1), (-1, 0, 0), (0, -1, 0))      # (x, y, z) -> (-z, -x, -y)
    reflect = ((1, 0, 0), (0, 0, 1), (0, 1, 0))        # (x, y, z) -> (x, z, y)
    identity = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    out = []
    for mirror in (identity, reflect):
        current = mirror
        for _ in range(6):
            out.append(current)
            current = _mul(rotate, current)
    return out


def _mul(a: Matrix, b: Matrix) -> Matrix:
    n = len(a)
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(n)) for j in range(n))
                 for i in range(n))


def _apply(matrix: Matrix, vec: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(m * v for m, v in zip(row, vec, strict=True)) for row in matrix)


def _cell_map(layout: PolicyLayout, matrix: Matrix) -> np.ndarray:
    geo = layout.geometry
    out = np.empty(geo.num_cells, dtype=np.int64)
    for cell in range(geo.num_cells):
        if geo.is_hex:
            x, y, z = _apply(matrix, layout.coords(cell))
            out[cell] = geo.index_of(x, y, z)
        else:
            span = geo.size - 1  # doubled coordinates centred on the board's middle
            u, v = (2 * c - span for c in layout.coords(cell))
            x, y = _apply(matrix, (u, v))
            out[cell] = geo.index_of((x + span) // 2, (y + span) // 2)
    return out


@cache
def symmetries(config: GameConfig) -> list[Symmetry]:
    """Every symmetry of the config's board, the identity first."""
    layout = layout_of(config)
    mats = _hex_matrices() if layout.geometry.is_hex else _square_matrices()
    names = ([f"rot{60 * k}" for k in range(6)] + [f"mirror-rot{60 * k}" for k in range(6)]
             if layout.geometry.is_hex else
             ["identity", "flip-y", "flip-x", "rot180", "transpose", "rot90", "rot270",
              "anti-transpose"])
    return [_build(layout, config, name, m) for name, m in zip(names, mats, strict=True)]


def identity_symmetry(config: GameConfig) -> Symmetry:
    return symmetries(config)[0]


def _build(layout: PolicyLayout, config: GameConfig, name: str, matrix: Matrix) -> Symmetry:
    geo = layout.geometry
    cell_map = _cell_map(layout, matrix)
    dirs = layout.directions
    dir_map = np.array([dirs.index(_apply(matrix, d)) for d in dirs], dtype=np.int64)
    axis_map: list[tuple[int, int]] = []
    for axis in range(layout.num_axes):
        image = _apply(matrix, layout.axis_vector(axis))
        for other in range(layout.num_axes):
            vec = layout.axis_vector(other)
            if image in (vec, tuple(-v for v in vec)):
                axis_map.append((other, 1 if image == vec else -1))

    hw = layout.cells_per_plane
    grid_source = np.arange(hw, dtype=np.int64)
    flat = geo.cell_row.astype(np.int64) * geo.width + geo.cell_col
    grid_source[flat[cell_map]] = flat
    mapping = _policy_mapping(layout, line_length(config.board_type, config.num_players),
                              cell_map, dir_map, axis_map)
    return Symmetry(name=name, matrix=matrix, cell_map=cell_map, dir_map=dir_map,
                    grid_source=grid_source, policy_map=mapping)


def _policy_mapping(layout: PolicyLayout, line_len: int, cell_map: np.ndarray,
                    dir_map: np.ndarray, axis_map: list[tuple[int, int]]) -> np.ndarray:
    geo = layout.geometry
    cells = np.arange(geo.num_cells)
    targets = cell_map
    size = layout.size
    mapping = np.full(size, -1, dtype=np.int64)
    flat = geo.cell_row.astype(np.int64) * geo.width + geo.cell_col
    hw = layout.cells_per_plane

    def put(plane: int, new_plane: int, ok: np.ndarray, new_cells: np.ndarray) -> None:
        mapping[plane * hw + flat[cells[ok]]] = new_plane * hw + flat[new_cells[ok]]

    everywhere = np.ones(geo.num_cells, dtype=bool)
    for plane in (0, 1, 2, layout.eliminate, layout.forced,
                  *range(layout.territory, layout.num_planes)):
        put(plane, plane, everywhere, targets)
    step = geo.step_nbrs
    for d in range(layout.num_dirs):
        nd = int(dir_map[d])
        for dist in range(1, layout.max_dist + 1):
            put(layout.move + d * layout.max_dist + dist - 1,
                layout.move + nd * layout.max_dist + dist - 1, geo.ray_len[:, d] >= dist, targets)
        slots = layout.extraction_slots
        for rank in range(slots):
            put(layout.recovery + d * slots + rank, layout.recovery + nd * slots + rank,
                step[:, d] >= 0, targets)
        for axis, (new_axis, sign) in enumerate(axis_map):
            along = int(geo.line_dirs[axis])
            for k in range(min(line_len, SEGMENT_SLOTS)):
                dest = step[:, d]
                ok = dest >= 0
                back = geo.ray_len[np.where(ok, dest, 0), geo.opposite[along]] >= k
                ahead = geo.ray_len[np.where(ok, dest, 0), along] >= line_len - 1 - k
                new_k = k if sign > 0 else line_len - 1 - k
                put(layout.segment + (d * layout.num_axes + axis) * SEGMENT_SLOTS + k,
                    layout.segment + (nd * layout.num_axes + new_axis) * SEGMENT_SLOTS + new_k,
                    ok & back & ahead, targets)
    for axis, (new_axis, sign) in enumerate(axis_map):
        along = int(geo.line_dirs[axis])
        for length in range(layout.min_line, layout.min_line + layout.line_lengths):
            ok = geo.ray_len[:, along] >= length - 1
            starts = targets
            if sign < 0:
                back = int(geo.opposite[int(geo.line_dirs[new_axis])])
                starts = np.where(ok, geo.rays[targets, back, length - 2], 0)
            offset = length - layout.min_line
            put(layout.line + axis * layout.line_lengths + offset,
                layout.line + new_axis * layout.line_lengths + offset, ok, starts)
    first_global = layout.num_planes * hw
    mapping[first_global:] = np.arange(first_global, first_global + len(GLOBAL_TYPES))
    free_sources = np.flatnonzero(mapping < 0)
    used = np.zeros(size, dtype=bool)
    used[mapping[mapping >= 0]] = True
    mapping[free_sources] = np.flatnonzero(~used)
    return mapping


def transform_move(symmetry: Symmetry, geo: Geometry, move: Move) -> Move:
    """``move`` as it reads on the transformed board (every position mapped)."""
    def pos(p: Position | None) -> Position | None:
        return None if p is None else symmetry.apply_position(geo, p)

    def cells(c: tuple[Position, ...]) -> Cells:
        return Cells(symmetry.apply_position(geo, p) for p in c)

    return replace(
        move, to=pos(move.to), from_pos=pos(move.from_pos),
        capture_target=pos(move.capture_target),
        formed_lines=tuple(LineInfo(cells(line.positions), line.player, line.length)
                           for line in move.formed_lines),
        collapsed_markers=cells(move.collapsed_markers),
        disconnected_regions=tuple(Territory(cells(r.spaces), r.controlling_player)
                                   for r in move.disconnected_regions),
        collapse_positions=cells(move.collapse_positions),
        extraction_stacks=tuple(
            geo.keys[int(symmetry.cell_map[geo.index_of_key(k)])] for k in move.extraction_stacks),
    )
