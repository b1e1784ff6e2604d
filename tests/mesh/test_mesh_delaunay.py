"""Delaunay edges: hand-made cases, degenerate inputs, triangulation validity."""

from __future__ import annotations

import itertools

import pytest
import torch

from gen_pyg.mesh import delaunay, delaunay_edges, halton


def _pairs(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(i, j) for i, j in edge_index.t().tolist() if i < j}


def test_square_corners(assert_mesh, assert_triangulation) -> None:
    # 4 cocircular corners: the 4 sides and exactly one of the two diagonals, 2 triangles.
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    mesh = delaunay(pos)
    assert_mesh(mesh)
    pairs = _pairs(mesh.edge_index)
    sides = {(0, 1), (0, 2), (1, 3), (2, 3)}
    assert sides < pairs and len(pairs) == 5
    assert (pairs - sides) in ({(0, 3)}, {(1, 2)})
    assert mesh.face.shape == (3, 2)
    assert_triangulation(pos, mesh.edge_index, mesh.face)
    assert mesh.diameter.tolist() == [2]


def test_one_and_two_points(assert_mesh) -> None:
    one = delaunay(torch.tensor([[0.3, 0.7]]))
    assert_mesh(one)
    assert one.num_edges == 0 and "face" not in one and one.diameter.tolist() == [0]
    edge_index, face = delaunay_edges(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    assert edge_index.tolist() == [[0, 1], [1, 0]] and face is None


def test_collinear_points_give_a_path(assert_mesh) -> None:
    # Unordered points on the line y = 2x + 1: a path in the order along the line.
    t = torch.tensor([0.5, -1.0, 2.0, 0.0, 1.0])
    pos = torch.stack([t, 2 * t + 1], dim=1)
    mesh = delaunay(pos)
    assert_mesh(mesh)
    order = t.argsort().tolist()  # [1, 3, 0, 4, 2]
    expected = {tuple(sorted(p)) for p in itertools.pairwise(order)}
    assert _pairs(mesh.edge_index) == expected
    assert "face" not in mesh and mesh.diameter.tolist() == [4]


def test_coplanar_points_in_3d() -> None:
    # The 4 corners of a square lying in the plane z = 2 in 3-D: Delaunay within the plane,
    # no tetrahedra.
    pos = torch.tensor([[0.0, 0.0, 2.0], [1.0, 0.0, 2.0], [0.0, 1.0, 2.0], [1.0, 1.0, 2.0]])
    edge_index, face = delaunay_edges(pos)
    assert face is None and len(_pairs(edge_index)) == 5


def test_one_dimensional_points() -> None:
    pos = torch.tensor([[3.0], [1.0], [2.0], [0.0]])
    edge_index, face = delaunay_edges(pos)
    assert _pairs(edge_index) == {(0, 2), (1, 2), (1, 3)}
    assert face is not None
    assert sorted(map(tuple, face.t().tolist())) == [(1, 2), (2, 0), (3, 1)]  # left to right


def test_duplicate_point_is_not_isolated(assert_mesh) -> None:
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    mesh = delaunay(pos)
    assert_mesh(mesh)
    # node 4 duplicates node 3: it gets 3 and 3's neighbours.
    nbrs = lambda i: set(mesh.edge_index[1][mesh.edge_index[0] == i].tolist())  # noqa: E731
    assert 3 in nbrs(4) and nbrs(3) - {4} <= nbrs(4)


def test_random_points_are_a_valid_triangulation(assert_mesh, assert_triangulation) -> None:
    pos = halton(40, seed=3).pos
    mesh = delaunay(pos)
    assert_mesh(mesh)
    assert_triangulation(pos, mesh.edge_index, mesh.face)
    # A triangulation of n points with h on the hull has 2n - h - 2 triangles.
    from scipy.spatial import ConvexHull

    h = len(ConvexHull(pos.numpy()).vertices)
    assert mesh.face.size(1) == 2 * 40 - h - 2


def test_3d_grid_points_drop_degenerate_tetrahedra() -> None:
    # qhull emits zero-volume tetrahedra for the cospherical corners of grid cubes; they are
    # dropped, so the tetrahedra have positive volume and fill the cube exactly.
    axis = torch.linspace(0, 1, 3, dtype=torch.float64)
    pos = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    _, face = delaunay_edges(pos)
    assert face is not None and face.size(0) == 4
    verts = pos[face.t()]
    vol = torch.linalg.det(verts[:, 1:] - verts[:, :1]) / 6
    assert bool((vol > 1e-12).all())
    torch.testing.assert_close(vol.sum(), torch.tensor(1.0, dtype=torch.float64))
    assert set(face.unique().tolist()) == set(range(27))


def test_gradient_does_not_flow_and_device_follows() -> None:
    pos = halton(10).pos.requires_grad_()
    mesh = delaunay(pos)
    assert mesh.pos is pos and mesh.edge_index.device == pos.device


@pytest.mark.parametrize(
    ("pos", "error", "match"),
    [
        (torch.tensor([[0.0, float("nan")], [1.0, 1.0]]), ValueError, "NaN or infinite"),
        (torch.tensor([[0.0, float("inf")], [1.0, 1.0]]), ValueError, "NaN or infinite"),
        (torch.zeros(0, 2), ValueError, "at least one point"),
        (torch.zeros(3), ValueError, r"shape \[num_points, dim\]"),
        (torch.zeros(3, 2, dtype=torch.long), TypeError, "floating-point"),
        ([[0.0, 0.0]], TypeError, "torch.Tensor"),
    ],
)
def test_bad_input(pos: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        delaunay_edges(pos)  # type: ignore[arg-type]
