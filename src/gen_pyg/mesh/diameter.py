"""Graph diameter: the default number of message-passing steps of a GEN."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gen_pyg._compat import eager_only


@eager_only
def graph_diameter(edge_index: Tensor, num_nodes: int, batch: Tensor | None = None) -> Tensor:
    r"""Hop diameter of each graph in a batch: the largest shortest-path length (in edges)
    between two nodes of the same connected component.

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
    from scipy.sparse.csgraph import shortest_path

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
        dist = shortest_path(adj[lo:hi, lo:hi], directed=False, unweighted=True)
        finite = dist[np.isfinite(dist)]
        out[g] = int(finite.max())
    return out
