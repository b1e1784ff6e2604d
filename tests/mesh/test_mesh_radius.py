"""Radius graphs: hand cases, geodesic metric, bad radii."""

from __future__ import annotations

import math

import pytest
import torch

from gen_pyg.mesh import radius_edges, radius_mesh


def test_radius_hand_case(assert_mesh) -> None:
    # 0 -- 1 at distance 1, 1 -- 2 at 1.5, 0 -- 2 at 2.5; r = 1.5 is inclusive.
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.5, 0.0]])
    mesh = radius_mesh(pos, r=1.5)
    assert_mesh(mesh)
    assert mesh.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert mesh.diameter.tolist() == [2]
    assert radius_edges(pos, r=0.5).size(1) == 0


def test_radius_geodesic() -> None:
    # Three unit vectors, 90 degrees apart pairwise; a fourth at 45 degrees from x and y.
    pos = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0],
                        [1.0, 1.0, 0.0]])  # fmt: skip
    e = radius_edges(pos, r=math.pi / 4 + 1e-6, metric="geodesic")
    assert {(i, j) for i, j in e.t().tolist() if i < j} == {(0, 3), (1, 3)}
    e = radius_edges(pos, r=math.pi, metric="geodesic")  # everything
    assert e.size(1) == 4 * 3


def test_radius_batch_keeps_examples_apart() -> None:
    pos = torch.tensor([[0.0], [0.1], [0.05], [0.2]])
    e = radius_edges(pos, r=1.0, batch=torch.tensor([0, 0, 1, 1]))
    assert e.tolist() == [[0, 1, 2, 3], [1, 0, 3, 2]]


@pytest.mark.parametrize("r", [0.0, -1.0, float("nan"), float("inf")])
def test_radius_must_be_positive(r: float) -> None:
    with pytest.raises(ValueError, match="r must be a positive finite number"):
        radius_edges(torch.rand(4, 2), r)


def test_radius_bad_input() -> None:
    with pytest.raises(TypeError, match="r must be a number"):
        radius_edges(torch.rand(4, 2), "1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="metric must be one of"):
        radius_edges(torch.rand(4, 2), 1.0, metric="manhattan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        radius_edges(torch.tensor([[0.0, float("nan")]]), 1.0)
    with pytest.raises(ValueError, match="zero vector"):
        radius_edges(torch.zeros(2, 3), 1.0, metric="geodesic")
