"""Halton meshes: determinism, bounds, Delaunay edges."""

from __future__ import annotations

import pytest
import torch

from gen_pyg.mesh import halton
from gen_pyg.mesh.halton import halton_points


def test_halton_is_deterministic_and_in_bounds(assert_mesh, assert_triangulation) -> None:
    a, b, c = halton(30, seed=4), halton(30, seed=4), halton(30, seed=5)
    assert torch.equal(a.pos, b.pos) and not torch.equal(a.pos, c.pos)
    assert_mesh(a)
    assert_triangulation(a.pos, a.edge_index, a.face)
    mesh = halton(50, dim=3, bounds=((-1.0, 0.0, 2.0), (1.0, 0.5, 3.0)))
    lo, hi = torch.tensor([-1.0, 0.0, 2.0]), torch.tensor([1.0, 0.5, 3.0])
    assert bool(((mesh.pos >= lo) & (mesh.pos <= hi)).all())
    assert mesh.face.size(0) == 4


def test_halton_is_well_spread() -> None:
    # Low discrepancy: every cell of a 4 x 4 partition of the square gets 64 / 16 = 4 points
    # give or take a couple, which uniform random points miss by chance.
    pts = torch.from_numpy(halton_points(64, 2, seed=0))
    cells = (pts * 4).floor().long()
    counts = torch.bincount(cells[:, 0] * 4 + cells[:, 1], minlength=16)
    assert int(counts.min()) >= 2 and int(counts.max()) <= 6


def test_halton_edge_options() -> None:
    assert halton(5, edges="none").num_edges == 0
    assert halton(1).num_edges == 0 and halton(2).num_edges == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "n must be at least 1"),
        ({"n": 5, "dim": 0}, ValueError, "dim must be at least 1"),
        ({"n": 5, "seed": 1.5}, TypeError, "seed must be an int"),
        ({"n": 5, "edges": "voronoi"}, ValueError, "edges must be one of"),
    ],
)
def test_halton_bad_input(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        halton(**kwargs)
