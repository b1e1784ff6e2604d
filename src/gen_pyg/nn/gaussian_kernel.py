"""A Gaussian kernel as a representation function: weights that depend on where a node is, not
on how many other nodes the mesh has."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import require_length
from gen_pyg.nn.representation import (
    Representation,
    check_assignment_inputs,
    register_representation,
)
from gen_pyg.ops.neighbors import radius
from gen_pyg.typing import Assignment


@register_representation("gaussian")
class GaussianKernel(Representation):
    r"""Gaussian kernel weights of points on the nodes within :math:`c\sigma` (as in graph
    kernel networks, Li et al., 2020):

    .. math::
        r(x)_n = k(x - x_n) = \exp\left(-\frac{\lVert x - x_n \rVert^2}{2\sigma^2}\right),
        \qquad \lVert x - x_n \rVert \le c\sigma,

    not normalised over the nodes, so that a node's weight depends only on where it is: on a
    finer mesh the nodes a coarser mesh shares get the same encoding, and more nodes get one.
    With :obj:`normalize=True` the weights of each point are divided by their sum (a kernel
    average, a partition of unity), which is what a decoder wants: on a finer mesh more nodes
    answer a query, with the same offsets in the units of the positions.

    A point farther than :math:`c\sigma` from every node gets no weight (an encoder then drops
    its sample, a decoder answers from zero states): keep :math:`c\sigma` above the largest
    distance from a point to its nearest node (:math:`\sigma \ge 0.24h` on a square grid of
    spacing :math:`h` with :math:`c = 3`). The pair encoders and decoders
    (:class:`~gen_pyg.nn.PairEncoder`, :class:`~gen_pyg.nn.PairDecoder`) see the offsets of a
    kernel divided by :math:`\sigma` (:meth:`node_scale`).

    Args:
        sigma (float): the bandwidth :math:`\sigma`, in the units of the positions.
        cutoff (float, optional): the reach :math:`c` in bandwidths. (default: :obj:`3.0`)
        normalize (bool, optional): divide each point's weights by their sum.
            (default: :obj:`False`)

    Shapes:
        - **input:** points :math:`(P, D)`, nodes :math:`(N, D)`, batch vectors :math:`(P)`,
          :math:`(N)`
        - **output:** three tensors :math:`(M)`: point index, node index, weight

    Example:
        >>> rep = GaussianKernel(sigma=1.0)
        >>> row, col, w = rep(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 0.0], [2.0, 0.0]]))
        >>> col.tolist(), [round(v, 4) for v in w.tolist()]
        ([0, 1], [1.0, 0.1353])
        >>> GaussianKernel(1.0, normalize=True)(torch.tensor([[1.0, 0.0]]),
        ...                                     torch.tensor([[0.0, 0.0], [2.0, 0.0]]))[2].tolist()
        [0.5, 0.5]
    """

    def __init__(self, sigma: float, cutoff: float = 3.0, normalize: bool = False) -> None:
        super().__init__()
        self.sigma = require_length(sigma, "sigma")
        self.cutoff = require_length(cutoff, "cutoff")
        if not isinstance(normalize, bool):
            raise TypeError(f"normalize must be a bool, got {normalize!r}")
        self.normalize = normalize
        self.partition_of_unity = normalize

    def forward(
        self,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
    ) -> Assignment:
        pb, nb = check_assignment_inputs(point_pos, node_pos, point_batch, node_batch)
        sigma = self.sigma
        # the weights are summed over the pairs: no canonical order needed (no sort)
        point, node = radius(node_pos, point_pos, self.cutoff * sigma, nb, pb, sort=False)
        d2 = (point_pos[point] - node_pos[node]).pow(2).sum(-1)
        weight = torch.exp(-0.5 * d2 / sigma ** 2)
        if self.normalize:  # a point with pairs has a positive total
            total = weight.new_zeros(point_pos.size(0)).index_add_(0, point, weight)
            weight = weight / total[point]
        return point, node, weight

    def node_scale(self, node_pos: Tensor, edge_index: Tensor | None = None) -> Tensor:
        """:math:`\\sigma` at every node: the offsets a pair layer sees are in bandwidths,
        whatever the mesh."""
        return node_pos.new_full((node_pos.size(0),), self.sigma)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(sigma={self.sigma}"
                + (f", cutoff={self.cutoff}" if self.cutoff != 3.0 else "")
                + (", normalize=True" if self.normalize else "") + ")")
