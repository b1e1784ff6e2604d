"""Assertions shared by the mesh tests, as fixtures (tests/ subfolders are not packages)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from scipy.spatial import ConvexHull
from torch_geometric.data import Data


def _assert_mesh(data: Data) -> None:
    """The builder conventions: pos [N, D] float, edge_index [2, E] long, undirected (both
    directions), no self loops, no duplicates, sorted; num_nodes; diameter a [1] long tensor."""
    n = data.num_nodes
    assert data.pos.dim() == 2 and data.pos.size(0) == n and data.pos.is_floating_point()
    ei = data.edge_index
    assert ei.dtype == torch.long and ei.dim() == 2 and ei.size(0) == 2
    assert data.diameter.shape == (1,) and data.diameter.dtype == torch.long
    if ei.numel() == 0:
        return
    assert int(ei.min()) >= 0 and int(ei.max()) < n
    assert bool((ei[0] != ei[1]).all()), "self loop"
    pairs = set(map(tuple, ei.t().tolist()))
    assert len(pairs) == ei.size(1), "duplicate edge"
    assert pairs == {(j, i) for i, j in pairs}, "edge set is not symmetric"
    key = ei[0] * n + ei[1]
    assert bool((key[1:] > key[:-1]).all()), "edges are not sorted (coalesced)"


def _assert_triangulation(pos: torch.Tensor, edge_index: torch.Tensor, face: torch.Tensor) -> None:
    """2-D: positively oriented triangles that tile the convex hull, whose edges are exactly the
    edge set, with the empty-circumcircle (Delaunay) property."""
    p = pos.detach().double().cpu().numpy()
    f = face.t().cpu().numpy()
    a, b, c = p[f[:, 0]], p[f[:, 1]], p[f[:, 2]]
    area = 0.5 * ((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
    assert (area > 0).all(), "a triangle is degenerate or clockwise"
    hull = ConvexHull(p)
    np.testing.assert_allclose(area.sum(), hull.volume, rtol=1e-9)
    # Each interior edge is shared by two triangles, each hull edge by one: Euler for a disk.
    edges_from_faces = set()
    for t in f:
        for i, j in ((0, 1), (1, 2), (2, 0)):
            edges_from_faces |= {(int(t[i]), int(t[j])), (int(t[j]), int(t[i]))}
    assert edges_from_faces == set(map(tuple, edge_index.t().tolist()))
    n_used = len(np.unique(f))
    assert n_used - len(edges_from_faces) // 2 + len(f) == 1
    # Empty circumcircles (with a tolerance for cocircular points).
    for t in f:
        q = p[t]
        m = np.stack([q[1] - q[0], q[2] - q[0]])
        rhs = 0.5 * np.array([(q[i] - q[0]) @ (q[i] + q[0]) for i in (1, 2)])
        centre = np.linalg.solve(m, rhs)
        r2 = ((q[0] - centre) ** 2).sum()
        d2 = ((p - centre) ** 2).sum(axis=1)
        assert (d2 >= r2 * (1 - 1e-9) - 1e-12).all(), "a point lies inside a circumcircle"


@pytest.fixture
def assert_mesh() -> Callable[[Data], None]:
    return _assert_mesh


@pytest.fixture
def assert_triangulation() -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None]:
    return _assert_triangulation
