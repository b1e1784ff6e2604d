"""Interpolate mesh node states at arbitrary query points."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing

from gen_pyg.nn.representation import Representation, get_representation
from gen_pyg.ops.sparse import spmm
from gen_pyg.typing import Assignment


class SpatialDecoder(MessagePassing):
    r"""Bipartite nodes :math:`\to` points layer of a Graph Element Network (Alet et al.,
    ICML 2019, §3.3): the latent function at a query point is the weighted sum of node states,

    .. math::
        \mathbf{z}(x) = \sum_{n} r(x)_n \, \mathbf{z}^{T}_n .

    Unlike :func:`torch_geometric.nn.knn_interpolate`, the weights are differentiable with
    respect to node and query positions.

    Args:
        representation (Representation or str, optional): the representation function or its
            registry name. (default: :obj:`"soft_nearest"`)

    Shapes:
        - **input:** node features :math:`(N, F)`, query positions :math:`(Q, D)`, node
          positions :math:`(N, D)`, batch vectors :math:`(Q)`, :math:`(N)`
        - **output:** query features :math:`(Q, F)`

    Example:
        >>> dec = SpatialDecoder(SoftNearest(k=1))
        >>> nodes = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
        >>> dec(torch.tensor([[2.0], [3.0]]), torch.tensor([[0.9, 0.0]]), nodes).tolist()
        [[3.0]]
    """

    def __init__(self, representation: Representation | str = "soft_nearest") -> None:
        super().__init__(aggr="sum", flow="source_to_target")
        self.representation = get_representation(representation)
        #: Use PyG's gather/scatter ``propagate`` instead of the fused :func:`~gen_pyg.ops.spmm`
        #: (same result; kept for reference and tests).
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
        query_pos: Tensor,
        node_pos: Tensor,
        query_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
        assignment: Assignment | None = None,
    ) -> Tensor:
        """Query features from node states; pass a precomputed :obj:`assignment` to skip the
        representation function. Representations with a dense form (dense
        :class:`SoftNearest`) are applied as one batched matrix product."""
        if assignment is None:
            dense = self.representation.dense(query_pos, node_pos, query_batch, node_batch, mesh)
            if dense is not None:
                weight, point_mask, node_mask = dense
                z = x.new_zeros(node_mask.shape + x.shape[1:])
                z[node_mask] = x
                return torch.bmm(weight, z)[point_mask]
            assignment = self.representation(query_pos, node_pos, query_batch, node_batch, mesh)
        row, col, weight = assignment
        if not self.use_message_passing:
            # fused and chunked: no [M, F] message tensor is kept for the backward pass
            return spmm(row, col, weight, x, query_pos.size(0))
        edge_index = torch.stack([col, row])
        out: Tensor = self.propagate(
            edge_index, x=(x, None), edge_weight=weight, size=(x.size(0), query_pos.size(0))
        )
        return out

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.unsqueeze(-1) * x_j

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.representation})"
