"""Grouping examples into batches collated once, and putting a mesh on a batch without
re-collating it (:func:`replicate_mesh`).

A spatial function transformation dataset (:class:`~gen_pyg.datasets.PoissonSquare`, or a
user's list of :class:`~torch_geometric.data.Data`) holds many scenarios per instance (the
paper's 32 per house). The training engine collates the scenarios of each group **once**, with
no mesh, and each step puts the step's mesh on the pre-collated batch with a few tensor ops
(:func:`replicate_mesh`): the mesh is repeated once per scenario, so fixed meshes of every size
and learnable meshes (whose positions change every step) take the same path, and memory does
not grow with the number of mesh sizes.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

__all__ = ["FOLLOW_BATCH", "collate_group", "group_examples", "has_mesh", "replicate_mesh"]

#: the point sets a batch follows (``input_pos_batch``, ``query_pos_batch``)
FOLLOW_BATCH = ("input_pos", "query_pos")


def group_examples(dataset: Sequence[Data], group_by: str | None, group_size: int,
                   ) -> list[list[int]]:
    """Indices of :obj:`dataset` grouped by the value of the attribute :obj:`group_by`
    (groups in order of first appearance), or, with :obj:`group_by=None`, in consecutive
    chunks of :obj:`group_size` (plain mini-batches). A :obj:`group_by` the examples lack is
    an error naming it.

    Example:
        >>> ds = [Data(house=torch.tensor([h])) for h in (0, 1, 0, 2)]
        >>> group_examples(ds, "house", 32)
        [[0, 2], [1], [3]]
        >>> group_examples([Data() for _ in range(5)], None, 2)
        [[0, 1], [2, 3], [4]]
    """
    n = len(dataset)
    if n == 0:
        raise ValueError("the dataset is empty: there is nothing to train or evaluate on")
    if group_by is None:
        return [list(range(i, min(i + group_size, n))) for i in range(0, n, group_size)]
    first = dataset[0]
    if group_by not in first:
        raise ValueError(f"group_by={group_by!r}: the examples have no {group_by!r} attribute "
                         f"(example 0 has {sorted(first.keys())}); name one of them, or pass "
                         "group_by=None for plain mini-batches of group_size examples")
    groups: dict[Any, list[int]] = {}
    for i in range(n):
        value = dataset[i].get(group_by)
        if value is None:
            raise ValueError(f"example {i} has no '{group_by}' attribute while example 0 has one")
        key = value.tolist() if isinstance(value, Tensor) else value
        groups.setdefault(str(key), []).append(i)
    return list(groups.values())


def has_mesh(data: Data) -> bool:
    """Whether an example carries its own mesh (``pos`` and ``edge_index``)."""
    return data.get("pos") is not None and data.get("edge_index") is not None


def collate_group(examples: Sequence[Data], with_mesh: bool) -> Batch:
    """One :class:`~torch_geometric.data.Batch` of :obj:`examples`, following the input and
    query points. With :obj:`with_mesh=False` the examples must not carry a mesh (one is put
    on the batch by :func:`replicate_mesh` later)."""
    if with_mesh:
        return Batch.from_data_list(list(examples), follow_batch=list(FOLLOW_BATCH))
    clones = []
    for d in examples:
        if has_mesh(d):
            raise ValueError(
                "the examples carry their own mesh ('pos'/'edge_index') and meshes were given "
                "too; pass meshes=None to use the examples' meshes"
            )
        c = copy.copy(d)
        c.num_nodes = 0  # no nodes yet: the mesh is replicated onto the batch per step
        clones.append(c)
    return Batch.from_data_list(clones, follow_batch=list(FOLLOW_BATCH))


def replicate_mesh(batch: Batch, mesh: Data, cache: dict[Any, Any] | None = None) -> Batch:
    """A shallow copy of :obj:`batch` (collated without a mesh) with :obj:`mesh` put on every
    one of its examples: the result equals attaching the mesh to each example and collating
    (:class:`~gen_pyg.mesh.AttachMesh` + ``Batch.from_data_list``), without touching the
    examples. Gradients flow to :obj:`mesh.pos` (learnable meshes).

    :obj:`cache` (a dict owned by the caller) keeps the replicated tensors of meshes whose
    tensors do not require gradients, keyed by the mesh's tensors and the number of examples.

    Example:
        >>> from gen_pyg.mesh import grid
        >>> ex = [Data(input_pos=torch.rand(3, 2), input_x=torch.rand(3, 1)) for _ in range(2)]
        >>> b = replicate_mesh(collate_group(ex, with_mesh=False), grid(2))
        >>> b.pos.shape, b.edge_index.max().item(), b.batch.tolist()
        (torch.Size([8, 2]), 7, [0, 0, 0, 0, 1, 1, 1, 1])
    """
    num = int(batch.num_graphs)
    n = int(mesh.num_nodes)
    key = None
    values: dict[str, Any] | None = None
    if cache is not None and not any(
        isinstance(v, Tensor) and v.requires_grad for v in mesh.to_dict().values()
    ):
        key = (num, tuple(id(v) for v in mesh.to_dict().values()))
        values = cache.get(key)
    if values is None:
        values = {}
        for name, value in mesh.to_dict().items():
            if name == "num_nodes":
                continue
            if not isinstance(value, Tensor):
                values[name] = [value] * num
                continue
            dim = mesh.__cat_dim__(name, value)
            inc = mesh.__inc__(name, value)
            if isinstance(inc, Tensor) or inc != 0:
                offsets = torch.arange(num, device=value.device) * inc
                shape = [num] + [1] * value.dim()
                stacked = value.unsqueeze(0) + offsets.view(shape).to(value.dtype)
                values[name] = torch.cat(list(stacked.unbind(0)), dim=dim)
            elif dim is None:
                values[name] = value.unsqueeze(0).expand(num, *value.shape)
            else:
                values[name] = torch.cat([value] * num, dim=dim)
        device = mesh.pos.device
        values["batch"] = torch.arange(num, device=device).repeat_interleave(n)
        values["ptr"] = torch.arange(num + 1, device=device) * n
        if key is not None and cache is not None:
            cache[key] = values
    out = copy.copy(batch)
    for name, value in values.items():
        out[name] = value
    out.num_nodes = num * n
    return out
