"""Shared pieces of the mesh builders: input checks, edge clean-up and the final ``Data``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, remove_self_loops

from gen_pyg._validation import check_int as check_int  # the mesh builders import it here
from gen_pyg._validation import check_points
from gen_pyg.mesh.diameter import graph_diameter

#: An edge builder maps node positions ``[N, D]`` to ``edge_index`` ``[2, E]``, or to a pair
#: ``(edge_index, face)`` where ``face`` is ``[D+1, F]`` or ``None``.
EdgeBuilder: TypeAlias = Callable[[Tensor], Tensor | tuple[Tensor, Tensor | None]]

#: Bounds of a box: ``(lo, hi)``, each a number or one number per axis.
Bounds: TypeAlias = tuple[float | Sequence[float], float | Sequence[float]]


def check_positions(pos: object, name: str = "pos", dim: int | None = None) -> Tensor:
    """A floating ``[N, D]`` tensor with finite values and at least one point."""
    t = check_points(pos, name, dim=dim)
    if t.size(0) == 0:
        raise ValueError(f"{name} must contain at least one point, got shape {tuple(t.shape)}")
    if t.size(1) == 0:
        raise ValueError(f"{name} must have at least one coordinate per point")
    return t


#: Most nodes a builder makes: beyond it a typo (``grid(10**5, dim=3)``) would exhaust memory
#: instead of failing.
MAX_NODES = 100_000_000


def check_num_nodes(count: int, what: str) -> int:
    """``count`` nodes are at most :data:`MAX_NODES`; ``what`` names the arguments."""
    if count > MAX_NODES:
        raise ValueError(f"{what} gives {count} nodes, more than the limit of {MAX_NODES}")
    return count


def resolve_dtype(dtype: object) -> torch.dtype:
    """``dtype`` (``None``: the default dtype) as a floating :class:`torch.dtype`."""
    if dtype is None:
        return torch.get_default_dtype()
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype or None, got {dtype!r}")
    return dtype


def check_fits(pos: Tensor, bounds: object) -> Tensor:
    """Positions converted to a narrower dtype are still finite."""
    if pos.numel() and not bool(torch.isfinite(pos).all()):
        raise ValueError(f"bounds {bounds!r} overflow dtype {pos.dtype}")
    return pos


def resolve_bounds(bounds: object, dim: int, name: str = "bounds") -> tuple[Tensor, Tensor]:
    """Per-axis ``(lo, hi)`` as float64 CPU tensors of shape ``[dim]`` with ``lo < hi``."""
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise ValueError(f"{name} must be a pair (lo, hi), got {bounds!r}")
    out = []
    for side, value in zip(("lo", "hi"), bounds, strict=True):
        t = torch.as_tensor(value, dtype=torch.float64).flatten()
        if t.numel() == 1:
            t = t.expand(dim).clone()
        if t.numel() != dim:
            raise ValueError(
                f"{name}: {side} must be a number or {dim} numbers (one per axis), got {value!r}"
            )
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name}: {side} must be finite, got {value!r}")
        out.append(t)
    lo, hi = out
    if not bool(torch.isfinite(hi - lo).all()):
        raise ValueError(f"{name}: hi - lo overflows float64, got {bounds!r}")
    if not bool((lo < hi).all()):
        raise ValueError(f"{name} must satisfy lo < hi on every axis, got {bounds!r}")
    return lo, hi


def undirected(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Both directions of every edge, no self loops, no duplicates, sorted (by row, then col)."""
    edge_index = edge_index.long()
    if edge_index.numel() == 0:
        return edge_index.new_empty(2, 0)
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    edge_index, _ = remove_self_loops(edge_index)
    out: Tensor = coalesce(edge_index, num_nodes=num_nodes)
    return out


def diameter_of(edge_index: Tensor, num_nodes: int) -> Tensor:
    """The hop diameter as a 1-element long tensor, so that it batches to ``[B]``."""
    return graph_diameter(edge_index, num_nodes).to(edge_index.device)


def make_mesh(pos: Tensor, edge_index: Tensor, face: Tensor | None = None, **attrs: Any) -> Data:
    """The ``Data`` every builder returns: ``pos``, clean undirected ``edge_index``,
    ``num_nodes``, ``diameter`` ``[1]``, optional ``face`` and extra attributes."""
    n = pos.size(0)
    edge_index = undirected(edge_index.to(pos.device), n)
    data = Data(pos=pos, edge_index=edge_index, num_nodes=n)
    if face is not None:
        data.face = face.to(pos.device).long()
    data.diameter = diameter_of(edge_index, n)
    for key, value in attrs.items():
        data[key] = value
    return data


def split_builder_output(out: object, name: str = "edges") -> tuple[Tensor, Tensor | None]:
    """Normalise the output of an :data:`EdgeBuilder` to ``(edge_index, face)``."""
    if isinstance(out, Tensor):
        return out, None
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], Tensor):
        face = out[1]
        if face is not None and not isinstance(face, Tensor):
            raise TypeError(f"{name} returned a face that is not a Tensor or None")
        return out[0], face
    raise TypeError(
        f"{name} must return edge_index [2, E] or a pair (edge_index, face), "
        f"got {type(out).__name__}"
    )


def pairs_of_simplices(simplices: Tensor) -> Tensor:
    """All vertex pairs of simplices ``[S, K]`` as edges ``[2, S * K (K - 1) / 2]``."""
    k = simplices.size(1)
    rows, cols = [], []
    for a in range(k):
        for b in range(a + 1, k):
            rows.append(simplices[:, a])
            cols.append(simplices[:, b])
    if not rows:
        return simplices.new_empty(2, 0)
    return torch.stack([torch.cat(rows), torch.cat(cols)])


def path_edges(order: Tensor) -> Tensor:
    """Edges ``order[i] -- order[i + 1]`` of a path through the nodes in ``order``."""
    return torch.stack([order[:-1], order[1:]])


def affine_frame(p: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Dimension of the affine hull of ``p`` ``[N, D]``, its centre and principal axes."""
    centre = p.mean(axis=0)
    centred = p - centre
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    if sing.size == 0 or sing[0] == 0.0:
        return 0, centre, vt
    tol = sing[0] * max(p.shape) * np.finfo(np.float64).eps * 1e3
    return int((sing > tol).sum()), centre, vt


def attach_missing(edges: np.ndarray, missing: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Connect each point of ``missing`` (not a vertex of any simplex, e.g. a duplicate) to its
    nearest triangulated point and to that point's neighbours."""
    if missing.size == 0:
        return edges
    n = p.shape[0]
    present = np.setdiff1d(np.arange(n), missing)
    both = np.concatenate([edges, edges[::-1]], axis=1)
    extra = []
    for i in missing:
        j = present[np.argmin(((p[present] - p[i]) ** 2).sum(axis=1))]
        nbrs = np.unique(both[1][both[0] == j])
        extra.append(np.stack([np.full(nbrs.size + 1, i), np.concatenate([[j], nbrs])]))
    return np.concatenate([edges, *extra], axis=1)
