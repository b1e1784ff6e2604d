"""Delaunay edges and simplices of arbitrary point sets, with the degenerate cases made explicit."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh._build import (
    affine_frame,
    attach_missing,
    check_positions,
    make_mesh,
    pairs_of_simplices,
    path_edges,
    undirected,
)

#: Simplices whose volume, relative to the volume scale of their longest edge, is below this are
#: treated as degenerate (qhull emits zero-volume simplices for cospherical points in 3-D).
DEGENERATE_RTOL = 1e-10


def _full_dim(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``[2, E]`` and positively oriented simplices ``[F, D+1]`` of points spanning
    :math:`\\mathbb{R}^D`, :math:`D \\ge 2`."""
    from scipy.spatial import Delaunay, QhullError

    try:
        simplices = Delaunay(p).simplices
    except QhullError:  # pragma: no cover - near-degenerate input; joggle as qhull suggests
        simplices = Delaunay(p, qhull_options="QJ Pp").simplices
    d = p.shape[1]
    verts = p[simplices]  # [F, D+1, D]
    span = verts[:, 1:] - verts[:, :1]
    det = np.linalg.det(span)
    longest = np.sqrt(((verts[:, :, None] - verts[:, None]) ** 2).sum(-1)).max(axis=(1, 2))
    keep = np.abs(det) > DEGENERATE_RTOL * longest**d
    simplices, det = simplices[keep], det[keep]
    flip = det < 0
    swap_last = np.r_[np.arange(d - 1), d, d - 1]
    simplices[flip] = simplices[flip][:, swap_last]
    edges = pairs_of_simplices(torch.from_numpy(simplices)).numpy()
    missing = np.setdiff1d(np.arange(p.shape[0]), simplices.reshape(-1))
    return attach_missing(edges, missing, p), simplices


def delaunay_edges(pos: Tensor) -> tuple[Tensor, Tensor | None]:
    r"""Edges of the Delaunay triangulation of node positions (scipy's qhull), and its simplices.

    The GEN paper connects Halton-placed and optimised nodes this way (appendix A.4); edges carry
    no gradient (the triangulation is recomputed after each position update). Degenerate inputs
    get explicit answers instead of qhull errors:

    - one point: no edges;
    - points on a line (two points, or any number of collinear points, duplicates included): a
      path along the line, in the order of the points' projections on it, and no faces for
      :math:`D \ge 2` (in 1-D the segments are the simplices and are returned as faces);
    - points spanning a lower-dimensional affine subspace (e.g. coplanar points in 3-D): the
      Delaunay edges within that subspace, and no faces;
    - a point that is not a vertex of the triangulation (a duplicate position): connected to its
      twin and the twin's neighbours, so no node is left isolated.

    Zero-volume simplices that qhull emits for cospherical points (e.g. the cubes of a 3-D grid)
    are dropped, with their edges, so the faces are a valid triangulation.

    Args:
        pos (Tensor): node positions :obj:`[N, D]`, finite, :math:`N \ge 1`.

    Returns:
        :obj:`(edge_index, face)`: undirected edges :obj:`[2, E]` (both directions, sorted, no
        self loops) and positively oriented simplices :obj:`[D+1, F]` (PyG's :obj:`face`
        convention), or :obj:`None` where there are no full-dimensional simplices. Both on the
        device of :obj:`pos`.

    Example:
        >>> pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> edge_index, face = delaunay_edges(pos)
        >>> edge_index.size(1) // 2, face.size(1)  # 4 sides + 1 diagonal, 2 triangles
        (5, 2)
    """
    pos = check_positions(pos)
    n, d = pos.shape
    device = pos.device
    p = pos.detach().cpu().double().numpy()
    face: np.ndarray | None = None
    if n == 1:
        edges = np.zeros((2, 0), dtype=np.int64)
    else:
        rank, centre, axes = affine_frame(p)
        if rank <= 1:
            order = np.argsort((p - centre) @ axes[0], kind="stable")
            edges = path_edges(torch.from_numpy(order)).numpy()
            if d == 1:
                seg = np.stack([order[:-1], order[1:]], axis=1)
                x = p[:, 0]
                seg = np.where((x[seg[:, 0]] > x[seg[:, 1]])[:, None], seg[:, ::-1], seg)
                face = seg[x[seg[:, 1]] > x[seg[:, 0]]]
        elif rank < d:
            local = torch.from_numpy((p - centre) @ axes[:rank].T)
            sub_edges, _ = delaunay_edges(local)
            edges = sub_edges.numpy()
        else:
            edges, face = _full_dim(p)
    edge_index = undirected(torch.from_numpy(np.ascontiguousarray(edges)).long(), n)
    face_t = None if face is None else torch.from_numpy(np.ascontiguousarray(face.T)).long()
    return edge_index.to(device), None if face_t is None else face_t.to(device)


def delaunay(pos: Tensor) -> Data:
    r"""A mesh on given node positions with Delaunay edges (see :func:`delaunay_edges`).

    Args:
        pos (Tensor): node positions :obj:`[N, D]`.

    Returns:
        :class:`~torch_geometric.data.Data` with :obj:`pos`, :obj:`edge_index`,
        :obj:`num_nodes`, :obj:`diameter` :obj:`[1]` and, where simplices exist, :obj:`face`
        :obj:`[D+1, F]`.

    Example:
        >>> mesh = delaunay(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        >>> mesh.num_nodes, mesh.num_edges, mesh.diameter.tolist()
        (4, 10, [2])
    """
    edge_index, face = delaunay_edges(pos)
    return make_mesh(pos, edge_index, face)
