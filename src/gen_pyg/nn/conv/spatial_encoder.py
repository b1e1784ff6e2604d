"""Scatter encoded point samples onto mesh nodes."""

from __future__ import annotations

from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.nn.conv.spatial_base import SpatialAggregation
from gen_pyg.nn.representation import DenseSizes, Representation
from gen_pyg.typing import Assignment


class SpatialEncoder(SpatialAggregation):
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
        backend (str, optional): ``"auto"``, ``"fused"`` or ``"propagate"`` (see
            :class:`SpatialAggregation`). (default: :obj:`"auto"`)

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
        self,
        representation: Representation | str = "soft_nearest",
        aggr: str = "sum",
        backend: str = "auto",
    ) -> None:
        super().__init__(representation, aggr, backend)

    def forward(
        self,
        x: Tensor,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
        assignment: Assignment | None = None,
        sizes: DenseSizes | None = None,
    ) -> Tensor:
        """Node states from point features; pass a precomputed :obj:`assignment` to skip the
        representation function; :obj:`sizes` (:func:`~gen_pyg.nn.representation.dense_sizes`)
        spares a dense representation reading its block sizes back from the device."""
        return self._forward(
            x, True, point_pos, node_pos, point_batch, node_batch, mesh, assignment, "point_pos",
            sizes)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.representation}, aggr={self.aggr}, "
            f"backend={self.backend!r})"
        )
