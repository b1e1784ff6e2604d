"""What the spatial encoder and decoder share: applying a representation function's weights."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing

from gen_pyg._validation import check_points, check_same_float, run_trusted, shape_of
from gen_pyg.nn.representation import (
    DenseSizes,
    Representation,
    check_assignment_inputs,
    get_representation,
)
from gen_pyg.ops._sparse import spmm
from gen_pyg.typing import Assignment

BACKENDS = ("auto", "fused", "propagate")


def _check_assignment(assignment: object, point_pos: object, node_pos: object,
                      point_name: str) -> None:
    """A precomputed ``(point_index, node_index, weight)`` of tensors (shapes and types; its
    indices are trusted)."""
    check_points(point_pos, point_name, finite=False)
    check_points(node_pos, "node_pos", finite=False)
    if not (isinstance(assignment, (tuple, list)) and len(assignment) == 3
            and all(isinstance(t, Tensor) for t in assignment)):
        raise TypeError("assignment must be a tuple (point_index, node_index, weight) of tensors")
    point, node, weight = assignment
    if not (point.dim() == node.dim() == weight.dim() == 1
            and point.numel() == node.numel() == weight.numel()):
        raise ValueError(
            f"assignment tensors must be 1-D of one length, got shapes {tuple(point.shape)}, "
            f"{tuple(node.shape)} and {tuple(weight.shape)}"
        )
    for t, name in ((point, "point_index"), (node, "node_index")):
        if t.dtype != torch.long:
            raise TypeError(f"assignment {name} must be a torch.long tensor, got {t.dtype}")


def _padded_rows(batch: Tensor | None, rows: int, num_examples: int, width: int) -> Tensor:
    """Slot of every row in a ``[num_examples * width]`` padding of sorted examples (the
    layout of :func:`~torch_geometric.utils.to_dense_batch`), without a device sync."""
    device = batch.device if batch is not None else None
    b = torch.zeros(rows, dtype=torch.long, device=device) if batch is None else batch
    counts = torch.zeros(num_examples, dtype=torch.long, device=b.device).scatter_add_(
        0, b, torch.ones_like(b))
    start = torch.cumsum(counts, 0) - counts
    return torch.arange(rows, device=b.device) - start[b] + b * width


class SpatialAggregation(MessagePassing):
    r"""Base class of :class:`SpatialEncoder` (points :math:`\to` nodes) and
    :class:`SpatialDecoder` (nodes :math:`\to` points): both multiply features by the weight
    matrix :math:`W_{pn} = r(x_p)_n` of a representation function, in one direction or the
    other.

    The definition is PyG's :meth:`propagate` over the (point, node, weight) triples of the
    representation (``backend="propagate"``, any aggregation). With sum aggregation a fused
    backend computes the same thing faster: dense representations (dense
    :class:`SoftNearest`) as one batched matrix product, sparse ones with the chunked
    chunked sparse-dense product, which keeps no :math:`(M, F)` message tensor for the backward
    pass. ``backend="auto"`` picks the fused one whenever it applies.

    Args:
        representation (Representation or str): the representation function :math:`r` (an
            instance, or a name for :func:`~gen_pyg.nn.get_representation`).
        aggr (str): aggregation of the weighted messages (``"sum"`` is the GEN's).
        backend (str, optional): ``"auto"``, ``"fused"`` (needs ``aggr="sum"``) or
            ``"propagate"``. (default: :obj:`"auto"`)

    Shapes:
        - **points to nodes** (:class:`SpatialEncoder`): features :math:`(P, F)`, point
          positions :math:`(P, D)`, node positions :math:`(N, D)`, optional batch vectors
          :math:`(P,)` and :math:`(N,)` -> :math:`(N, F)`
        - **nodes to points** (:class:`SpatialDecoder`): features :math:`(N, F)` -> :math:`(P, F)`
    """

    def __init__(
        self, representation: Representation | str, aggr: str, backend: str = "auto"
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend == "fused" and aggr not in ("sum", "add"):
            raise ValueError(
                f"backend='fused' needs aggr='sum', got {aggr!r}; use backend='auto' or "
                "'propagate'"
            )
        try:
            super().__init__(aggr=aggr, flow="source_to_target")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"aggr must be one of PyG's aggregations (e.g. 'sum', 'mean', 'max'), got "
                f"aggr={aggr!r} ({exc})"
            ) from exc
        self.representation = get_representation(representation)
        self.backend = backend
        self.reset_parameters()

    @property
    def fused(self) -> bool:
        """Whether the fused backend is taken (sum aggregation, backend not ``"propagate"``)."""
        return self.backend != "propagate" and self.aggr in ("sum", "add")

    def reset_parameters(self) -> None:
        super().reset_parameters()
        reset = getattr(self.representation, "reset_parameters", None)
        if callable(reset):
            reset()

    def _forward(
        self,
        x: Tensor,
        to_nodes: bool,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None,
        node_batch: Tensor | None,
        mesh: Data | None,
        assignment: Assignment | None,
        point_name: str,
        sizes: DenseSizes | None = None,
    ) -> Tensor:
        """Check the shapes and types of the public arguments (``point_name`` is ``point_pos``
        or ``query_pos``), then apply the weights. Values are trusted, as in PyG's layers: no
        scan and no device sync here, and the representation function skips its scans."""
        rows, per = (
            (point_pos.size(0), f"point of {point_name}") if to_nodes
            else (node_pos.size(0), "node of node_pos")
        )
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(0) != rows:
            raise ValueError(f"x must have shape [{rows}, F] (one row per {per}), got "
                             f"{shape_of(x)}")
        if assignment is None:
            run_trusted(check_assignment_inputs, point_pos, node_pos, point_batch, node_batch,
                        point_name)
        else:
            _check_assignment(assignment, point_pos, node_pos, point_name)
        check_same_float(x, "x", point_pos, point_name)
        return run_trusted(self._apply_weights, x, to_nodes, point_pos, node_pos, point_batch,
                           node_batch, mesh, assignment, sizes)

    def _apply_weights(
        self,
        x: Tensor,
        to_nodes: bool,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None,
        node_batch: Tensor | None,
        mesh: Data | None,
        assignment: Assignment | None,
        sizes: DenseSizes | None = None,
    ) -> Tensor:
        """:math:`W^\\top x` (points to nodes) if :obj:`to_nodes`, else :math:`W x`."""
        if assignment is None and self.fused:
            dense = (self.representation.dense(point_pos, node_pos, point_batch, node_batch, mesh,
                                               sizes) if sizes is not None else
                     self.representation.dense(point_pos, node_pos, point_batch, node_batch, mesh))
            if dense is not None:
                weight, point_mask, node_mask = dense
                src_mask, dst_mask = (
                    (point_mask, node_mask) if to_nodes else (node_mask, point_mask)
                )
                w = weight.transpose(1, 2) if to_nodes else weight
                src_batch, dst_batch = (
                    (point_batch, node_batch) if to_nodes else (node_batch, point_batch)
                )
                if src_mask is None:  # no padding: a view, not a copy
                    padded = x.reshape(w.shape[:1] + w.shape[2:] + x.shape[1:])
                else:
                    # rows to their padded slots by index, not by boolean mask: no sync
                    rows = _padded_rows(src_batch, x.size(0), *src_mask.shape)
                    padded = x.new_zeros((src_mask.numel(), *x.shape[1:])).index_copy(
                        0, rows, x).view(src_mask.shape + x.shape[1:])
                blocks = torch.bmm(w, padded)
                flat = blocks.reshape(-1, blocks.size(-1))
                if dst_mask is None:
                    return flat
                num_dst = node_pos.size(0) if to_nodes else point_pos.size(0)
                return flat.index_select(0, _padded_rows(dst_batch, num_dst, *dst_mask.shape))
        if assignment is None:
            assignment = self.representation(point_pos, node_pos, point_batch, node_batch, mesh)
        point, node, weight = assignment
        src, dst = (point, node) if to_nodes else (node, point)
        num_dst = node_pos.size(0) if to_nodes else point_pos.size(0)
        if self.fused:
            # fused and chunked: no [M, F] message tensor is kept for the backward pass
            return spmm(dst, src, weight, x, num_dst)
        out: Tensor = self.propagate(
            torch.stack([src, dst]), x=(x, None), edge_weight=weight, size=(x.size(0), num_dst)
        )
        return out

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.unsqueeze(-1) * x_j
