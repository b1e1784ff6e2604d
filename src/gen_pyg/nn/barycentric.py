"""Barycentric (P1 finite-element) weights inside the simplices of a triangulation."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import check_index
from gen_pyg.nn.representation import (
    Representation,
    check_assignment_inputs,
    register_representation,
)
from gen_pyg.ops import knn
from gen_pyg.typing import Assignment

#: Upper bound on (point, simplex) pairs tested at once in the containment search.
MAX_PAIRS = 2**22

#: A simplex whose volume, relative to the volume scale of its longest edge, is at most this
#: is degenerate: barycentric coordinates are undefined on it (as for the Delaunay builders).
#: (A simplex that is only singular in the rounding of a narrow dtype is never chosen by the
#: containment search.)
DEGENERATE_RTOL = 1e-10


def check_faces(face: object, node_pos: Tensor, node_batch: Tensor) -> Tensor:
    """``mesh.face`` as a long ``[D+1, F]`` tensor of node indices, each simplex within one
    example and of non-zero volume; a ``ValueError`` names the first bad simplex."""
    num_dims = node_pos.size(1)
    if not isinstance(face, Tensor):
        raise TypeError(f"mesh.face must be a torch.Tensor, got {type(face).__name__}")
    if face.dim() != 2 or face.size(0) != num_dims + 1:
        raise ValueError(
            f"mesh.face must have shape [{num_dims + 1}, F] for {num_dims}-D nodes, "
            f"got {tuple(face.shape)}"
        )
    if face.is_floating_point() or face.is_complex() or face.dtype == torch.bool:
        raise TypeError(f"mesh.face must hold integer node indices, got dtype {face.dtype}")
    face = face.to(node_pos.device).long()
    if face.numel() == 0 or torch.compiler.is_compiling():
        return face
    n = node_pos.size(0)
    check_index(face, n, "mesh.face", f"node_pos has {n} rows", region=False)
    fb = node_batch[face]
    split = (fb != fb[0:1]).any(dim=0)
    if bool(split.any()):
        j = int(split.nonzero()[0])
        raise ValueError(
            f"mesh.face[:, {j}] = {face[:, j].tolist()} joins nodes of different examples "
            f"(node_batch {fb[:, j].tolist()})"
        )
    verts = node_pos.detach().double()[face.t()]  # [F, D+1, D]
    span = verts[:, 1:] - verts[:, :1]
    longest = (verts[:, :, None] - verts[:, None]).norm(dim=-1).amax(dim=(1, 2))
    flat = torch.linalg.det(span).abs() <= DEGENERATE_RTOL * longest**num_dims
    if bool(flat.any()):
        j = int(flat.nonzero()[0])
        raise ValueError(
            f"mesh.face[:, {j}] = {face[:, j].tolist()} is a degenerate simplex (zero volume, "
            f"vertices {verts[j].tolist()}); barycentric coordinates are undefined on it, "
            "remove it (gen_pyg.mesh.delaunay drops such simplices)"
        )
    return face


def _barycentric(points: Tensor, verts: Tensor) -> Tensor:
    """Barycentric coordinates ``[..., D+1]`` of points ``[..., D]`` in simplices
    ``[..., D+1, D]``."""
    v0 = verts[..., 0, :]
    edges = (verts[..., 1:, :] - v0.unsqueeze(-2)).transpose(-1, -2)  # [..., D, D]
    # solve_ex: a simplex singular in this dtype's rounding gives non-finite coordinates (never
    # chosen by the search) instead of raising for the whole batch
    lam = torch.linalg.solve_ex(edges, (points - v0).unsqueeze(-1))[0].squeeze(-1)
    return torch.cat([1.0 - lam.sum(-1, keepdim=True), lam], dim=-1)


@register_representation("barycentric")
class Barycentric(Representation):
    r"""Barycentric weights of a point on the :math:`D+1` vertices of the simplex (triangle in
    2-D) containing it, i.e. piecewise-linear (P1) finite-element basis functions:

    .. math::
        x = \sum_{v \in \sigma(x)} r(x)_v \, x_v, \qquad \sum_{v} r(x)_v = 1,
        \qquad r(x)_v \ge 0.

    Beyond the GEN paper, which used soft nearest neighbours and grid weights. The mesh must
    carry its simplices as :obj:`face` :obj:`[D+1, F]` (PyG convention, as built by the
    Delaunay builders of :mod:`gen_pyg.mesh`). A point outside every simplex of its example
    (outside the convex hull) gets weight one on its nearest node. Containment is found by an
    exact search over the example's simplices (:math:`O(P F)`, chunked to bounded memory) under
    :func:`torch.no_grad`; the weights are then solved with gradients to points and nodes.

    Args:
        eps (float, optional): tolerance on barycentric coordinates for points on simplex
            boundaries. (default: :obj:`1e-9`)

    Example:
        >>> from torch_geometric.data import Data
        >>> pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> mesh = Data(pos=pos, face=torch.tensor([[0], [1], [2]]))
        >>> row, col, w = Barycentric()(torch.tensor([[0.25, 0.5]]), pos, mesh=mesh)
        >>> w.tolist()
        [0.25, 0.25, 0.5]
    """

    def __init__(self, eps: float = 1e-9) -> None:
        super().__init__()
        self.eps = float(eps)

    def forward(
        self,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
    ) -> Assignment:
        face = getattr(mesh, "face", None) if mesh is not None else None
        if face is None:
            raise ValueError(
                "Barycentric needs the mesh's simplices in 'face' [D+1, F] (build the mesh with "
                "gen_pyg.mesh.delaunay or gen_pyg.mesh.grid)"
            )
        point_batch, node_batch = check_assignment_inputs(
            point_pos, node_pos, point_batch, node_batch
        )
        num_dims = node_pos.size(1)
        num_points = point_pos.size(0)
        face = check_faces(face, node_pos, node_batch)

        with torch.no_grad():
            best = torch.full((num_points,), -1, dtype=torch.long, device=node_pos.device)
            if face.size(1) > 0:
                face_batch = node_batch[face[0]]
                verts = node_pos.detach()[face.t()]  # [F, D+1, D]
                step = max(1, MAX_PAIRS // face.size(1))
                for lo in range(0, num_points, step):
                    pts = point_pos.detach()[lo : lo + step]
                    lam = _barycentric(pts[:, None, :], verts[None])  # [p, F, D+1]
                    score = lam.min(-1).values.nan_to_num(nan=float("-inf"))
                    same = point_batch[lo : lo + step, None] == face_batch[None, :]
                    score = score.masked_fill(~same, float("-inf"))
                    value, arg = score.max(dim=1)
                    inside = value >= -self.eps
                    best[lo : lo + step] = torch.where(inside, arg, torch.full_like(arg, -1))
            outside = best < 0
            inside_idx = (~outside).nonzero().view(-1)
            outside_idx = outside.nonzero().view(-1)

        rows, cols, weights = [], [], []
        if inside_idx.numel() > 0:
            simplex = face[:, best[inside_idx]].t()  # [p_in, D+1]
            lam = _barycentric(point_pos[inside_idx], node_pos[simplex])
            rows.append(inside_idx.repeat_interleave(num_dims + 1))
            cols.append(simplex.reshape(-1))
            weights.append(lam.reshape(-1))
        if outside_idx.numel() > 0:
            pairs = knn(
                node_pos.detach(),
                point_pos.detach()[outside_idx],
                1,
                node_batch,
                point_batch[outside_idx],
                sort=False,
            )
            rows.append(outside_idx[pairs[0]])
            cols.append(pairs[1])
            weights.append(
                torch.ones(pairs.size(1), dtype=point_pos.dtype, device=point_pos.device)
            )
        if not rows:
            empty = torch.empty(0, dtype=torch.long, device=point_pos.device)
            return empty, empty, point_pos.new_empty(0)
        return torch.cat(rows), torch.cat(cols), torch.cat(weights)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"
