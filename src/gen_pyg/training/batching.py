"""The training groups: a dataset's examples grouped
(:func:`~gen_pyg.mesh.batching.group_examples`), collated once and checked before any step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gen_pyg.mesh.batching import collate_group, group_examples, has_mesh

__all__ = ["prepare_groups"]


def prepare_groups(dataset: Sequence[Data] | None, name: str, group_by: str | None,
                   group_size: int, with_mesh: bool, device: torch.device,
                   objectives: Sequence[Any] = ()) -> list[Batch]:
    """The examples of :obj:`dataset` grouped (:func:`group_examples`), each group collated
    once (:func:`collate_group`) and moved to :obj:`device`: what the trainer steps over.
    Checked here, once, before any step: the examples are :class:`~torch_geometric.data.Data`,
    they have the meshes the model needs, every objective finds its targets, and no
    ``y``/``input_x``/``input_pos``/``query_pos`` holds NaN or inf (errors name
    :obj:`name` and the attribute)."""
    if dataset is None or len(dataset) == 0:
        raise ValueError(f"{name} is empty: there is nothing to train or evaluate on")
    first = dataset[0]
    if not isinstance(first, Data):
        raise TypeError(f"{name} must hold torch_geometric Data examples, got "
                        f"{type(first).__name__}")
    if with_mesh and not has_mesh(first) and first.get("input_pos") is not None:
        raise ValueError(f"{name}: the examples have no mesh ('pos', 'edge_index') and no "
                         "meshes were given; pass meshes=... (e.g. gen_pyg.mesh.grid(5))")
    examples = [dataset[i] for i in range(len(dataset))]  # one pass over the dataset
    index = group_examples(examples, group_by, group_size)
    groups = [collate_group([examples[i] for i in g], with_mesh).to(device) for g in index]
    for objective in objectives:
        objective.terms(groups[0])  # names a missing target now, not mid-epoch
    for key in ("y", "input_x", "input_pos", "query_pos"):
        for g, idx in zip(groups, index, strict=True):
            value = g.get(key)
            if (isinstance(value, Tensor) and value.is_floating_point()
                    and not bool(torch.isfinite(value).all())):
                raise ValueError(f"{name}: '{key}' holds non-finite values (NaN or inf) in "
                                 f"the examples {idx[0]}..{idx[-1]}")
    return groups
