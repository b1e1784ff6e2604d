"""Interpolate mesh node states at arbitrary query points."""

from __future__ import annotations

from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.nn.conv.spatial_base import SpatialAggregation
from gen_pyg.nn.representation import DenseSizes, Representation
from gen_pyg.typing import Assignment


class SpatialDecoder(SpatialAggregation):
    r"""Bipartite nodes :math:`\to` points layer of a Graph Element Network (Alet et al.,
    ICML 2019, §3.3): the latent function at a query point is the weighted sum of node states,

    .. math::
        \mathbf{z}(x) = \sum_{n} r(x)_n \, \mathbf{z}^{T}_n .

    The arguments come in the order of :func:`torch_geometric.nn.knn_interpolate` (features,
    their positions, the query positions, then the batch vectors in the same order); unlike
    it, the weights are differentiable with respect to node and query positions.

    Args:
        representation (Representation or str, optional): the representation function or its
            registry name. (default: :obj:`"soft_nearest"`)

    Shapes:
        - **input:** node features :math:`(N, F)`, node positions :math:`(N, D)`, query
          positions :math:`(Q, D)`, batch vectors :math:`(N)`, :math:`(Q)`
        - **output:** query features :math:`(Q, F)`

    Example:
        >>> dec = SpatialDecoder(SoftNearest(k=1))
        >>> nodes = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
        >>> dec(torch.tensor([[2.0], [3.0]]), nodes, torch.tensor([[0.9, 0.0]])).tolist()
        [[3.0]]
    """

    def __init__(
        self, representation: Representation | str = "soft_nearest", backend: str = "auto"
    ) -> None:
        super().__init__(representation, "sum", backend)

    def forward(
        self,
        x: Tensor,
        node_pos: Tensor,
        query_pos: Tensor,
        node_batch: Tensor | None = None,
        query_batch: Tensor | None = None,
        mesh: Data | None = None,
        assignment: Assignment | None = None,
        sizes: DenseSizes | None = None,
    ) -> Tensor:
        """Query features from the node states :obj:`x` at :obj:`node_pos`; pass a
        precomputed :obj:`assignment` ``(query_index, node_index, weight)`` to skip the
        representation function; :obj:`sizes` (:func:`~gen_pyg.nn.representation.dense_sizes`)
        spares a dense representation reading its block sizes back from the device."""
        return self._forward(
            x, False, query_pos, node_pos, query_batch, node_batch, mesh, assignment, "query_pos",
            sizes)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.representation}, backend={self.backend!r})"
