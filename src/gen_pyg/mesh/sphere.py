"""Meshes on the unit sphere: the GEN paper's latitude-longitude mesh, icospheres, and spherical
Delaunay edges (the convex hull of the points)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh._build import (
    affine_frame,
    attach_missing,
    check_int,
    check_num_nodes,
    check_positions,
    make_mesh,
    pairs_of_simplices,
    resolve_dtype,
    undirected,
)
from gen_pyg.mesh.radius import radius_edges

#: Relative slack on the sphere mesh's distance threshold: ring and meridian neighbours lie at
#: exactly :math:`\pi / (k - 1)` and must connect despite rounding.
LATLONG_RTOL = 1e-6

# The 12 vertices of an icosahedron, (0, +-1, +-t) and cyclic shifts, with t the golden ratio,
# and its 20 faces, counter-clockwise seen from outside.
_T = (1.0 + math.sqrt(5.0)) / 2.0
_ICO_VERTS = [
    (-1, _T, 0), (1, _T, 0), (-1, -_T, 0), (1, -_T, 0),
    (0, -1, _T), (0, 1, _T), (0, -1, -_T), (0, 1, -_T),
    (_T, 0, -1), (_T, 0, 1), (-_T, 0, -1), (-_T, 0, 1),
]  # fmt: skip
_ICO_FACES = [
    (0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11),
    (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6), (7, 1, 8),
    (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9),
    (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1),
]  # fmt: skip


def latlong_points(k: int) -> Tensor:
    r"""Node positions of :func:`sphere_latlong` (float64), north pole first, then the rings
    from north to south (each from :math:`\phi = 0` eastwards), south pole last.

    Example:
        >>> latlong_points(3).shape  # octahedron
        torch.Size([6, 3])
    """
    k = check_int(k, "k", 2)
    check_num_nodes(2 + (k - 2) * (2 * k - 2), f"k={k}")
    h = math.pi / (k - 1)
    theta = torch.arange(k, dtype=torch.float64) * h
    phi = torch.arange(2 * (k - 1) + 1, dtype=torch.float64) * h
    t, p = torch.meshgrid(theta, phi, indexing="ij")
    xyz = torch.stack([t.sin() * p.cos(), t.sin() * p.sin(), t.cos()], dim=-1).reshape(-1, 3)
    # Remove Cartesian duplicates (the poles, and phi = 2 pi = 0), keeping first occurrences.
    key = torch.round(xyz * 1e9).long()
    _, inverse = torch.unique(key, dim=0, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), xyz.size(0), dtype=torch.long)
    first = first.scatter_reduce(0, inverse, torch.arange(xyz.size(0)), reduce="amin")
    return xyz[first.sort().values]


def sphere_latlong(
    k: int,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> Data:
    r"""The GEN paper's mesh of order :obj:`k` on the unit sphere (Alet et al., 2019, §4.1 and
    appendix A.3). Nodes sit at

    .. math::
        x = (\sin\theta \cos\phi, \sin\theta \sin\phi, \cos\theta), \quad
        \theta \in \{0, h, \dots, \pi\}, \quad \phi \in \{0, h, \dots, 2\pi\}, \quad
        h = \frac{\pi}{k - 1},

    with Cartesian duplicates removed, which leaves :math:`1, 2k-2, \dots, 2k-2, 1` nodes per
    latitude (the poles, and :math:`\phi = 2\pi` coinciding with :math:`\phi = 0`), i.e.
    :math:`N = 2 + (k - 2)(2k - 2)`. (The paper's appendix counts :math:`2k - 1` per ring,
    before the :math:`\phi = 2\pi` duplicate is removed.) Two nodes are connected when their
    great-circle distance is at most :math:`h`: meridian neighbours and the poles' neighbours
    lie at exactly :math:`h`, so the threshold is widened by a relative :math:`10^{-6}` to keep
    rounding from dropping them (read strictly, "below :math:`h`" would disconnect the rings).
    Along a ring at colatitude :math:`\theta`, nodes :math:`m` steps apart are at distance
    :math:`2 \arcsin(\sin\theta \sin(m h / 2))`, so rings near the poles also connect nodes
    two or more steps apart. The hop diameter is :math:`k - 1` (pole to pole).

    Args:
        k (int): order of the mesh, at least 2 (:obj:`k = 2` is the two poles, joined).
        dtype (torch.dtype, optional): dtype of :obj:`pos`. (default: the default dtype)
        device (torch.device, optional): device of every tensor. (default: CPU)

    Returns:
        :class:`~torch_geometric.data.Data` with unit vectors :obj:`pos` :obj:`[N, 3]`,
        :obj:`edge_index`, :obj:`num_nodes` and :obj:`diameter` :obj:`[1]`.

    Example:
        >>> mesh = sphere_latlong(3)  # an octahedron
        >>> mesh.num_nodes, mesh.num_edges // 2, mesh.diameter.tolist()
        (6, 12, [2])
    """
    dtype = resolve_dtype(dtype)
    pos64 = latlong_points(k)
    h = math.pi / (k - 1)
    edge_index = radius_edges(pos64, h * (1.0 + LATLONG_RTOL), metric="geodesic")
    pos = pos64.to(device=device, dtype=dtype)
    return make_mesh(pos, edge_index.to(pos.device))


def icosphere_points(level: int) -> tuple[Tensor, Tensor]:
    r"""Vertices (float64, unit vectors) :obj:`[N, 3]` and outward-oriented triangles
    :obj:`[F, 3]` of the icosahedron subdivided :obj:`level` times.

    Example:
        >>> verts, faces = icosphere_points(1)
        >>> verts.shape, faces.shape
        (torch.Size([42, 3]), torch.Size([80, 3]))
    """
    level = check_int(level, "level", 0)
    check_num_nodes(10 * 4**level + 2, f"level={level}")
    verts = torch.tensor(_ICO_VERTS, dtype=torch.float64)
    verts = verts / torch.linalg.vector_norm(verts, dim=-1, keepdim=True)
    faces = torch.tensor(_ICO_FACES, dtype=torch.long)
    for _ in range(level):
        a, b, c = faces.unbind(1)
        pairs = torch.stack([torch.stack([a, b]), torch.stack([b, c]), torch.stack([c, a])])
        pairs = pairs.sort(dim=1).values  # [3, 2, F], each pair (low, high)
        flat = pairs.permute(1, 0, 2).reshape(2, -1)
        unique, inverse = torch.unique(flat, dim=1, return_inverse=True)
        mid = (verts[unique[0]] + verts[unique[1]]) / 2
        mid = mid / torch.linalg.vector_norm(mid, dim=-1, keepdim=True)
        m_ab, m_bc, m_ca = (verts.size(0) + inverse).view(3, -1)
        verts = torch.cat([verts, mid])
        faces = torch.cat(
            [
                torch.stack([a, m_ab, m_ca], 1),
                torch.stack([b, m_bc, m_ab], 1),
                torch.stack([c, m_ca, m_bc], 1),
                torch.stack([m_ab, m_bc, m_ca], 1),
            ]
        )
    return verts, faces


def icosphere(
    level: int = 0,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> Data:
    r"""An icosphere: the icosahedron with every triangle split into four :obj:`level` times and
    new vertices pushed onto the unit sphere. Nodes are spread more evenly than on the
    latitude-longitude mesh (no crowding at the poles); beyond the GEN paper.

    It has :math:`10 \cdot 4^L + 2` nodes, :math:`30 \cdot 4^L` edges and
    :math:`20 \cdot 4^L` triangles at level :math:`L`.

    Args:
        level (int, optional): number of subdivisions, at least 0. (default: :obj:`0`)
        dtype (torch.dtype, optional): dtype of :obj:`pos`. (default: the default dtype)
        device (torch.device, optional): device of every tensor. (default: CPU)

    Returns:
        :class:`~torch_geometric.data.Data` with unit vectors :obj:`pos` :obj:`[N, 3]`,
        :obj:`edge_index`, :obj:`num_nodes`, :obj:`diameter` :obj:`[1]` and the surface
        triangles :obj:`face` :obj:`[3, F]` (counter-clockwise seen from outside; these are
        triangles *on* the sphere, not volume simplices of :math:`\mathbb{R}^3`).

    Example:
        >>> mesh = icosphere(0)
        >>> mesh.num_nodes, mesh.num_edges // 2, mesh.face.size(1), mesh.diameter.tolist()
        (12, 30, 20, [3])
    """
    dtype = resolve_dtype(dtype)
    verts, faces = icosphere_points(level)
    pos = verts.to(device=device, dtype=dtype)
    edge_index = pairs_of_simplices(faces)
    return make_mesh(pos, edge_index.to(pos.device), faces.t().contiguous())


def _circle_cycle(p: np.ndarray, centre: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """A cycle through points lying on one circle, in the order of their angle around it."""
    local = (p - centre) @ axes[:2].T
    order = np.argsort(np.arctan2(local[:, 1], local[:, 0]), kind="stable")
    return np.stack([order, np.roll(order, -1)])


def spherical_delaunay_edges(pos: Tensor) -> tuple[Tensor, Tensor | None]:
    r"""Delaunay edges and triangles of points on the unit sphere :math:`S^2`, i.e. the convex
    hull of the normalised positions (scipy's qhull), for meshes whose nodes move on the sphere.

    Hull facets that do not contain the origin on their inner side (those that close the hull
    when all points lie in one hemisphere) are not spherical triangles and are dropped.
    Degenerate inputs: one point gives no edges, two or three points are all connected, points
    on one circle are joined in a cycle around it, and a duplicate position is connected to its
    twin and the twin's neighbours. Edges carry no gradient.

    Args:
        pos (Tensor): positions :obj:`[N, 3]`, non-zero (normalised internally).

    Returns:
        :obj:`(edge_index, face)`: edges :obj:`[2, E]` (both directions, sorted) and triangles
        :obj:`[3, F]` counter-clockwise seen from outside, or :obj:`None` where there are none.

    Example:
        >>> edge_index, face = spherical_delaunay_edges(icosphere(0).pos)
        >>> edge_index.size(1) // 2, face.size(1)
        (30, 20)
    """
    from scipy.spatial import ConvexHull, QhullError

    pos = check_positions(pos, dim=3)
    n = pos.size(0)
    x = pos.detach().cpu().double()
    norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    if bool((norm == 0).any()):
        raise ValueError("pos has a zero vector, which has no direction on the sphere")
    p = (x / norm).numpy()
    face: np.ndarray | None = None
    if n <= 3:
        edges = pairs_of_simplices(torch.arange(n).view(1, -1)).numpy()
    else:
        rank, centre, axes = affine_frame(p)
        hull = None
        if rank == 3:
            try:
                hull = ConvexHull(p, qhull_options="Qc")
            except QhullError:  # pragma: no cover - near-degenerate input
                hull = None
        if hull is None:
            edges = _circle_cycle(p, centre, axes)
        else:
            simplices, normal, offset = hull.simplices, hull.equations[:, :3], hull.equations[:, 3]
            keep = offset < -1e-12
            simplices, normal = simplices[keep], normal[keep]
            a, b, c = (p[simplices[:, i]] for i in range(3))
            flip = (np.cross(b - a, c - a) * normal).sum(-1) < 0
            simplices[flip] = simplices[flip][:, [0, 2, 1]]
            face = simplices
            edges = pairs_of_simplices(torch.from_numpy(simplices)).numpy()
            missing = np.setdiff1d(np.arange(n), simplices.reshape(-1))
            edges = attach_missing(edges, missing, p)
    edge_index = undirected(torch.from_numpy(np.ascontiguousarray(edges)).long(), n)
    face_t = None if face is None else torch.from_numpy(np.ascontiguousarray(face.T)).long()
    return edge_index.to(pos.device), None if face_t is None else face_t.to(pos.device)
