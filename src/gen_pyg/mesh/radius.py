"""Radius graphs: connect every pair of nodes closer than a threshold (Euclidean or geodesic)."""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh._build import check_positions, make_mesh, undirected
from gen_pyg.ops import radius_graph

METRICS = ("euclidean", "geodesic")


def _check_radius(r: object, metric: str) -> float:
    if isinstance(r, bool) or not isinstance(r, (int, float)):
        raise TypeError(f"r must be a number, got {type(r).__name__}")
    if not (math.isfinite(r) and r > 0):
        raise ValueError(f"r must be a positive finite number, got {r!r}")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    return float(r)


def radius_edges(
    pos: Tensor,
    r: float,
    metric: str = "euclidean",
    batch: Tensor | None = None,
) -> Tensor:
    r"""Edges between all pairs of distinct nodes at distance at most :obj:`r` (inclusive, up
    to floating-point rounding), found with :func:`gen_pyg.ops.radius_graph`
    (:obj:`torch_cluster` when installed).

    With :obj:`metric="geodesic"` positions are taken as directions on the unit sphere and the
    great-circle distance is thresholded, via the equivalent chord length
    :math:`2 \sin(r / 2)` between the normalised positions (the GEN paper's sphere mesh,
    appendix A.3). Edges carry no gradient.

    Args:
        pos (Tensor): node positions :obj:`[N, D]`, finite.
        r (float): radius, :math:`r > 0` (radians for :obj:`"geodesic"`).
        metric (str, optional): :obj:`"euclidean"` or :obj:`"geodesic"`.
            (default: :obj:`"euclidean"`)
        batch (Tensor, optional): example index of each node; edges stay within an example.
            (default: :obj:`None`)

    Returns:
        :obj:`edge_index` :obj:`[2, E]`: both directions, sorted, no self loops.

    Example:
        >>> radius_edges(torch.tensor([[0.0], [1.0], [3.0]]), r=1.5).tolist()
        [[0, 1], [1, 0]]
    """
    r = _check_radius(r, metric)
    pos = check_positions(pos)
    x = pos.detach()
    if metric == "geodesic":
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
        if bool((norm == 0).any()):
            raise ValueError("pos has a zero vector, which has no direction on the sphere")
        x = x / norm
        # Chord of the arc; at r >= pi every pair qualifies (widened for rounding).
        r = 2.0 * math.sin(r / 2.0) if r < math.pi else 2.0 * (1.0 + 1e-6)
    edge_index = radius_graph(x, r, batch=batch)
    return undirected(edge_index, pos.size(0))


def radius_mesh(pos: Tensor, r: float, metric: str = "euclidean") -> Data:
    r"""A mesh on given node positions with :func:`radius_edges`.

    Args:
        pos (Tensor): node positions :obj:`[N, D]`.
        r (float): radius, :math:`r > 0`.
        metric (str, optional): :obj:`"euclidean"` or :obj:`"geodesic"`.
            (default: :obj:`"euclidean"`)

    Returns:
        :class:`~torch_geometric.data.Data` with :obj:`pos`, :obj:`edge_index`,
        :obj:`num_nodes` and :obj:`diameter` :obj:`[1]`.

    Example:
        >>> mesh = radius_mesh(torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]]), r=2.0)
        >>> mesh.edge_index.tolist(), mesh.diameter.tolist()
        ([[0, 1], [1, 0]], [1])
    """
    return make_mesh(pos, radius_edges(pos, r, metric))
