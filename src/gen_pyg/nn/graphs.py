"""Graph builders: the edges a processor passes messages along, built from the node positions
instead of taken from the mesh."""

from __future__ import annotations

import torch
from torch import Tensor

from gen_pyg._validation import require_length
from gen_pyg.ops import radius_graph


class RadiusGraph(torch.nn.Module):
    r"""Edges between every two nodes of an example closer than :obj:`r` (both directions, no
    self loops; :func:`gen_pyg.ops.radius_graph`, as the :class:`~gen_pyg.mesh.RadiusEdges`
    transform builds a mesh's), so that a round of message passing reaches the same distance
    on every mesh: with a mean aggregation a round averages over a disc, which converges as
    the mesh is refined. The graph carries no gradient to the positions.

    Args:
        r (float): the radius, in the units of the positions.

    Shapes:
        - **input:** node positions :math:`(N, D)`, batch vector :math:`(N)`
        - **output:** :obj:`edge_index` :math:`(2, E)`

    Example:
        >>> RadiusGraph(1.5)(torch.tensor([[0.0], [1.0], [3.0]])).tolist()
        [[1, 0], [0, 1]]
    """

    def __init__(self, r: float) -> None:
        super().__init__()
        self.r = require_length(r, "r")

    def forward(self, pos: Tensor, batch: Tensor | None = None) -> Tensor:
        return radius_graph(pos.detach(), self.r, batch)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(r={self.r})"
