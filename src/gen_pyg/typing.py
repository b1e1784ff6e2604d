"""Type aliases used across gen_pyg."""

from __future__ import annotations

from typing import TypeAlias

from torch import Tensor

#: Integer tensor of shape ``[2, E]``; row 0 holds sources, row 1 targets.
Adj: TypeAlias = Tensor
#: Optional tensor (``None`` where an argument may be left out).
OptTensor: TypeAlias = Tensor | None
#: A sparse point-to-node assignment ``(point_index, node_index, weight)``, each of shape ``[M]``.
Assignment: TypeAlias = tuple[Tensor, Tensor, Tensor]

__all__ = ["Adj", "Assignment", "OptTensor"]
