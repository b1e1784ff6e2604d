"""Graph builders: the edges a processor passes messages along, built from the node positions
instead of taken from the mesh."""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from typing import Any

import torch
from torch import Tensor

from gen_pyg._validation import check_int, require_length
from gen_pyg.ops import knn, radius_graph


class GraphBuilder(torch.nn.Module):
    """Base class of the graph builders: :meth:`build` makes the edges of node positions (no
    gradient flows through the choice of edges), and :meth:`forward` returns the graph built
    before for the same positions (and batch vector), so that a fixed mesh builds its graph
    once, in training and at inference (also under :func:`torch.inference_mode`, and for a
    new tensor of the same values, such as every batch's copy of one mesh). The last
    :obj:`cache_size` graphs are kept, one per shape. A hit is the same tensor unchanged since
    (its version counter, no comparison) or a tensor of equal values (one :func:`torch.equal`,
    :math:`O(N)`); an in-place update of the positions (a trainable mesh's step) rebuilds it.

    Args:
        cache_size (int, optional): graphs kept (:obj:`0` builds at every call).
            (default: :obj:`4`)
    """

    def __init__(self, cache_size: int = 4) -> None:
        super().__init__()
        self.cache_size = check_int(cache_size, "cache_size", minimum=0)
        self._cache: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()

    def build(self, pos: Tensor, batch: Tensor | None) -> Tensor:
        """The :obj:`edge_index` :obj:`[2, E]` (source, target) of :obj:`pos`."""
        raise NotImplementedError

    def forward(self, pos: Tensor, batch: Tensor | None = None) -> Tensor:
        inference = torch.is_inference_mode_enabled()
        # a graph built under inference mode is an inference tensor: never reused outside it
        key = (tuple(pos.shape), pos.dtype, pos.device,
               None if batch is None else tuple(batch.shape), inference)
        hit = self._cache.get(key)
        if hit is not None:
            refs, versions, values, batch_values, graph = hit
            same = (refs[0]() is pos and (batch is None or refs[1]() is batch)
                    and versions is not None and versions == _versions(pos, batch))
            if same or (torch.equal(values, pos)
                        and (batch is None or torch.equal(batch_values, batch))):
                self._cache.move_to_end(key)
                return graph  # type: ignore[no-any-return]
        with torch.no_grad():
            graph = self.build(pos.detach(), batch)
        if self.cache_size > 0:
            refs = (weakref.ref(pos), None if batch is None else weakref.ref(batch))
            self._cache[key] = (refs, _versions(pos, batch), pos.detach().clone(),
                                None if batch is None else batch.clone(), graph)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return graph


def _versions(pos: Tensor, batch: Tensor | None) -> tuple[int, int | None] | None:
    """The version counters of :obj:`pos` and :obj:`batch` (None for inference tensors, which
    keep none)."""
    if pos.is_inference() or (batch is not None and batch.is_inference()):
        return None
    return pos._version, None if batch is None else batch._version


class RadiusGraph(GraphBuilder):
    r"""Edges between every two nodes of an example closer than :obj:`r` (both directions, no
    self loops; :func:`gen_pyg.ops.radius_graph`, as the :class:`~gen_pyg.mesh.RadiusEdges`
    transform builds a mesh's), so that a round of message passing reaches the same distance
    on every mesh: with a mean aggregation a round averages over a disc, which converges as
    the mesh is refined. A node has about :math:`\pi r^2 / h^2` neighbours on a grid of
    spacing :math:`h`: the edges grow as the square of the node count at a fixed :obj:`r`
    (:class:`StencilGraph` keeps them linear).

    Args:
        r (float): the radius, in the units of the positions.
        cache_size (int, optional): graphs kept (:class:`GraphBuilder`). (default: :obj:`4`)

    Shapes:
        - **input:** node positions :math:`(N, D)`, batch vector :math:`(N)`
        - **output:** :obj:`edge_index` :math:`(2, E)`

    Example:
        >>> RadiusGraph(1.5)(torch.tensor([[0.0], [1.0], [3.0]])).tolist()
        [[1, 0], [0, 1]]
    """

    def __init__(self, r: float, cache_size: int = 4) -> None:
        super().__init__(cache_size)
        self.r = require_length(r, "r")

    def build(self, pos: Tensor, batch: Tensor | None) -> Tensor:
        return radius_graph(pos, self.r, batch)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(r={self.r})"


def ball_stencil(points: int, dim: int) -> Tensor:
    """:obj:`points` offsets spread over the unit ball of dimension :obj:`dim`
    :obj:`[points, dim]`: a sunflower (Vogel) spiral in the plane, whose points cover the disc
    evenly at any count; fixed pseudo-random points of the ball (seed 0) in other dimensions.

    Example:
        >>> s = ball_stencil(16, 2)
        >>> s.shape, bool(s.norm(dim=1).max() < 1)
        (torch.Size([16, 2]), True)
    """
    check_int(points, "points")
    check_int(dim, "dim")
    k = torch.arange(points, dtype=torch.float64) + 0.5
    if dim == 2:
        golden = math.pi * (3.0 - math.sqrt(5.0))
        radius, angle = (k / points).sqrt(), k * golden
        return torch.stack([radius * angle.cos(), radius * angle.sin()], 1).float()
    g = torch.Generator().manual_seed(0)
    direction = torch.randn(points, dim, generator=g, dtype=torch.float64)
    direction = direction / direction.norm(dim=1, keepdim=True)
    radius = (k / points) ** (1.0 / dim)
    out: Tensor = direction * radius[torch.randperm(points, generator=g)].unsqueeze(1)
    return out.float()


class StencilGraph(GraphBuilder):
    r"""Each node reads a fixed stencil of :obj:`points` positions spread over the ball of
    radius :obj:`r` around it (:func:`ball_stencil`), each snapped to the nearest node of its
    example: an edge :math:`j \to i` for the node :math:`j` nearest to
    :math:`x_i + r\,s_k`, :math:`k = 1, \dots, m`.

    A round with a mean aggregation then averages over the disc as a quadrature of :math:`m`
    points: on a coarse mesh several stencil points snap to one node (which weighs it by its
    share of the disc; the edges are kept with their multiplicity, and the node itself may be
    one of them), on a fine mesh each snaps next to its stencil point, so the round converges
    to a fixed operator as the mesh is refined, as :class:`RadiusGraph`'s does, while every
    node keeps :math:`m` edges: :math:`N m` edges in all, built in :math:`O(N m \log N)`
    (a nearest-node search per stencil point), whatever the mesh's resolution. Stencil points
    beyond the domain snap to the nodes at its border.

    Args:
        r (float): the stencil's radius, in the units of the positions.
        points (int, optional): stencil points per node :math:`m`. (default: :obj:`16`)
        cache_size (int, optional): graphs kept (:class:`GraphBuilder`). (default: :obj:`4`)

    Shapes:
        - **input:** node positions :math:`(N, D)`, batch vector :math:`(N)`
        - **output:** :obj:`edge_index` :math:`(2, N m)`

    Example:
        >>> from gen_pyg.mesh import grid
        >>> edges = StencilGraph(0.3, points=8)(grid(5).pos)
        >>> edges.shape, bool((edges[1].bincount() == 8).all())
        (torch.Size([2, 200]), True)
    """

    stencil: Tensor

    def __init__(self, r: float, points: int = 16, cache_size: int = 4) -> None:
        super().__init__(cache_size)
        self.r = require_length(r, "r")
        self.points = check_int(points, "points")
        self.register_buffer("stencil", torch.empty(0), persistent=False)

    def offsets(self, dim: int, like: Tensor) -> Tensor:
        """The stencil's offsets :math:`r\\,s_k` :obj:`[points, dim]`."""
        if self.stencil.shape != (self.points, dim):
            self.stencil = ball_stencil(self.points, dim)
        return (self.r * self.stencil).to(like)

    def build(self, pos: Tensor, batch: Tensor | None) -> Tensor:
        m = self.points
        targets = (pos.unsqueeze(1) + self.offsets(pos.size(1), pos)).reshape(-1, pos.size(1))
        target_batch = None if batch is None else batch.repeat_interleave(m)
        query, node = knn(pos, targets, 1, batch, target_batch, sort=False)
        return torch.stack([node, torch.div(query, m, rounding_mode="floor")])

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(r={self.r}, points={self.points})"
