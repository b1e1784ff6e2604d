"""Sphere meshes: the paper's lat-long mesh counted by hand, icospheres, spherical Delaunay."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gen_pyg.mesh import icosphere, sphere_latlong, spherical_delaunay_edges
from gen_pyg.mesh.sphere import latlong_points
from gen_pyg.ops import geodesic

# Lat-long mesh of order k (appendix A.3), h = pi / (k - 1). theta takes k values and phi
# 2(k - 1) + 1 values; phi = 2 pi duplicates phi = 0 and each pole is one point, so the
# latitudes hold 1, 2k-2, ..., 2k-2, 1 nodes: N = 2 + (k - 2)(2k - 2).
# Edges (geodesic distance <= h):
#   * each pole -- every node of the first ring (distance exactly h): 2 (2k - 2) for k >= 3;
#   * same phi on adjacent rings (exactly h): (k - 3)(2k - 2); other cross-ring pairs are
#     farther, since cos d = cos h - sin(t) sin(t') (1 - cos dphi) < cos h;
#   * within the ring at colatitude t, nodes m steps apart are at 2 asin(sin t sin(m h / 2)),
#     connected iff sin t sin(m h / 2) <= sin(h / 2); m = 1 always qualifies (equality on the
#     equator), so each ring has a (2k - 2)-cycle, plus m = 2 chords where
#     sin t sin h <= sin(h / 2).
# k = 2: the two poles, at distance pi = h: 1 edge.
# k = 3: octahedron: 8 pole edges + equator 4-cycle = 12.
# k = 4: h = 60 deg, rings at 60, 120 (6 nodes): pole 12 + cross 6 + rings 2*6 = 30
#        (m = 2: sin 60 sin 60 = 0.75 > sin 30 = 0.5, no).
# k = 5: h = 45 deg, rings at 45, 90, 135 (8 nodes): pole 16 + cross 2*8 + rings 3*8 = 56
#        (m = 2 at 45 deg: sin 45 sin 45 = 0.5 > sin 22.5 = 0.383, no).
# k = 6: h = 36 deg, rings at 36, 72, 108, 144 (10 nodes): pole 20 + cross 3*10 + rings 4*10
#        = 90 (m = 2 at 36 deg: sin^2 36 = 0.345 > sin 18 = 0.309, no).
# k = 7: h = 30 deg, rings at 30, ..., 150 (12 nodes): pole 24 + cross 4*12 + rings 5*12
#        + m = 2 chords on the rings at 30 and 150 deg (sin 30 sin 30 = 0.25 <= sin 15 = 0.259;
#        m = 3: sin 30 sin 45 = 0.354, no) 2*12 = 156.
LATLONG = {2: (2, 1), 3: (6, 12), 4: (14, 30), 5: (26, 56), 6: (42, 90), 7: (62, 156)}


def _connected(edge_index: torch.Tensor, n: int) -> bool:
    ei = edge_index.numpy()
    adj = coo_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n))
    return connected_components(adj, directed=False)[0] == 1


@pytest.mark.parametrize("k", sorted(LATLONG))
def test_latlong_counts_and_connectivity(k: int, assert_mesh) -> None:
    nodes, edges = LATLONG[k]
    mesh = sphere_latlong(k)
    assert_mesh(mesh)
    assert mesh.num_nodes == nodes == 2 + (k - 2) * (2 * k - 2)
    assert mesh.num_edges == 2 * edges
    deg = torch.bincount(mesh.edge_index[0], minlength=mesh.num_nodes)
    assert int(deg.min()) >= 1, "a node has no neighbour"
    assert _connected(mesh.edge_index, mesh.num_nodes)
    # every node of the north pole's ring is its neighbour
    assert int(deg[0]) == (1 if k == 2 else 2 * k - 2)
    # pole to pole needs k - 1 hops and any pair can go through a pole: diameter k - 1
    assert mesh.diameter.tolist() == [k - 1]
    torch.testing.assert_close(mesh.pos.norm(dim=1), torch.ones(nodes))


@pytest.mark.parametrize("k", [3, 5, 7])
def test_latlong_edges_respect_threshold(k: int) -> None:
    mesh = sphere_latlong(k, dtype=torch.float64)
    h = math.pi / (k - 1)
    src, dst = mesh.edge_index
    d = geodesic(mesh.pos[src], mesh.pos[dst])
    assert float(d.max()) <= h * (1 + 1e-6)
    # every pair closer than h is connected
    i, j = torch.triu_indices(mesh.num_nodes, mesh.num_nodes, offset=1)
    close = geodesic(mesh.pos[i], mesh.pos[j]) < h * (1 - 1e-9)
    pairs = set(map(tuple, mesh.edge_index.t().tolist()))
    assert all((a, b) in pairs for a, b in zip(i[close].tolist(), j[close].tolist(), strict=True))


def test_latlong_points_per_latitude() -> None:
    pts = latlong_points(5)
    z = torch.round(pts[:, 2] * 1e9) / 1e9
    counts = [int((z == v).sum()) for v in z.unique(sorted=True).flip(0).tolist()]
    assert counts == [1, 8, 8, 8, 1]
    assert pts[0].tolist() == [0.0, 0.0, 1.0]  # north pole first


@pytest.mark.parametrize(("level", "n", "e", "f"), [(0, 12, 30, 20), (1, 42, 120, 80),
                                                    (2, 162, 480, 320)])  # fmt: skip
def test_icosphere_counts_and_orientation(level: int, n: int, e: int, f: int, assert_mesh) -> None:
    # V = 10 * 4^L + 2, E = 30 * 4^L, F = 20 * 4^L; Euler: V - E + F = 2.
    mesh = icosphere(level)
    assert_mesh(mesh)
    assert (mesh.num_nodes, mesh.num_edges // 2, mesh.face.size(1)) == (n, e, f)
    assert n - e + f == 2
    a, b, c = (mesh.pos[mesh.face[i]] for i in range(3))
    outward = (torch.linalg.cross(b - a, c - a) * (a + b + c)).sum(-1)
    assert bool((outward > 0).all())
    torch.testing.assert_close(mesh.pos.norm(dim=1), torch.ones(n))


def test_icosphere_edges_have_nearly_equal_length() -> None:
    mesh = icosphere(0)
    d = geodesic(mesh.pos[mesh.edge_index[0]], mesh.pos[mesh.edge_index[1]])
    # icosahedron edge on the unit sphere: arctan(2) (angle between adjacent vertices)
    torch.testing.assert_close(d, torch.full_like(d, math.atan(2.0)))


@pytest.mark.parametrize("level", [0, 1])
def test_spherical_delaunay_of_icosphere(level: int) -> None:
    mesh = icosphere(level)
    edge_index, face = spherical_delaunay_edges(mesh.pos)
    assert torch.equal(edge_index, mesh.edge_index)
    assert face is not None and face.size(1) == mesh.face.size(1)


def test_spherical_delaunay_hemisphere_drops_the_cap() -> None:
    # North pole and a ring of 5 at colatitude 60 deg: the hull's pentagon base is not a
    # spherical triangle; the mesh is 5 spokes and the 5-cycle.
    phi = torch.arange(5) * 2 * math.pi / 5
    s, c = math.sin(math.pi / 3), math.cos(math.pi / 3)
    ring = torch.stack([s * phi.cos(), s * phi.sin(), torch.full((5,), c)], 1)
    pos = torch.cat([torch.tensor([[0.0, 0.0, 1.0]]), ring])
    edge_index, face = spherical_delaunay_edges(pos)
    pairs = {(i, j) for i, j in edge_index.t().tolist() if i < j}
    assert pairs == {(0, i) for i in range(1, 6)} | {
        tuple(sorted((i, i % 5 + 1))) for i in range(1, 6)
    }
    assert face is not None and face.size(1) == 5


def test_spherical_delaunay_degenerate_cases() -> None:
    e, f = spherical_delaunay_edges(torch.tensor([[0.0, 0.0, 2.0]]))
    assert e.size(1) == 0 and f is None
    e, f = spherical_delaunay_edges(torch.eye(3))
    assert e.size(1) == 6 and f is None
    # six points on the equator: a 6-cycle
    phi = torch.arange(6) * math.pi / 3
    ring = torch.stack([phi.cos(), phi.sin(), torch.zeros(6)], 1)[torch.tensor([0, 3, 1, 4, 2, 5])]
    e, f = spherical_delaunay_edges(ring)
    assert f is None and e.size(1) == 12
    deg = torch.bincount(e[0])
    assert deg.tolist() == [2] * 6
    with pytest.raises(ValueError, match="zero vector"):
        spherical_delaunay_edges(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="3 coordinates"):
        spherical_delaunay_edges(torch.ones(4, 2))


@pytest.mark.parametrize("k", [1, 0, -3])
def test_latlong_k_below_two(k: int) -> None:
    with pytest.raises(ValueError, match="k must be at least 2"):
        sphere_latlong(k)


def test_icosphere_bad_level() -> None:
    with pytest.raises(ValueError, match="level must be at least 0"):
        icosphere(-1)
    with pytest.raises(TypeError, match="level must be an int"):
        icosphere(1.0)  # type: ignore[arg-type]
