"""Input checks shared by the models that read function samples (GEN, NeuralProcess)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gen_pyg._validation import (
    check_batch,
    check_device,
    check_dtype,
    check_finite_all,
    check_points,
    scans_active,
)

#: Largest number of message-passing rounds a GEN accepts (a mesh diameter beyond it is a bug).
MAX_STEPS = 10_000


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


def example_index(data: Data, key: str, size: int) -> Tensor:
    """:func:`batch_vector` of ``data[key]``, checked: a sorted long ``[size]`` vector of
    example indices below the number of examples of ``data``."""
    name = f"data.{key}_batch" if key != "pos" else "data.batch"
    vec = data.batch if key == "pos" else batch_vector(data, key, size)
    if vec is None:
        return torch.zeros(size, dtype=torch.long, device=data[key].device)
    check_batch(vec, size, name)
    num = num_examples(data)
    if size and scans_active() and int(vec.max()) >= num:
        raise ValueError(
            f"{name} refers to example {int(vec.max())} but the data holds {num} example(s)"
        )
    return vec


def check_function_ids(data: Data, key: str, count: int, rows: int) -> None:
    """``data[key]`` (``input_fn``/``query_fn``) holds valid function ids, or may be absent
    when there is a single function."""
    fn = getattr(data, key, None)
    if fn is None:
        if count > 1:
            raise ValueError(f"data.{key} is required with {count} functions")
        return
    if not isinstance(fn, Tensor) or fn.dim() != 1 or fn.numel() != rows or fn.dtype != torch.long:
        got = f"{tuple(fn.shape)} {fn.dtype}" if isinstance(fn, Tensor) else type(fn).__name__
        raise ValueError(f"data.{key} must be a long tensor of shape [{rows}], got {got}")
    if rows and scans_active() and (int(fn.min()) < 0 or int(fn.max()) >= count):
        raise ValueError(
            f"data.{key} must hold function ids in [0, {count - 1}], got values in "
            f"[{int(fn.min())}, {int(fn.max())}]"
        )


def check_function_samples(
    data: Data,
    model: str,
    in_channels: list[int],
    out_channels: list[int],
    pos_dim: int,
    queries: bool,
    dtype: torch.dtype | None = None,
    device: torch.device | None = None,
    more: Sequence[tuple[Tensor, str]] = (),
) -> Tensor:
    """Check the input samples (and the queries when ``queries``) of ``data``: shapes, the
    model's parameter ``dtype`` and ``device``, example indices and (see
    :func:`~gen_pyg.set_value_checks`) finite values; return the example index of every input
    sample. ``more`` are further ``(tensor, name)`` pairs scanned for finite values with the
    samples, in one device sync."""
    keys = ("input_pos", "input_x", "query_pos") if queries else ("input_pos", "input_x")
    for key in keys:
        if getattr(data, key, None) is None:
            raise ValueError(f"{model} input is missing 'data.{key}'")
    check_points(data.input_pos, "data.input_pos", dim=pos_dim, finite=False)
    if queries:
        check_points(data.query_pos, "data.query_pos", dim=pos_dim, finite=False)
    x = data.input_x
    if not isinstance(x, Tensor):
        raise TypeError(f"data.input_x must be a torch.Tensor, got {type(x).__name__}")
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
    if not x.is_floating_point():
        raise TypeError(f"data.input_x must be a floating-point tensor, got dtype {x.dtype}")
    for key in keys:
        check_dtype(data[key], f"data.{key}", dtype)
        check_device(data[key], f"data.{key}", device)
    check_finite_all([(data[key], f"data.{key}") for key in keys] + list(more))
    input_batch = example_index(data, "input_pos", data.input_pos.size(0))
    check_nonempty(input_batch, num_examples(data), "inputs (data.input_pos)")
    check_function_ids(data, "input_fn", len(in_channels), data.input_pos.size(0))
    if queries:
        example_index(data, "query_pos", data.query_pos.size(0))
        check_function_ids(data, "query_fn", len(out_channels), data.query_pos.size(0))
    return input_batch


def check_nonempty(batch: Tensor, num: int, what: str) -> None:
    """Every one of the ``num`` examples has at least one row in ``batch``."""
    if batch.numel() == 0:
        raise ValueError(f"every example needs at least one of its {what}; there are none")
    if not scans_active():
        return
    empty = torch.bincount(batch, minlength=num)[:num] == 0
    if bool(empty.any()):
        raise ValueError(
            f"every example needs at least one of its {what}; example "
            f"{int(empty.nonzero()[0])} has none"
        )


def check_positive_ints(**values: object) -> None:
    """Each keyword argument is a positive ``int`` (not a bool); the error names it."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_num_steps(value: object, name: str) -> int:
    """A number of message-passing rounds: an ``int`` in ``[0, MAX_STEPS]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if not 0 <= value <= MAX_STEPS:
        raise ValueError(
            f"{name} must be in [0, {MAX_STEPS}] message-passing rounds, got {value}"
        )
    return value


def steps_from_diameter(diameter: object) -> int:
    """The number of rounds given by ``data.diameter`` (its largest entry), checked."""
    d = torch.as_tensor(diameter)
    if d.numel() == 0:
        return 0
    if d.dtype == torch.bool or d.is_complex():
        raise ValueError(f"data.diameter must hold integers, got dtype {d.dtype}")
    if d.is_floating_point() and not bool((torch.isfinite(d) & (d == d.round())).all()):
        raise ValueError(f"data.diameter must hold whole numbers, got {d.tolist()}")
    low, high = int(d.min()), int(d.max())
    if low < 0 or high > MAX_STEPS:
        raise ValueError(
            f"data.diameter gives {low if low < 0 else high} message-passing rounds, outside "
            f"[0, {MAX_STEPS}]; fix the mesh's diameter or pass num_steps= to GEN"
        )
    return high
