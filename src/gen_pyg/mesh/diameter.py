"""Graph diameter: the default number of message-passing steps of a GEN."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from gen_pyg._compat import eager_only

#: Upper bound on the number of distances held at once (sources per block times nodes).
MAX_DISTANCE_ENTRIES = 2**22
#: Components up to this size get all-pairs breadth-first search; larger ones iFUB.
ALL_PAIRS_MAX_NODES = 64


def _eccentricity(adj: Any, sources: np.ndarray) -> int:
    """Largest finite hop distance from any node of ``sources``, by blocks of BFS."""
    from scipy.sparse.csgraph import shortest_path

    n = adj.shape[0]
    block = max(1, MAX_DISTANCE_ENTRIES // max(1, n))
    best = 0
    for start in range(0, sources.size, block):
        chunk = sources[start : start + block]
        dist = shortest_path(adj, directed=False, unweighted=True, indices=chunk)
        best = max(best, int(dist[np.isfinite(dist)].max()))
    return best


def _bfs(adj: Any, source: int) -> np.ndarray:
    from scipy.sparse.csgraph import shortest_path

    return np.asarray(shortest_path(adj, directed=False, unweighted=True, indices=[source])[0])


def _component_diameter(adj: Any) -> int:
    r"""Exact diameter of a connected graph by iFUB (Crescenzi et al., 2013): from a central
    node :math:`u`, pairs whose nodes both lie within :math:`i - 1` hops of :math:`u` are at most
    :math:`2(i - 1)` apart, so only the eccentricities of the outer levels are computed, until the
    best one found reaches that bound. Mesh-like graphs need a few BFS per level, not :math:`N`."""
    n = adj.shape[0]
    if n <= ALL_PAIRS_MAX_NODES:
        return _eccentricity(adj, np.arange(n))
    # Double sweep for a lower bound and two far-apart nodes, then a node central to both.
    far_a = int(np.argmax(_bfs(adj, 0)))
    dist_a = _bfs(adj, far_a)
    far_b = int(np.argmax(dist_a))
    dist_b = _bfs(adj, far_b)
    lower = int(max(dist_a.max(), dist_b.max()))
    centre = int(np.argmin(np.maximum(dist_a, dist_b)))
    dist_u = _bfs(adj, centre)
    level = int(dist_u.max())
    lower = max(lower, level)
    while lower < 2 * level:
        lower = max(lower, _eccentricity(adj, np.flatnonzero(dist_u == level)))
        level -= 1
    return lower



@eager_only
def graph_diameter(edge_index: Tensor, num_nodes: int, batch: Tensor | None = None) -> Tensor:
    r"""Hop diameter of each graph in a batch: the largest shortest-path length (in edges)
    between two nodes of the same connected component, computed exactly (all-pairs breadth-first
    search on small components, the iFUB bound of Crescenzi et al. (2013) on larger ones, which
    needs far fewer searches on mesh-like graphs; memory bounded by blocks of sources).

    The GEN paper sets the number of message-passing rounds to the diameter, so that information
    can travel between any two nodes (:math:`T = 2(k-1)` on a :math:`k \times k` grid with
    Delaunay edges). Edges are taken as undirected. For a disconnected graph the largest finite
    distance is returned; a graph with one node has diameter 0.

    Args:
        edge_index (Tensor): edges :obj:`[2, E]`.
        num_nodes (int): number of nodes :math:`N` over the whole batch.
        batch (Tensor, optional): graph index of each node, sorted. (default: :obj:`None`)

    Returns:
        A :obj:`torch.long` tensor :obj:`[B]` of diameters (on the CPU).

    Example:
        >>> path = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> graph_diameter(path, num_nodes=3).tolist()
        [2]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if num_nodes < 0:
        raise ValueError(f"num_nodes must be non-negative, got {num_nodes}")
    if edge_index.numel() > 0 and int(edge_index.max()) >= num_nodes:
        raise ValueError("edge_index refers to a node index >= num_nodes")
    batch_np = (
        np.zeros(num_nodes, dtype=np.int64) if batch is None else batch.detach().cpu().numpy()
    )
    num_graphs = int(batch_np.max()) + 1 if num_nodes > 0 else 0
    ei = edge_index.detach().cpu().numpy()
    adj = coo_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(num_nodes, num_nodes)).tocsr()
    out = torch.zeros(num_graphs, dtype=torch.long)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(batch_np, minlength=num_graphs))])
    for g in range(num_graphs):
        lo, hi = int(ptr[g]), int(ptr[g + 1])
        if hi - lo <= 1:
            continue
        sub = adj[lo:hi, lo:hi]
        num_comp, labels = connected_components(sub, directed=False)
        sizes = np.bincount(labels, minlength=num_comp)
        order = np.argsort(labels, kind="stable")
        starts = np.concatenate([[0], np.cumsum(sizes)])
        best = 0
        for c in np.flatnonzero(sizes > 1):
            nodes = order[starts[c] : starts[c + 1]]
            comp = sub if num_comp == 1 else sub[nodes][:, nodes]
            best = max(best, _component_diameter(comp))
        out[g] = best
    return out
