"""Bilinear on a grid mesh given without its metadata (``Data(pos=mesh.pos, edge_index=...)``,
as the concepts page builds examples): the grid is read from the node positions, exactly the
metadata gen_pyg.mesh.grid makes, so the weights are the same; a mesh whose nodes are not a
grid in C order is refused with what to pass instead, never misread."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from gen_pyg.mesh import grid, halton
from gen_pyg.nn import Bilinear
from gen_pyg.nn.bilinear import grid_from_positions


def _linear(p: torch.Tensor) -> torch.Tensor:
    return 2.0 * p[:, 0] - 3.0 * p[:, 1] + 1.0


def test_the_grid_is_read_from_the_node_positions() -> None:
    mesh = grid((3, 4), bounds=(-1.0, 2.0))
    meta = grid_from_positions(mesh.pos, torch.zeros(12, dtype=torch.long))
    assert torch.equal(meta.grid_shape, mesh.grid_shape)
    assert torch.equal(meta.grid_lo, mesh.grid_lo) and torch.equal(meta.grid_hi, mesh.grid_hi)
    points = torch.tensor([[-0.25, 0.5], [1.9, -1.0], [0.0, 2.0], [0.7, 1.3]])
    given = Bilinear()(points, mesh.pos, mesh=mesh)
    read = Bilinear()(points, mesh.pos)  # no metadata: was "Bilinear needs a regular grid mesh"
    for a, b in zip(given, read, strict=True):
        assert torch.equal(a, b)
    # bilinear interpolation reproduces a linear function exactly
    row, col, w = read
    interpolated = torch.zeros(4).index_add_(0, row, w * _linear(mesh.pos)[col])
    torch.testing.assert_close(interpolated, _linear(points))


def test_a_batch_of_grids_of_different_shapes_without_metadata() -> None:
    a, b = grid(2), grid((3, 5), bounds=(0.5, 3.0))
    pos = torch.cat([a.pos, b.pos])
    node_batch = torch.tensor([0] * 4 + [1] * 15)
    points = torch.tensor([[0.2, 0.9], [1.0, 2.5], [2.9, 0.6]])
    point_batch = torch.tensor([0, 1, 1])
    meta = grid_from_positions(pos, node_batch)
    assert meta.grid_shape.tolist() == [[2, 2], [3, 5]]
    assert meta.grid_lo.tolist() == [[0.0, 0.0], [0.5, 0.5]]
    assert meta.grid_hi.tolist() == [[1.0, 1.0], [3.0, 3.0]]
    row, col, w = Bilinear()(points, pos, point_batch, node_batch)
    interpolated = torch.zeros(3).index_add_(0, row, w * _linear(pos)[col])
    torch.testing.assert_close(interpolated, _linear(points))
    assert bool((node_batch[col] == point_batch[row]).all())  # each point on its own grid


def test_a_mesh_that_is_not_a_grid_is_refused_with_what_to_pass() -> None:
    points = torch.rand(3, 2)
    scattered = halton(12)
    with pytest.raises(ValueError, match=r"no grid_shape, grid_lo and grid_hi: keep the grid "
                                         r"metadata of gen_pyg\.mesh\.grid with the mesh: "
                                         r"Data\(\*\*mesh\.to_dict\(\).*not a full grid"):
        Bilinear()(points, scattered.pos)
    mesh = grid(3)
    shuffled = mesh.pos[torch.tensor([1, 0, 2, 3, 4, 5, 6, 7, 8])]  # a grid, not in C order
    with pytest.raises(ValueError, match=r"grids of shapes \[\[3, 3\]\] but are not numbered "
                                         r"in C order"):
        Bilinear()(points, shuffled)
    with pytest.raises(ValueError, match=r"has \['grid_shape'\] but not \['grid_lo', "
                                         r"'grid_hi'\]; keep the grid metadata"):
        Bilinear()(points, mesh.pos, mesh=Data(grid_shape=mesh.grid_shape))
    with pytest.raises(ValueError, match=r"example 0 has 1 mesh node\(s\), not a grid"):
        Bilinear()(points, torch.zeros(1, 2))
