"""Type aliases used across gen_pyg (PyG's own, :mod:`torch_geometric.typing`, serve the rest)."""

from __future__ import annotations

from typing import TypeAlias

from torch import Tensor

#: A sparse point-to-node assignment ``(point_index, node_index, weight)``, each of shape ``[M]``:
#: a weighted bipartite graph from points to mesh nodes.
Assignment: TypeAlias = tuple[Tensor, Tensor, Tensor]

__all__ = ["Assignment"]
