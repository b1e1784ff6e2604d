"""The soft nearest-neighbour representation function of the GEN paper."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import softmax, to_dense_batch

from gen_pyg._validation import _value_checks_active, check_int, scans_active
from gen_pyg.nn.representation import (
    DenseAssignment,
    DenseSizes,
    Representation,
    check_assignment_inputs,
    dense_sizes,
    register_representation,
)
from gen_pyg.ops.distance import geodesic, get_metric, pairwise_distance
from gen_pyg.ops.neighbors import knn
from gen_pyg.ops.pairs import all_pairs
from gen_pyg.typing import Assignment


@register_representation("soft_nearest")
class SoftNearest(Representation):
    r"""Soft nearest-neighbour weights from the `"Graph Element Networks: adaptive, structured
    computation and memory" <https://arxiv.org/abs/1904.09019>`_ paper (§4.1, appendix A.1):

    .. math::
        r(x)_n = \frac{\exp\left(-e^{s}\, d(x, x_n)\right)}
        {\sum_{m \in \mathcal{N}(x)} \exp\left(-e^{s}\, d(x, x_m)\right)},
        \qquad n \in \mathcal{N}(x),

    with a learnable log-temperature :math:`s` and a metric :math:`d`. With :obj:`k=None`,
    :math:`\mathcal{N}(x)` is every node of the point's example (dense, exactly the paper, cost
    :math:`O(PN)`); with an integer :obj:`k` it is the :obj:`k` nearest nodes (sparse,
    :math:`O(Pk)` after a :func:`~gen_pyg.ops.knn` search). With :obj:`k` at least the number of
    nodes both agree exactly. The paper's function is :math:`s = 0` with Euclidean distance
    (geodesic distance on the sphere).

    Weights are finite, with finite gradients, when a point coincides with a node.

    Args:
        k (int, optional): number of nearest nodes, or :obj:`None` for all. (default: :obj:`None`)
        metric (str or callable, optional): :obj:`"euclidean"`, :obj:`"geodesic"` (unit sphere) or
            a callable on paired points. The neighbour search uses Euclidean distance (on unit
            vectors for :obj:`"geodesic"`, which orders points the same way). (default:
            :obj:`"euclidean"`)
        log_temperature (float, optional): initial :math:`s`. (default: :obj:`0.0`)
        learn_temperature (bool, optional): make :math:`s` a parameter. (default: :obj:`True`)

    Shapes:
        - **input:** points :math:`(P, D)`, nodes :math:`(N, D)`, batch vectors :math:`(P)`,
          :math:`(N)`
        - **output:** three tensors :math:`(M)`: point index, node index, weight

    Example:
        >>> rep = SoftNearest(k=2)
        >>> row, col, w = rep(torch.tensor([[0.5, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        >>> w.tolist()
        [0.5, 0.5]
    """

    log_temperature: Tensor

    def __init__(
        self,
        k: int | None = None,
        metric: str | Callable[[Tensor, Tensor], Tensor] = "euclidean",
        log_temperature: float = 0.0,
        learn_temperature: bool = True,
    ) -> None:
        super().__init__()
        if k is not None:
            check_int(k, "k")
        self.k = k
        self.metric = get_metric(metric)
        self._init_log_temperature = float(log_temperature)
        value = torch.tensor(float(log_temperature))
        if learn_temperature:
            self.log_temperature = torch.nn.Parameter(value)
        else:
            self.register_buffer("log_temperature", value)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset the log-temperature to its initial value."""
        with torch.no_grad():
            self.log_temperature.fill_(self._init_log_temperature)

    def forward(
        self,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
    ) -> Assignment:
        point_batch, node_batch = self._check(point_pos, node_pos, point_batch, node_batch)
        with torch.no_grad():
            if self.k is None:
                row, col = all_pairs(point_batch, node_batch)
            else:
                search_nodes, search_points = node_pos.detach(), point_pos.detach()
                if self.metric is geodesic:
                    search_nodes = torch.nn.functional.normalize(search_nodes, dim=-1)
                    search_points = torch.nn.functional.normalize(search_points, dim=-1)
                row, col = knn(
                    search_nodes, search_points, self.k, node_batch, point_batch, sort=False
                )
        dist = self.metric(point_pos[row], node_pos[col])
        logits = -self.log_temperature.exp() * dist
        num_points = point_pos.size(0)
        k = self.k
        if (
            k is not None
            and row.numel() == num_points * k
            and torch.equal(row[::k], torch.arange(num_points, device=row.device))
        ):
            # exactly k nodes per point, grouped by point: a dense [P, k] softmax
            weight = torch.softmax(logits.view(num_points, k), dim=-1).view(-1)
        else:
            weight = softmax(logits, row, num_nodes=num_points)
        return row, col, weight

    def dense(
        self,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
        sizes: DenseSizes | None = None,
    ) -> DenseAssignment | None:
        """Padded dense weights (for :obj:`k=None` only); see :meth:`Representation.dense`."""
        if self.k is not None:
            return None
        one_example = point_batch is None and node_batch is None
        point_batch, node_batch = self._check(point_pos, node_pos, point_batch, node_batch)
        if one_example:
            # a single example: one [1, P, N] block, no padding and no device sync
            logits = -self.log_temperature.exp() * pairwise_distance(
                self.metric, point_pos.unsqueeze(0), node_pos.unsqueeze(0))
            return torch.softmax(logits, dim=-1), None, None
        if sizes is None:
            sizes = dense_sizes(point_batch, node_batch)
        num_examples, max_points, max_nodes = sizes
        points, point_mask = to_dense_batch(point_pos, point_batch, batch_size=num_examples,
                                            max_num_nodes=max_points)
        nodes, node_mask = to_dense_batch(node_pos, node_batch, batch_size=num_examples,
                                          max_num_nodes=max_nodes)
        logits = -self.log_temperature.exp() * pairwise_distance(self.metric, points, nodes)
        if (num_examples * max_points == point_pos.size(0)
                and num_examples * max_nodes == node_pos.size(0)):
            # every example has as many points and nodes as the largest: nothing is padding
            return torch.softmax(logits, dim=-1), None, None
        logits = logits.masked_fill(~node_mask.unsqueeze(1), float("-inf"))
        weight = torch.softmax(logits, dim=-1)
        valid = point_mask.unsqueeze(2) & node_mask.unsqueeze(1)
        weight = weight.masked_fill(~valid, 0.0)
        return weight, point_mask, node_mask

    def check_on_sphere(self, t: Tensor, name: str) -> None:
        """With the geodesic metric, the rows of ``t`` must be unit vectors (to ``1e-3``): the
        distance of points off the sphere is that of their directions, a silent error."""
        if self.metric is not geodesic or not _value_checks_active(region=False) or not t.numel():
            return
        off = (torch.linalg.vector_norm(t.detach(), dim=-1) - 1).abs() > 1e-3
        if bool(off.any()):
            i = int(off.nonzero()[0])
            norm = float(torch.linalg.vector_norm(t[i]))
            raise ValueError(f"{name}[{i}] has norm {norm:.6g}, not on the unit sphere "
                             "(metric='geodesic' needs unit vectors; normalise the positions)")

    def _check(
        self,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None,
        node_batch: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        point_batch, node_batch = check_assignment_inputs(
            point_pos, node_pos, point_batch, node_batch
        )
        if scans_active():
            self.check_on_sphere(point_pos, "point_pos")
            self.check_on_sphere(node_pos, "node_pos")
        return point_batch, node_batch

    def __repr__(self) -> str:
        name = getattr(self.metric, "__name__", type(self.metric).__name__)
        return f"{self.__class__.__name__}(k={self.k}, metric={name})"
