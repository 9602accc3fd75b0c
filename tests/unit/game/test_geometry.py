"""Board geometry: cell counts, hex embedding, rays and adjacency tables (rules §1)."""

from __future__ import annotations

import pytest

from ringrift.game.geometry import build_geometry


@pytest.mark.parametrize(("board", "size", "cells", "dirs"), [
    ("square8", 8, 64, 8), ("square19", 19, 361, 8), ("hex8", 9, 61, 6),
    ("hexagonal", 25, 469, 6), ("hexagonal", 13, 127, 6),
])
def test_cell_counts_and_directions(board: str, size: int, cells: int, dirs: int) -> None:
    geo = build_geometry(board, size)
    assert geo.num_cells == cells
    assert geo.num_dirs == dirs
    assert int(geo.valid_mask.sum()) == cells
    assert geo.valid_mask.shape == (geo.height, geo.width)


def test_grid_embedding_round_trips() -> None:
    geo = build_geometry("hex8", 9)
    for cell in range(geo.num_cells):
        assert geo.grid_index[geo.cell_row[cell], geo.cell_col[cell]] == cell
    assert geo.index_of(0, 0, 0) == geo.index_of_key("0,0,0") == geo.index_of_key("0,0")
    assert geo.index_of(5, 0, -5) == -1


def test_rays_stop_at_the_edge() -> None:
    geo = build_geometry("square8", 8)
    corner = geo.index_of(0, 0)
    lengths = sorted(int(n) for n in geo.ray_len[corner])
    assert lengths == [0, 0, 0, 0, 0, 7, 7, 7]
    east = geo.index_of(1, 0)
    assert geo.rays[corner, 0, 0] == east


def test_adjacency_kinds() -> None:
    square = build_geometry("square8", 8)
    centre = square.index_of(3, 3)
    assert int((square.territory_nbrs[centre] >= 0).sum()) == 4  # von Neumann
    assert int((square.step_nbrs[centre] >= 0).sum()) == 8  # Moore
    hexa = build_geometry("hex8", 9)
    origin = hexa.index_of(0, 0, 0)
    assert int((hexa.territory_nbrs[origin] >= 0).sum()) == 6
    assert hexa.distance(origin, hexa.index_of(2, -1, -1)) == 2
