"""Board geometry: cells as flat indices, their square-grid embedding, and lookup tables.

Every board is a set of cells numbered ``0 .. num_cells - 1``. Each cell has a
``(row, col)`` in a ``height x width`` grid (the encoder's image), a wire
position (``x, y`` or cube ``x, y, z``) and a position key (``"x,y"`` /
``"x,y,z"``). Square boards use ``row = y, col = x``. Hex boards of radius ``r``
are embedded in a ``(2r+1) x (2r+1)`` grid with ``row = y + r, col = x + r``;
``valid_mask`` marks the cells that exist (``|x|, |y|, |z| <= r``).

The rules never do coordinate arithmetic at play time: they walk precomputed
tables, built once per (board type, size) and shared by every state:

- ``rays[c, d, k]``: the cell ``k + 1`` steps from ``c`` in movement direction
  ``d`` (8 Moore directions on square boards, 6 on hex boards), ``-1`` past the
  edge; ``ray_len[c, d]`` counts the valid ones.
- ``line_dirs``: the direction index of each line axis (4 square, 3 hex);
  ``opposite[d]`` is the reverse direction.
- ``territory_nbrs[c]``: von Neumann neighbours (square) or hex neighbours,
  ``-1``-padded; used for region connectivity.
- ``step_nbrs[c]``: one-step movement neighbours (Moore / hex), used by recovery.
- ``border_nbrs[c]``: the 8 (x, y) offsets the reference engines use to grow the
  set of border markers collapsed with a region (rules §9.7), ``-1``-padded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ringrift.configs import GameConfig

SQUARE_DIRS: tuple[tuple[int, int], ...] = (
    (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1),
)
HEX_DIRS: tuple[tuple[int, int, int], ...] = (
    (1, 0, -1), (0, 1, -1), (-1, 1, 0), (-1, 0, 1), (0, -1, 1), (1, -1, 0),
)
# Line axes, in the order recovery scans them (rules §11.4, TS order E, S, SE, NE).
SQUARE_LINE_AXES: tuple[tuple[int, int], ...] = ((1, 0), (0, 1), (1, 1), (1, -1))
HEX_LINE_AXES: tuple[tuple[int, int, int], ...] = ((1, 0, -1), (1, -1, 0), (0, -1, 1))
_BORDER_OFFSETS: tuple[tuple[int, int], ...] = (
    (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1),
)

# Standard board facts (rules §1.1): wire size, total spaces, rings per player.
BOARD_SIZE = {"square8": 8, "square19": 19, "hex8": 9, "hexagonal": 25}
TOTAL_SPACES = {"square8": 64, "square19": 361, "hex8": 61, "hexagonal": 469}
RINGS_PER_PLAYER = {"square8": 18, "square19": 72, "hex8": 18, "hexagonal": 96}


def line_length(board_type: str, num_players: int) -> int:
    """Effective line length L (rules §1.1): 3 on square8/hex8 with 3-4 players, else 4."""
    if board_type in ("square8", "hex8") and num_players >= 3:
        return 3
    return 4


def victory_threshold(rings_per_player: int, num_players: int) -> int:
    """Ring-elimination threshold round(rings x (N + 1) / 3) (rules §3.2)."""
    return int(round(rings_per_player * (num_players + 1) / 3))


def territory_minimum(total_spaces: int, num_players: int) -> int:
    """Territory victory minimum floor(total / N) + 1 (rules §3.3)."""
    return total_spaces // num_players + 1


@dataclass(frozen=True, eq=False)
class Geometry:
    """Cells and lookup tables of one board; see the module docstring. Read-only."""

    board_type: str
    size: int
    is_hex: bool
    radius: int
    num_cells: int
    height: int
    width: int
    cell_row: np.ndarray
    cell_col: np.ndarray
    cell_x: np.ndarray
    cell_y: np.ndarray
    cell_z: np.ndarray
    valid_mask: np.ndarray
    grid_index: np.ndarray
    keys: tuple[str, ...]
    num_dirs: int
    rays: np.ndarray
    ray_len: np.ndarray
    opposite: np.ndarray
    line_dirs: np.ndarray
    territory_nbrs: np.ndarray
    step_nbrs: np.ndarray
    border_nbrs: np.ndarray
    grow_border: bool

    def index_of_key(self, key: str) -> int:
        """The cell index of a position key, accepting 2-part keys on hex boards; -1 if off-board."""
        return _key_index(self).get(key, -1)

    def index_of(self, x: int, y: int, z: int | None = None) -> int:
        """The cell index of wire coordinates, ``-1`` if the cell is not on this board."""
        if self.is_hex:
            if z is not None and x + y + z != 0:
                return -1
            return self.index_of_key(f"{x},{y},{-x - y}")
        return self.index_of_key(f"{x},{y}")

    def distance(self, a: int, b: int) -> int:
        """Distance along a ray (Chebyshev on square boards, cube distance on hex)."""
        dx = abs(int(self.cell_x[a] - self.cell_x[b]))
        dy = abs(int(self.cell_y[a] - self.cell_y[b]))
        if self.is_hex:
            dz = abs(int(self.cell_z[a] - self.cell_z[b]))
            return (dx + dy + dz) // 2
        return max(dx, dy)


@cache
def _key_index(geo: Geometry) -> dict[str, int]:
    index = {key: i for i, key in enumerate(geo.keys)}
    if geo.is_hex:
        for i in range(geo.num_cells):
            index.setdefault(f"{geo.cell_x[i]},{geo.cell_y[i]}", i)
    return index


def geometry_for(config: GameConfig) -> Geometry:
    """The standard-size geometry of a config's board type."""
    return build_geometry(config.board_type, BOARD_SIZE[config.board_type])


@cache
def build_geometry(board_type: str, size: int) -> Geometry:
    """Build (once, cached) the geometry of ``board_type`` with wire ``board.size`` ``size``.

    Hex boards derive their radius as ``(size - 1) // 2`` (wire-format §10.7: the
    vectors use ``hexagonal`` boards of size 11 and 13).
    """
    is_hex = board_type in ("hex8", "hexagonal")
    coords: list[tuple[int, int, int]] = []
    if is_hex:
        radius = (size - 1) // 2
        side = 2 * radius + 1
        for y in range(-radius, radius + 1):
            for x in range(-radius, radius + 1):
                z = -x - y
                if abs(z) <= radius:
                    coords.append((x, y, z))
        rows = [y + radius for _, y, _ in coords]
        cols = [x + radius for x, _, _ in coords]
        keys = tuple(f"{x},{y},{z}" for x, y, z in coords)
        dirs3 = HEX_DIRS
        axes3 = HEX_LINE_AXES
    else:
        radius = 0
        side = size
        for y in range(size):
            for x in range(size):
                coords.append((x, y, 0))
        rows = [y for _, y, _ in coords]
        cols = [x for x, _, _ in coords]
        keys = tuple(f"{x},{y}" for x, y, _ in coords)
        dirs3 = tuple((dx, dy, 0) for dx, dy in SQUARE_DIRS)
        axes3 = tuple((dx, dy, 0) for dx, dy in SQUARE_LINE_AXES)

    n = len(coords)
    lookup = {(x, y): i for i, (x, y, _) in enumerate(coords)}
    num_dirs = len(dirs3)
    max_len = side - 1
    rays = np.full((n, num_dirs, max_len), -1, dtype=np.int32)
    ray_len = np.zeros((n, num_dirs), dtype=np.int32)
    for i, (x, y, _) in enumerate(coords):
        for d, (dx, dy, _) in enumerate(dirs3):
            k = 0
            cx, cy = x + dx, y + dy
            while (cx, cy) in lookup:
                rays[i, d, k] = lookup[(cx, cy)]
                k += 1
                cx, cy = cx + dx, cy + dy
            ray_len[i, d] = k
    opposite = np.array([(d + num_dirs // 2) % num_dirs for d in range(num_dirs)], dtype=np.int32)
    line_dirs = np.array([dirs3.index(axis) for axis in axes3], dtype=np.int32)
    step_nbrs = rays[:, :, 0].copy() if max_len > 0 else np.full((n, num_dirs), -1, np.int32)

    if is_hex:
        territory_nbrs = step_nbrs.copy()
    else:
        territory_nbrs = np.full((n, 4), -1, dtype=np.int32)
        for i, (x, y, _) in enumerate(coords):
            for j, (dx, dy) in enumerate(((1, 0), (0, 1), (-1, 0), (0, -1))):
                territory_nbrs[i, j] = lookup.get((x + dx, y + dy), -1)
    border_nbrs = np.full((n, 8), -1, dtype=np.int32)
    for i, (x, y, _) in enumerate(coords):
        for j, (dx, dy) in enumerate(_BORDER_OFFSETS):
            border_nbrs[i, j] = lookup.get((x + dx, y + dy), -1)

    grid_index = np.full((side, side), -1, dtype=np.int32)
    for i in range(n):
        grid_index[rows[i], cols[i]] = i
    arrays = [np.array(v, dtype=np.int32) for v in (
        rows, cols, [c[0] for c in coords], [c[1] for c in coords], [c[2] for c in coords])]
    geo = Geometry(
        board_type=board_type, size=size, is_hex=is_hex, radius=radius, num_cells=n,
        height=side, width=side, cell_row=arrays[0], cell_col=arrays[1],
        cell_x=arrays[2], cell_y=arrays[3], cell_z=arrays[4],
        valid_mask=grid_index >= 0, grid_index=grid_index, keys=keys, num_dirs=num_dirs,
        rays=rays, ray_len=ray_len, opposite=opposite, line_dirs=line_dirs,
        territory_nbrs=territory_nbrs, step_nbrs=step_nbrs, border_nbrs=border_nbrs,
        grow_border=board_type != "hexagonal",
    )
    for arr in (geo.cell_row, geo.cell_col, geo.cell_x, geo.cell_y, geo.cell_z, geo.valid_mask,
                geo.grid_index, rays, ray_len, opposite, line_dirs, territory_nbrs, step_nbrs,
                border_nbrs):
        arr.setflags(write=False)
    return geo
