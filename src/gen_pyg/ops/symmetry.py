"""The 8 symmetries (rotations and reflections) of an axis-aligned square."""

from __future__ import annotations

import torch
from torch import Tensor

#: The 8 symmetries of the square as (swap x/y, flip x, flip y), identity first.
SQUARE_SYMMETRIES: tuple[tuple[bool, bool, bool], ...] = tuple(
    (s, fx, fy) for s in (False, True) for fx in (False, True) for fy in (False, True))


def square_symmetry_points(pos: Tensor, index: int, lo: float = 0.0, hi: float = 1.0) -> Tensor:
    r"""2-D points :obj:`pos` (``[..., 2]``) mapped by symmetry :obj:`index` (0..7, 0 is the
    identity) of the square :math:`[lo, hi]^2`: optionally swap :math:`x` and :math:`y`, then
    optionally reflect :math:`x \mapsto lo + hi - x` and :math:`y \mapsto lo + hi - y`
    (:data:`SQUARE_SYMMETRIES` lists the choices). The maps form the dihedral group of order 8.

    Example:
        >>> square_symmetry_points(torch.tensor([[0.25, 0.125]]), 7).tolist()
        [[0.875, 0.75]]
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 8:
        raise ValueError(f"index must be in 0..7, got {index!r}")
    if not isinstance(pos, Tensor) or pos.dim() == 0 or pos.size(-1) != 2:
        shape = tuple(pos.shape) if isinstance(pos, Tensor) else type(pos).__name__
        raise ValueError(f"square symmetries need 2-D points [..., 2], got {shape}")
    if index == 0:
        return pos
    swap, fx, fy = SQUARE_SYMMETRIES[index]
    x, y = pos.unbind(-1)
    if swap:
        x, y = y, x
    if fx:
        x = (lo + hi) - x
    if fy:
        y = (lo + hi) - y
    return torch.stack([x, y], dim=-1)
