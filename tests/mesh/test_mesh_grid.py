"""Regular grids: node order, metadata, hand-counted nodes/edges/faces, diameters."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch

from gen_pyg.mesh import grid
from gen_pyg.mesh.grid import kuhn_edges, kuhn_simplices, lattice_edges

# A k x k grid has k^2 nodes and 2 k (k - 1) axis-aligned edges (k - 1 per row, k rows, two
# directions). Delaunay (one diagonal per cell) adds (k - 1)^2 edges and gives 2 (k - 1)^2
# triangles.
#   k:        2   3   4   5   6   7
#   nodes:    4   9  16  25  36  49
#   lattice:  4  12  24  40  60  84
#   delaunay: 5  16  33  56  85 120
#   faces:    2   8  18  32  50  72
COUNTS = {
    2: (4, 4, 5, 2),
    3: (9, 12, 16, 8),
    4: (16, 24, 33, 18),
    5: (25, 40, 56, 32),
    6: (36, 60, 85, 50),
    7: (49, 84, 120, 72),
}


@pytest.mark.parametrize("k", sorted(COUNTS))
def test_grid_counts(k: int, assert_mesh, assert_triangulation) -> None:
    nodes, lattice, delaunay, faces = COUNTS[k]
    mesh = grid(k)
    assert_mesh(mesh)
    assert mesh.num_nodes == nodes
    assert mesh.num_edges == 2 * delaunay  # both directions
    assert mesh.face.shape == (3, faces)
    assert_triangulation(mesh.pos, mesh.edge_index, mesh.face)
    lat = grid(k, edges="lattice")
    assert_mesh(lat)
    assert lat.num_edges == 2 * lattice
    assert "face" not in lat


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6, 7])
def test_grid_diameter_is_paper_value(k: int) -> None:
    # With diagonals (i, j) -- (i+1, j+1), reaching (k-1, 0) from (0, k-1) takes k-1 steps in x
    # and k-1 in -y, none of which a diagonal covers together: T = 2(k-1), the paper's value.
    assert grid(k).diameter.tolist() == [2 * (k - 1)]
    # Lattice edges: Manhattan distance between opposite corners, also 2(k-1).
    assert grid(k, edges="lattice").diameter.tolist() == [2 * (k - 1)]


def test_grid_node_order_and_metadata() -> None:
    mesh = grid((3, 4), bounds=((0.0, -1.0), (2.0, 1.0)))
    assert mesh.grid_shape.tolist() == [[3, 4]]
    assert mesh.grid_lo.tolist() == [[0.0, -1.0]] and mesh.grid_hi.tolist() == [[2.0, 1.0]]
    xs, ys = torch.linspace(0, 2, 3), torch.linspace(-1, 1, 4)
    expected = torch.stack(torch.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2)
    torch.testing.assert_close(mesh.pos, expected)
    # node (i0, i1) has index i0 * k1 + i1
    assert mesh.pos[1 * 4 + 2].tolist() == pytest.approx([1.0, 1.0 / 3.0])
    # exact end points
    assert mesh.pos[-1].tolist() == [2.0, 1.0]


def test_grid_small_hand_cases() -> None:
    # 2 x 2: nodes 0=(0,0), 1=(0,1), 2=(1,0), 3=(1,1); the diagonal joins 0 and 3.
    assert lattice_edges([2, 2]).tolist() == [[0, 1, 0, 2], [2, 3, 1, 3]]
    assert kuhn_edges([2, 2]).tolist() == [[0, 2, 0, 1, 0], [1, 3, 2, 3, 3]]
    assert kuhn_simplices([2, 2]).t().tolist() == [[0, 2, 3], [0, 3, 1]]
    # every cell of a 3 x 3 grid is cut along the same diagonal
    mesh = grid(3)
    d = mesh.pos[mesh.edge_index[1]] - mesh.pos[mesh.edge_index[0]]
    diagonal = (d[:, 0] != 0) & (d[:, 1] != 0)
    assert bool((d[diagonal, 0] == d[diagonal, 1]).all())


def test_grid_1d_and_3d(assert_mesh) -> None:
    line = grid(5, dim=1)
    assert_mesh(line)
    assert line.num_edges == 2 * 4 and line.diameter.tolist() == [4]
    assert line.face.shape == (2, 4)
    # 3-D, k = 2: one cube, Kuhn-split into 3! = 6 tetrahedra; edges = 12 cube edges
    # + 6 face diagonals + 1 main diagonal = 19.
    cube = grid(2, dim=3)
    assert_mesh(cube)
    assert cube.num_edges == 2 * 19 and cube.face.shape == (4, 6)
    verts = cube.pos[cube.face.t()]  # [F, 4, 3]
    vol = torch.linalg.det(verts[:, 1:] - verts[:, :1]) / 6
    assert bool((vol > 0).all())
    torch.testing.assert_close(vol.sum(), torch.tensor(1.0))
    # k = 3 in 3-D: edges per offset s in {0,1}^3 \ 0: prod(k - s_d) -> 3*18 + 3*12 + 8 = 98
    assert grid(3, dim=3).num_edges == 2 * 98


def test_grid_batches_metadata() -> None:
    b = Batch.from_data_list([grid(2), grid(3)])
    assert b.grid_shape.tolist() == [[2, 2], [3, 3]]
    assert b.grid_lo.shape == (2, 2) and b.diameter.tolist() == [2, 4]
    assert int(b.face.max()) == 4 + 9 - 1  # faces are shifted like edge_index


def test_grid_dtype_and_device() -> None:
    mesh = grid(3, dtype=torch.float64)
    assert mesh.pos.dtype == torch.float64 and mesh.grid_lo.dtype == torch.float64


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"k": 1}, ValueError, "k must be at least 2"),
        ({"k": (3, 1)}, ValueError, r"k\[1\] must be at least 2"),
        ({"k": 2.5}, TypeError, "k must be an int"),
        ({"k": 3, "dim": 0}, ValueError, "dim must be at least 1"),
        ({"k": (3, 3), "dim": 3}, ValueError, "dim=3"),
        ({"k": 3, "edges": "knn"}, ValueError, "edges must be one of"),
        ({"k": 3, "bounds": (1.0, 0.0)}, ValueError, "lo < hi"),
        ({"k": 3, "bounds": (0.0, float("nan"))}, ValueError, "finite"),
        ({"k": 3, "bounds": ((0.0, 0.0, 0.0), 1.0)}, ValueError, "one per axis"),
    ],
)
def test_grid_bad_input(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        grid(**kwargs)
