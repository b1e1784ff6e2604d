"""Multilinear ("rectangular barycentric") weights on a regular grid."""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import check_finite
from gen_pyg.nn.representation import (
    Representation,
    check_assignment_inputs,
    register_representation,
)
from gen_pyg.typing import Assignment

#: The grid metadata :func:`gen_pyg.mesh.grid` puts on a mesh, which :class:`Bilinear` reads.
GRID_KEYS = ("grid_shape", "grid_lo", "grid_hi")
#: How to keep the metadata with a mesh, for error messages.
_KEEP_METADATA = (
    "keep the grid metadata of gen_pyg.mesh.grid with the mesh: Data(**mesh.to_dict(), "
    "input_pos=..., ...), or Data(pos=mesh.pos, edge_index=mesh.edge_index, "
    "grid_shape=mesh.grid_shape, grid_lo=mesh.grid_lo, grid_hi=mesh.grid_hi, ...)"
)


def grid_from_positions(node_pos: Tensor, node_batch: Tensor, atol: float = 1e-5) -> Data:
    """The grid metadata (:obj:`grid_shape`, :obj:`grid_lo`, :obj:`grid_hi`, each
    :obj:`[B, D]`) of mesh nodes that form a full regular grid per example, read from their
    positions: the distinct coordinates along each axis (to :obj:`atol` of the box size) give
    the shape, their extremes the box. Raises ``ValueError`` where the distinct coordinates do
    not make as many nodes as the example has; :class:`Bilinear` then checks the spacing and
    the C order against the positions, so a mesh that is not such a grid is refused, never
    misread.

    Example:
        >>> from gen_pyg.mesh import grid
        >>> mesh = grid((2, 3), bounds=(0.0, 2.0))
        >>> meta = grid_from_positions(mesh.pos, torch.zeros(6, dtype=torch.long))
        >>> meta.grid_shape.tolist(), meta.grid_lo.tolist(), meta.grid_hi.tolist()
        ([[2, 3]], [[0.0, 0.0]], [[2.0, 2.0]])
    """
    pos = node_pos.detach()
    num = int(node_batch.max()) + 1 if node_batch.numel() else 1
    shapes, lows, highs = [], [], []
    for b in range(num):
        p = pos[node_batch == b]
        if p.size(0) < 2:
            raise ValueError(f"Bilinear: example {b} has {p.size(0)} mesh node(s), not a grid; "
                             f"{_KEEP_METADATA}")
        lo, hi = p.min(dim=0).values, p.max(dim=0).values
        gaps = p.sort(dim=0).values.diff(dim=0) > atol * (hi - lo).max()
        shape = (gaps.sum(dim=0) + 1).tolist()
        if math.prod(shape) != p.size(0) or min(shape) < 2:
            raise ValueError(
                f"Bilinear needs a regular grid mesh, and the mesh has no grid_shape, grid_lo "
                f"and grid_hi: {_KEEP_METADATA}. Read from the node positions instead, the "
                f"{p.size(0)} nodes of example {b} are not a full grid (their distinct "
                f"coordinates per axis, {shape}, make {math.prod(shape)} nodes); use "
                "SoftNearest or Barycentric for meshes that are not grids"
            )
        shapes.append(shape)
        lows.append(lo)
        highs.append(hi)
    return Data(grid_shape=torch.tensor(shapes, dtype=torch.long, device=pos.device),
                grid_lo=torch.stack(lows), grid_hi=torch.stack(highs))


@register_representation("bilinear")
class Bilinear(Representation):
    r"""Weights of a point on the :math:`2^D` corners of the grid cell containing it: the
    "rectangular barycentric" representation of the GEN paper (appendix A.1), i.e. bilinear
    (multilinear in :math:`D` dimensions) interpolation,

    .. math::
        r(x)_c = \prod_{d=1}^{D} \left(1 - \frac{\lvert x_d - x_{c,d} \rvert}{h_d}\right)

    for the corners :math:`c` of the cell, with cell widths :math:`h_d`. Each corner gets the
    area fraction of the sub-rectangle *opposite* to it, so the weights sum to one and reproduce
    linear functions exactly. (Read literally, the paper's formula gives each corner the area of
    its own sub-rectangle, which swaps the weights; the code follows the interpolation it
    describes.)

    The mesh must be a regular grid with nodes in C order (axis 0 slowest), as built by
    :func:`gen_pyg.mesh.grid`, carrying :obj:`grid_shape`, :obj:`grid_lo` and :obj:`grid_hi`
    (each :obj:`[B, D]`); a mesh without them (``Data(pos=mesh.pos,
    edge_index=mesh.edge_index, ...)``) has them read from its node positions
    (:func:`~gen_pyg.nn.bilinear.grid_from_positions`, a few device syncs per call), and one
    whose nodes are not such a grid is refused. Cells are located from that metadata; the
    weights are computed from the actual node positions, so they are differentiable with
    respect to both points and nodes. Points outside the grid's box are projected onto it.

    Args:
        atol (float, optional): tolerance, relative to the box size, when checking that node
            positions form the declared grid. (default: :obj:`1e-5`)

    Example:
        >>> from torch_geometric.data import Data
        >>> pos = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> mesh = Data(pos=pos, grid_shape=torch.tensor([[2, 2]]),
        ...             grid_lo=torch.zeros(1, 2), grid_hi=torch.ones(1, 2))
        >>> row, col, w = Bilinear()(torch.tensor([[0.25, 0.5]]), pos, mesh=mesh)
        >>> [round(v, 4) for v in w.tolist()]
        [0.375, 0.375, 0.125, 0.125]
    """

    def __init__(self, atol: float = 1e-5) -> None:
        super().__init__()
        self.atol = float(atol)

    def forward(
        self,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
    ) -> Assignment:
        point_batch, node_batch = check_assignment_inputs(
            point_pos, node_pos, point_batch, node_batch
        )
        present = [k for k in GRID_KEYS if mesh is not None and getattr(mesh, k, None) is not None]
        recovered = not present
        if recovered:
            mesh = grid_from_positions(node_pos, node_batch, self.atol)
        elif len(present) < len(GRID_KEYS):
            missing = [k for k in GRID_KEYS if k not in present]
            raise ValueError(f"Bilinear: the mesh has {present} but not {missing}; "
                             f"{_KEEP_METADATA}")
        assert mesh is not None
        num_dims = node_pos.size(1)
        for key in ("grid_shape", "grid_lo", "grid_hi"):
            value = mesh[key]
            if not isinstance(value, Tensor):
                raise TypeError(f"mesh.{key} must be a torch.Tensor, got {type(value).__name__}")
            if value.dim() != 2 or value.size(1) != num_dims:
                raise ValueError(
                    f"mesh.{key} must have shape [num_examples, {num_dims}], "
                    f"got {tuple(value.shape)}"
                )
        if mesh.grid_shape.is_floating_point() or mesh.grid_shape.is_complex():
            raise TypeError(f"mesh.grid_shape must be an integer tensor, got dtype "
                            f"{mesh.grid_shape.dtype}")
        shape = mesh.grid_shape.to(node_pos.device).long()
        lo = mesh.grid_lo.to(node_pos)
        hi = mesh.grid_hi.to(node_pos)
        if not (lo.size(0) == hi.size(0) == shape.size(0)):
            raise ValueError(
                f"mesh.grid_shape, grid_lo and grid_hi must have one row per example, got "
                f"{shape.size(0)}, {lo.size(0)} and {hi.size(0)}"
            )
        if bool((shape < 2).any()):
            raise ValueError(f"mesh.grid_shape must be at least 2 on every axis (Bilinear "
                             f"needs 2 grid nodes per axis), got {shape.tolist()}")
        check_finite(lo, "mesh.grid_lo", force=True)
        check_finite(hi, "mesh.grid_hi", force=True)
        if not bool((hi > lo).all()):
            raise ValueError("mesh.grid_hi must be greater than mesh.grid_lo on every axis")
        num_examples = shape.size(0)

        # Strides of the C-ordered node layout, and where each example's nodes start.
        strides = torch.ones_like(shape)
        for d in range(num_dims - 2, -1, -1):
            strides[:, d] = strides[:, d + 1] * shape[:, d + 1]
        counts = torch.bincount(node_batch, minlength=num_examples)
        if counts.numel() != num_examples or not torch.equal(counts, shape.prod(dim=1)):
            raise ValueError(
                "Bilinear: the mesh is not a grid (node counts do not match mesh.grid_shape)"
            )
        start = torch.cumsum(counts, 0) - counts
        try:
            self._check_grid(node_pos, node_batch, shape, lo, hi, start)
        except ValueError:
            if not recovered:
                raise
            raise ValueError(
                f"Bilinear: the mesh has no grid metadata and its nodes lie on grids of shapes "
                f"{shape.tolist()} but are not numbered in C order (axis 0 slowest, as "
                f"gen_pyg.mesh.grid numbers them) or not evenly spaced; {_KEEP_METADATA}"
            ) from None

        with torch.no_grad():
            s, low, high = shape[point_batch], lo[point_batch], hi[point_batch]
            u = (point_pos.detach() - low) / (high - low) * (s - 1)
            cell = u.floor().long().clamp(min=torch.zeros_like(s), max=s - 2)
            base = start[point_batch] + (cell * strides[point_batch]).sum(-1)
            far = base + strides[point_batch].sum(-1)
        p0, p1 = node_pos[base], node_pos[far]
        t = ((point_pos - p0) / (p1 - p0)).clamp(0.0, 1.0)

        rows, cols, weights = [], [], []
        arange = torch.arange(point_pos.size(0), device=point_pos.device)
        for corner in itertools.product((0, 1), repeat=num_dims):
            offset = torch.tensor(corner, device=node_pos.device)
            factors = torch.where(offset.bool(), t, 1.0 - t)
            rows.append(arange)
            cols.append(base + (offset * strides[point_batch]).sum(-1))
            weights.append(factors.prod(dim=-1))
        row = torch.stack(rows, 1).view(-1)
        col = torch.stack(cols, 1).view(-1)
        return row, col, torch.stack(weights, 1).view(-1)

    def _check_grid(
        self,
        node_pos: Tensor,
        node_batch: Tensor,
        shape: Tensor,
        lo: Tensor,
        hi: Tensor,
        start: Tensor,
    ) -> None:
        with torch.no_grad():
            local = torch.arange(node_pos.size(0), device=node_pos.device) - start[node_batch]
            s = shape[node_batch]
            idx = torch.empty_like(s)
            rem = local
            for d in range(s.size(1) - 1, -1, -1):
                idx[:, d] = rem % s[:, d]
                rem = rem // s[:, d]
            expected = lo[node_batch] + (hi - lo)[node_batch] * idx / (s - 1)
            scale = (hi - lo).abs().max()
            if not torch.allclose(
                node_pos.detach(), expected, rtol=0.0, atol=self.atol * float(scale)
            ):
                raise ValueError(
                    "Bilinear: node positions do not form the regular grid declared by "
                    "mesh.grid_shape/grid_lo/grid_hi (use SoftNearest or Barycentric for "
                    "meshes that are not grids)"
                )

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"
