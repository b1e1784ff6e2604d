"""Graph diameter: hand cases, and the iFUB path against all-pairs breadth-first search."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from gen_pyg.mesh import delaunay, graph_diameter, grid, halton, icosphere, sphere_latlong
from gen_pyg.mesh.diameter import ALL_PAIRS_MAX_NODES


def brute_force(edge_index: torch.Tensor, n: int) -> int:
    ei = edge_index.numpy()
    adj = coo_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n))
    dist = shortest_path(adj, directed=False, unweighted=True)
    return int(dist[np.isfinite(dist)].max()) if n else 0


def path(n: int, start: int = 0) -> torch.Tensor:
    i = torch.arange(start, start + n - 1)
    return torch.stack([i, i + 1])


def test_hand_cases() -> None:
    assert graph_diameter(torch.empty(2, 0, dtype=torch.long), 1).tolist() == [0]
    assert graph_diameter(torch.empty(2, 0, dtype=torch.long), 0).tolist() == []
    assert graph_diameter(path(200), 200).tolist() == [199]  # one direction is enough
    cycle = torch.cat([path(101), torch.tensor([[100], [0]])], dim=1)
    assert graph_diameter(cycle, 101).tolist() == [50]
    star = torch.stack([torch.zeros(99, dtype=torch.long), torch.arange(1, 100)])
    assert graph_diameter(star, 100).tolist() == [2]


def test_disconnected_and_batched() -> None:
    # a path of 100 nodes and a path of 150 nodes in one graph: the largest finite distance
    edge_index = torch.cat([path(100), path(150, start=100)], dim=1)
    assert graph_diameter(edge_index, 250).tolist() == [149]
    # the same two paths as a batch of two graphs, plus a graph with one node
    batch = torch.cat([torch.zeros(100), torch.ones(150), torch.full((1,), 2)]).long()
    assert graph_diameter(edge_index, 251, batch).tolist() == [99, 149, 0]


@pytest.mark.parametrize("seed", range(4))
def test_ifub_matches_all_pairs_on_meshes(seed: int) -> None:
    mesh = delaunay(halton(300, seed=seed).pos)
    assert mesh.num_nodes > ALL_PAIRS_MAX_NODES
    assert int(mesh.diameter) == brute_force(mesh.edge_index, 300)


@pytest.mark.parametrize("seed", range(4))
def test_ifub_matches_all_pairs_on_random_sparse_graphs(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    n = 200
    edge_index = torch.randint(0, n, (2, 260), generator=g)  # several components, some trees
    assert graph_diameter(edge_index, n).tolist() == [brute_force(edge_index, n)]


def test_known_mesh_diameters() -> None:
    assert grid(20).diameter.tolist() == [38]  # 2 (k - 1)
    assert grid((12, 30), edges="lattice").diameter.tolist() == [11 + 29]
    assert sphere_latlong(12).diameter.tolist() == [11]  # pole to pole
    ico = icosphere(2)
    assert ico.diameter.tolist() == [brute_force(ico.edge_index, ico.num_nodes)]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"shape \[2, E\]"):
        graph_diameter(torch.zeros(3, 2, dtype=torch.long), 4)
    with pytest.raises(ValueError, match=">= num_nodes"):
        graph_diameter(torch.tensor([[0], [5]]), 4)
