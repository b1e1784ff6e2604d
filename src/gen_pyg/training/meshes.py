"""The meshes a training runs on: names, checks and devices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh.learnable import LearnableMesh

__all__ = ["MeshLike", "as_meshes", "mesh_name", "meshes_on"]

MeshLike: TypeAlias = "Data | LearnableMesh"


def mesh_name(mesh: MeshLike) -> str:
    """A readable name of a mesh: ``"5x5"`` for a grid, else ``"<N> nodes"``."""
    data = mesh.data() if isinstance(mesh, LearnableMesh) else mesh
    shape = data.get("grid_shape")
    if isinstance(shape, Tensor) and shape.numel():
        return "x".join(str(int(s)) for s in shape.view(-1))
    prefix = "learnable " if isinstance(mesh, LearnableMesh) else ""
    return f"{prefix}{int(data.num_nodes)} nodes"


def as_meshes(meshes: MeshLike | Mapping[str, MeshLike] | Sequence[MeshLike] | None,
               ) -> dict[str, MeshLike] | None:
    if meshes is None:
        return None
    if isinstance(meshes, (Data, LearnableMesh)):
        meshes = [meshes]
    if isinstance(meshes, Mapping):
        out = dict(meshes)
    else:
        out = {}
        for m in meshes:
            name = mesh_name(m)
            if name in out:
                raise ValueError(f"meshes: two meshes are both named {name!r}; pass a dict")
            out[name] = m
    if not out:
        raise ValueError("meshes must hold at least one mesh (or be None)")
    for name, m in out.items():
        if not isinstance(m, (Data, LearnableMesh)):
            raise TypeError(f"meshes[{name!r}] must be a Data mesh or a LearnableMesh, got "
                            f"{type(m).__name__}")
        if isinstance(m, Data) and (m.get("pos") is None or m.get("edge_index") is None):
            raise ValueError(f"meshes[{name!r}] needs 'pos' and 'edge_index'")
    return out




def meshes_on(meshes: dict[str, MeshLike] | None, device: torch.device,
              ) -> dict[str, MeshLike] | None:
    """The meshes on :obj:`device` (learnable ones moved, fixed ones copied: the caller's
    :class:`~torch_geometric.data.Data` objects are left as they are)."""
    if meshes is None:
        return None
    return {name: m.to(device) if isinstance(m, LearnableMesh)
            else m if m.pos.device == device else m.clone().to(device)
            for name, m in meshes.items()}
