"""Input checks shared by the models that read function samples (GEN, NeuralProcess)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gen_pyg._validation import check_points


def num_examples(data: Data) -> int:
    """Number of examples in ``data`` (1 for a plain :class:`~torch_geometric.data.Data`)."""
    return int(data.num_graphs) if isinstance(data, Batch) else 1


def batch_vector(data: Data, key: str, size: int) -> Tensor:
    """Example index of every row of ``data[key]``: ``data[key + '_batch']`` when the loader
    made it (``follow_batch=[key]``), else derived from the batch's slices, else zeros."""
    vec = getattr(data, f"{key}_batch", None)
    if isinstance(vec, Tensor):
        return vec
    device = data[key].device
    slices = getattr(data, "_slice_dict", {}).get(key) if isinstance(data, Batch) else None
    if slices is not None:
        counts = (slices[1:] - slices[:-1]).to(device)
        return torch.repeat_interleave(torch.arange(counts.numel(), device=device), counts)
    return torch.zeros(size, dtype=torch.long, device=device)


def check_function_ids(data: Data, key: str, count: int, rows: int) -> None:
    """``data[key]`` (``input_fn``/``query_fn``) holds valid function ids, or may be absent
    when there is a single function."""
    fn = getattr(data, key, None)
    if fn is None:
        if count > 1:
            raise ValueError(f"data.{key} is required with {count} functions")
        return
    if fn.dim() != 1 or fn.numel() != rows or fn.dtype != torch.long:
        raise ValueError(f"data.{key} must be a long tensor of shape [{rows}]")
    if rows and (int(fn.min()) < 0 or int(fn.max()) >= count):
        raise ValueError(f"data.{key} must hold function ids in [0, {count - 1}]")


def check_function_samples(
    data: Data,
    model: str,
    in_channels: list[int],
    out_channels: list[int],
    pos_dim: int,
    queries: bool,
) -> Tensor:
    """Check the input samples (and the queries when ``queries``) of ``data``; return the
    example index of every input sample."""
    keys = ("input_pos", "input_x", "query_pos") if queries else ("input_pos", "input_x")
    for key in keys:
        if getattr(data, key, None) is None:
            raise ValueError(f"{model} input is missing 'data.{key}'")
    check_points(data.input_pos, "data.input_pos", dim=pos_dim)
    if queries:
        check_points(data.query_pos, "data.query_pos", dim=pos_dim)
    x = data.input_x
    if x.dim() != 2 or x.size(0) != data.input_pos.size(0):
        raise ValueError(
            f"data.input_x must have shape [{data.input_pos.size(0)}, channels], "
            f"got {tuple(x.shape)}"
        )
    if x.size(1) != max(in_channels):
        raise ValueError(
            f"data.input_x has {x.size(1)} channels but the encoders expect "
            f"{max(in_channels)} (in_channels={in_channels})"
        )
    input_batch = batch_vector(data, "input_pos", data.input_pos.size(0))
    check_nonempty(input_batch, num_examples(data), "inputs (data.input_pos)")
    check_function_ids(data, "input_fn", len(in_channels), data.input_pos.size(0))
    if queries:
        check_function_ids(data, "query_fn", len(out_channels), data.query_pos.size(0))
    return input_batch


def check_nonempty(batch: Tensor, num: int, what: str) -> None:
    """Every one of the ``num`` examples has at least one row in ``batch``."""
    if batch.numel() == 0 or bool((torch.bincount(batch, minlength=num)[:num] == 0).any()):
        raise ValueError(f"every example needs at least one of its {what}; one has none")
