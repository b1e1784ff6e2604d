"""The 8 symmetries (rotations and reflections) of an axis-aligned square."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TypeVar

import torch
from torch import Tensor
from torch_geometric.data import Data

D = TypeVar("D", bound=Data)

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


def square_symmetry(batch: D, index: int, keys: Sequence[str] = ("input_pos", "query_pos"),
                    lo: float = 0.0, hi: float = 1.0) -> D:
    """A shallow copy of :obj:`batch` (a :class:`~torch_geometric.data.Data` or
    :class:`~torch_geometric.data.Batch`) whose points (:obj:`keys`, each ``[*, 2]``) are
    mapped by symmetry :obj:`index` (0..7; 0 is the identity, :obj:`batch` returned as it is)
    of the square :math:`[lo, hi]^2`. The Poisson problem in a square house is invariant under
    these maps, so they turn one house into 8.

    Example:
        >>> from torch_geometric.data import Batch
        >>> b = Batch.from_data_list([Data(input_pos=torch.tensor([[0.25, 0.125]]))])
        >>> square_symmetry(b, 7, keys=["input_pos"]).input_pos.tolist()
        [[0.875, 0.75]]
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 8:
        raise ValueError(f"index must be in 0..7, got {index!r}")
    if index == 0:
        return batch
    out = copy.copy(batch)
    for key in keys:
        pos = getattr(batch, key, None)
        if not isinstance(pos, Tensor):
            raise ValueError(f"square_symmetry needs data.{key} (a [*, 2] tensor of points)")
        if pos.dim() != 2 or pos.size(-1) != 2:
            raise ValueError(f"square symmetries need 2-D points, data.{key} has shape "
                             f"{tuple(pos.shape)}")
        out[key] = square_symmetry_points(pos, index, lo, hi)
    return out
