"""All (point, node) pairs within the same example, without Python loops."""

from __future__ import annotations

import torch
from torch import Tensor


def all_pairs(point_batch: Tensor, node_batch: Tensor, num_examples: int | None = None) -> Tensor:
    r"""Every (point, node) pair whose point and node belong to the same example.

    Args:
        point_batch (Tensor): example index of each point, sorted, :obj:`[P]`.
        node_batch (Tensor): example index of each node, sorted, :obj:`[N]`.
        num_examples (int, optional): number of examples :math:`B`. (default: inferred)

    Returns:
        :obj:`[2, M]` (point index, node index) with :math:`M = \sum_b P_b N_b`, ordered by point.

    Example:
        >>> all_pairs(torch.tensor([0, 1]), torch.tensor([0, 0, 1])).tolist()
        [[0, 0, 1], [0, 1, 2]]
    """
    device = point_batch.device
    if num_examples is None:
        num_examples = 1 + max(
            int(point_batch.max()) if point_batch.numel() else -1,
            int(node_batch.max()) if node_batch.numel() else -1,
        )
    node_count = torch.bincount(node_batch, minlength=num_examples)
    node_start = torch.cumsum(node_count, 0) - node_count
    per_point = node_count[point_batch]
    row = torch.repeat_interleave(torch.arange(point_batch.numel(), device=device), per_point)
    seg_start = torch.cumsum(per_point, 0) - per_point
    local = torch.arange(row.numel(), device=device) - seg_start[row]
    col = node_start[point_batch[row]] + local
    return torch.stack([row, col])
