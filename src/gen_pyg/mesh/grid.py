"""Regular grids on a box, with lattice or (Kuhn-)Delaunay edges and the metadata of the grid."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh._build import (
    Bounds,
    check_fits,
    check_int,
    check_num_nodes,
    make_mesh,
    resolve_bounds,
    resolve_dtype,
)

EDGE_KINDS = ("delaunay", "lattice")


def _resolve_shape(k: int | Sequence[int], dim: int | None) -> list[int]:
    if isinstance(k, Sequence):
        shape = [check_int(v, f"k[{i}]", 2) for i, v in enumerate(k)]
        if len(shape) == 0:
            raise ValueError("k must be an int or a non-empty sequence of ints")
        if dim is not None and dim != len(shape):
            raise ValueError(f"k has {len(shape)} entries but dim={dim}")
        return shape
    k = check_int(k, "k", 2)
    return [k] * check_int(2 if dim is None else dim, "dim", 1)


def _offsets(shape: list[int], step: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Edges from every node ``u`` to ``u + step`` where both lie in the grid."""
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    axes = [torch.arange(n - s) for n, s in zip(shape, step, strict=True)]
    base = torch.zeros(1, dtype=torch.long)
    for ax, stride in zip(axes, strides, strict=True):
        base = (base.view(-1, 1) + ax.view(1, -1) * stride).view(-1)
    shift = sum(s * stride for s, stride in zip(step, strides, strict=True))
    return base, base + shift


def lattice_edges(shape: Sequence[int]) -> Tensor:
    r"""Axis-aligned nearest-neighbour edges of a grid with :obj:`shape` nodes per axis (C order,
    axis 0 slowest): node :math:`(i_0, \dots, i_{D-1})` has index
    :math:`\sum_d i_d \prod_{e > d} k_e`.

    Returns:
        One direction of each edge, :obj:`[2, \sum_d (k_d - 1) \prod_{e \ne d} k_e]`.

    Example:
        >>> lattice_edges([2, 2]).tolist()
        [[0, 1, 0, 2], [2, 3, 1, 3]]
    """
    shape = list(shape)
    rows, cols = [], []
    for d in range(len(shape)):
        step = tuple(int(e == d) for e in range(len(shape)))
        r, c = _offsets(shape, step)
        rows.append(r)
        cols.append(c)
    return torch.stack([torch.cat(rows), torch.cat(cols)])


def kuhn_simplices(shape: Sequence[int]) -> Tensor:
    r"""The Kuhn (Freudenthal) triangulation of a grid: every cell is split into :math:`D!`
    simplices :math:`u, u + e_{\sigma(1)}, u + e_{\sigma(1)} + e_{\sigma(2)}, \dots` along its
    main diagonal, for every permutation :math:`\sigma` of the axes. All cells are split the same
    way, and since the corners of a box are cospherical with no other grid node inside their
    sphere, this is a Delaunay triangulation (in 2-D: every cell cut along the diagonal from
    :math:`(i, j)` to :math:`(i+1, j+1)`). Simplices are positively oriented.

    Returns:
        Simplices :obj:`[D+1, D! \prod_d (k_d - 1)]`.

    Example:
        >>> kuhn_simplices([2, 2]).tolist()  # triangles (0, 2, 3) and (0, 3, 1)
        [[0, 0], [2, 3], [3, 1]]
    """
    shape = list(shape)
    dim = len(shape)
    strides = [math.prod(shape[d + 1 :]) for d in range(dim)]
    cell, _ = _offsets(shape, (1,) * dim)  # lowest corner of every cell
    faces = []
    for perm in itertools.permutations(range(dim)):
        verts = [cell]
        for axis in perm:
            verts.append(verts[-1] + strides[axis])
        inversions = sum(perm[a] > perm[b] for a in range(dim) for b in range(a + 1, dim))
        if inversions % 2 == 1 and dim >= 2:  # odd permutation: negative orientation
            verts[-2], verts[-1] = verts[-1], verts[-2]
        faces.append(torch.stack(verts))
    return torch.cat(faces, dim=1)


def kuhn_edges(shape: Sequence[int]) -> Tensor:
    r"""Edges of :func:`kuhn_simplices`: node :math:`u` connects to :math:`u + s` for every
    non-zero :math:`s \in \{0, 1\}^D` (in 2-D: lattice edges plus one diagonal per cell).

    Returns:
        One direction of each edge :obj:`[2, E]`.

    Example:
        >>> kuhn_edges([2, 2]).tolist()  # 0-1, 2-3 along axis 1; 0-2, 1-3 along axis 0; 0-3
        [[0, 2, 0, 1, 0], [1, 3, 2, 3, 3]]
    """
    shape = list(shape)
    rows, cols = [], []
    for step in itertools.product((0, 1), repeat=len(shape)):
        if any(step):
            r, c = _offsets(shape, step)
            rows.append(r)
            cols.append(c)
    return torch.stack([torch.cat(rows), torch.cat(cols)])


def grid(
    k: int | Sequence[int],
    dim: int | None = None,
    bounds: Bounds = (0.0, 1.0),
    edges: str = "delaunay",
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> Data:
    r"""A regular grid of :math:`k^D` nodes on a box, as in the GEN paper's Poisson experiments
    (Alet et al., 2019, §4.1 and appendix A.2: :math:`k \times k` nodes on :math:`[0, 1]^2` with
    Delaunay edges, graph diameter :math:`T = 2(k - 1)`).

    Nodes are in C order with axis 0 slowest (:obj:`torch.meshgrid(..., indexing="ij")`
    flattened): in 2-D node :math:`(i_0, i_1)` has index :math:`i_0 k_1 + i_1` and position

    .. math::
        x_{i_0 i_1} = \mathrm{lo} + (\mathrm{hi} - \mathrm{lo}) \odot
        \left(\frac{i_0}{k_0 - 1}, \frac{i_1}{k_1 - 1}\right).

    With :obj:`edges="delaunay"` the grid is triangulated by :func:`kuhn_simplices` (every cell
    cut the same way, which is one of qhull's many valid answers for cocircular points, chosen
    deterministically) and the simplices are returned as :obj:`face`; with
    :obj:`edges="lattice"` only axis-aligned neighbours are connected and there is no
    :obj:`face`.

    Args:
        k (int or Sequence[int]): nodes per axis, at least 2 (one number for all axes, or one
            per axis).
        dim (int, optional): number of axes; :obj:`None` means 2 for an int :obj:`k` and
            :obj:`len(k)` otherwise. (default: :obj:`None`)
        bounds (tuple, optional): :obj:`(lo, hi)`, each a number or one number per axis.
            (default: :obj:`(0.0, 1.0)`)
        edges (str, optional): :obj:`"delaunay"` or :obj:`"lattice"`.
            (default: :obj:`"delaunay"`)
        dtype (torch.dtype, optional): dtype of :obj:`pos`. (default: the default dtype)
        device (torch.device, optional): device of every tensor. (default: CPU)

    Returns:
        :class:`~torch_geometric.data.Data` with :obj:`pos` :obj:`[N, D]`, :obj:`edge_index`
        (both directions, sorted), :obj:`num_nodes`, :obj:`diameter` :obj:`[1]`, the grid
        metadata :obj:`grid_shape` (long) :obj:`[1, D]`, :obj:`grid_lo` and :obj:`grid_hi`
        :obj:`[1, D]` (shaped to batch into :obj:`[B, D]`), and :obj:`face` :obj:`[D+1, F]` for
        Delaunay edges.

    Example:
        >>> mesh = grid(3)
        >>> mesh.num_nodes, mesh.num_edges // 2, mesh.face.size(1), mesh.diameter.tolist()
        (9, 16, 8, [4])
        >>> mesh.pos[5].tolist()  # node (1, 2)
        [0.5, 1.0]
    """
    shape = _resolve_shape(k, dim)
    if edges not in EDGE_KINDS:
        raise ValueError(f"edges must be one of {EDGE_KINDS}, got {edges!r}")
    d = len(shape)
    check_num_nodes(math.prod(shape), f"k={k!r}, dim={dim!r}")
    if edges == "delaunay" and d > 8:
        raise ValueError(f"edges='delaunay' splits each cell into dim! simplices; dim={d} is "
                         "too many (use edges='lattice')")
    lo, hi = resolve_bounds(bounds, d)
    dtype = resolve_dtype(dtype)
    axes = [
        torch.linspace(float(a), float(b), n, dtype=torch.float64)
        for a, b, n in zip(lo, hi, shape, strict=True)
    ]
    # Exact end points (linspace may round the last one).
    for ax, b in zip(axes, hi, strict=True):
        ax[-1] = b
    pos = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, d)
    pos = check_fits(pos.to(device=device, dtype=dtype), bounds)
    if edges == "delaunay":
        edge_index, face = kuhn_edges(shape), kuhn_simplices(shape)
    else:
        edge_index, face = lattice_edges(shape), None
    return make_mesh(
        pos,
        edge_index.to(pos.device),
        face,
        grid_shape=torch.tensor([shape], dtype=torch.long, device=pos.device),
        grid_lo=lo.view(1, d).to(device=pos.device, dtype=dtype),
        grid_hi=hi.view(1, d).to(device=pos.device, dtype=dtype),
    )
