"""Scatter encoded point samples onto mesh nodes."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing

from gen_pyg.nn.representation import Representation, get_representation
from gen_pyg.ops.sparse import spmm
from gen_pyg.typing import Assignment


class SpatialEncoder(MessagePassing):
    r"""Bipartite points :math:`\to` nodes layer of a Graph Element Network (Alet et al.,
    ICML 2019, §3.3): the initial state of every node is the weighted sum of the (already
    encoded) samples of its example,

    .. math::
        \mathbf{z}^{0}_n = \sum_{p} r(x_p)_n \, \mathbf{h}_p ,

    with the weights of a representation function :math:`r`.

    Args:
        representation (Representation or str, optional): the representation function or its
            registry name. (default: :obj:`"soft_nearest"`)
        aggr (str, optional): aggregation of weighted samples. (default: :obj:`"sum"`)

    Shapes:
        - **input:** sample features :math:`(P, F)`, sample positions :math:`(P, D)`, node
          positions :math:`(N, D)`, batch vectors :math:`(P)`, :math:`(N)`
        - **output:** node features :math:`(N, F)`

    Example:
        >>> enc = SpatialEncoder(SoftNearest(k=1))
        >>> nodes = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
        >>> points = torch.tensor([[0.1, 0.0], [0.2, 0.0]])
        >>> enc(torch.tensor([[2.0], [3.0]]), points, nodes).tolist()
        [[5.0], [0.0]]
    """

    def __init__(
        self, representation: Representation | str = "soft_nearest", aggr: str = "sum"
    ) -> None:
        super().__init__(aggr=aggr, flow="source_to_target")
        self.representation = get_representation(representation)
        #: Use PyG's gather/scatter ``propagate`` instead of the fused :func:`~gen_pyg.ops.spmm`
        #: for sum aggregation (same result; kept for reference and tests).
        self.use_message_passing = False
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        reset = getattr(self.representation, "reset_parameters", None)
        if callable(reset):
            reset()

    def forward(
        self,
        x: Tensor,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
        assignment: Assignment | None = None,
    ) -> Tensor:
        """Node states from point features; pass a precomputed :obj:`assignment` to skip the
        representation function. Representations with a dense form (dense
        :class:`SoftNearest`) are applied as one batched matrix product."""
        if assignment is None:
            dense = self.representation.dense(point_pos, node_pos, point_batch, node_batch, mesh)
            if dense is not None:
                weight, point_mask, node_mask = dense
                h = x.new_zeros(point_mask.shape + x.shape[1:])
                h[point_mask] = x
                return torch.bmm(weight.transpose(1, 2), h)[node_mask]
            assignment = self.representation(point_pos, node_pos, point_batch, node_batch, mesh)
        row, col, weight = assignment
        if self.aggr in ("sum", "add") and not self.use_message_passing:
            # fused and chunked: no [M, F] message tensor is kept for the backward pass
            return spmm(col, row, weight, x, node_pos.size(0))
        edge_index = torch.stack([row, col])
        out: Tensor = self.propagate(
            edge_index, x=(x, None), edge_weight=weight, size=(x.size(0), node_pos.size(0))
        )
        return out

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.unsqueeze(-1) * x_j

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.representation}, aggr={self.aggr})"
