"""Input checks of the models that read function samples (GEN, NeuralProcess), run once at
their entry point. The same checks serve the tensor call and the :class:`Data` call; ``names``
maps each argument to the name the user gave it (``input_pos`` or ``data.input_pos``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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

#: Public names of the arguments of the tensor call and of the ``Data`` call.
TENSOR_NAMES = {k: k for k in ("input_x", "input_pos", "pos", "edge_index", "query_pos",
                               "input_fn", "query_fn", "input_batch", "batch", "query_batch")}
DATA_NAMES = {**{k: f"data.{k}" for k in TENSOR_NAMES},
              "input_batch": "data.input_pos_batch", "query_batch": "data.query_pos_batch"}


def num_examples(data: Data) -> int:
    """Number of examples in ``data`` (1 for a plain :class:`~torch_geometric.data.Data`)."""
    return int(data.num_graphs) if isinstance(data, Batch) else 1


def batch_vector(data: Data, key: str, size: int) -> Tensor | None:
    """Example index of every row of ``data[key]``: ``data[key + '_batch']`` when the loader
    made it (``follow_batch=[key]``), else derived from the batch's slices, else None (one
    example)."""
    vec = getattr(data, f"{key}_batch", None)
    if isinstance(vec, Tensor):
        return vec
    if vec is not None:
        raise TypeError(f"data.{key}_batch must be a torch.Tensor, got {type(vec).__name__}")
    slices = getattr(data, "_slice_dict", {}).get(key) if isinstance(data, Batch) else None
    if slices is not None:
        device = data[key].device
        counts = (slices[1:] - slices[:-1]).to(device)
        return torch.repeat_interleave(torch.arange(counts.numel(), device=device), counts)
    return None


def infer_batch_size(*batches: Tensor | None) -> int:
    """1 + the largest example index of the given batch vectors (1 without any)."""
    largest = [int(b.max()) for b in batches if b is not None and b.numel()]
    return 1 + max(largest) if largest else 1


def check_example_index(vec: Tensor | None, size: int, name: str, num: int) -> None:
    """A sorted long ``[size]`` vector of example indices below ``num`` (or None)."""
    if vec is None:
        return
    check_batch(vec, size, name)
    if size and scans_active() and int(vec.max()) >= num:
        raise ValueError(
            f"{name} refers to example {int(vec.max())} but the data holds {num} example(s)"
        )


def check_function_ids(fn: object, name: str, count: int, rows: int) -> None:
    """``fn`` (``input_fn``/``query_fn``) holds function ids below ``count``, or is None with a
    single function."""
    if fn is None:
        if count > 1:
            raise ValueError(f"{name} is required with {count} functions")
        return
    if not isinstance(fn, Tensor) or fn.dim() != 1 or fn.numel() != rows or fn.dtype != torch.long:
        got = f"{tuple(fn.shape)} {fn.dtype}" if isinstance(fn, Tensor) else type(fn).__name__
        raise ValueError(f"{name} must be a long tensor of shape [{rows}], got {got}")
    if rows and scans_active() and (int(fn.min()) < 0 or int(fn.max()) >= count):
        which = "out_channels" if "query" in name else "in_channels"
        hint = (f"; the data has {int(fn.max()) + 1} functions: give the model one channel "
                f"count per function, e.g. {which}={[1] * (int(fn.max()) + 1)} (the package's "
                "Poisson data has two input functions, heaters and walls)"
                if int(fn.min()) >= 0 else "")
        raise ValueError(
            f"{name} must hold function ids in [0, {count - 1}], got values in "
            f"[{int(fn.min())}, {int(fn.max())}]{hint}"
        )


def check_samples(
    model: str,
    names: Mapping[str, str],
    in_channels: list[int],
    out_channels: list[int],
    pos_dim: int,
    input_x: object,
    input_pos: object,
    query_pos: object,
    input_fn: object,
    query_fn: object,
    input_batch: Tensor | None,
    query_batch: Tensor | None,
    batch_size: int,
    dtype: torch.dtype | None,
    device: torch.device | None,
    more: Sequence[tuple[Tensor, str]] = (),
) -> None:
    """Check the input samples (and the queries unless ``query_pos`` is None): shapes, the
    model's parameter ``dtype`` and ``device``, example indices, function ids and (see
    :func:`~gen_pyg.set_value_checks`) finite values. ``more`` are further ``(tensor, name)``
    pairs scanned for finite values with the samples, in one device sync."""
    for key, value in (("input_pos", input_pos), ("input_x", input_x)):
        if value is None:
            raise ValueError(f"{model} input is missing '{names[key]}'")
    points = check_points(input_pos, names["input_pos"], dim=pos_dim, finite=False)
    floats = [(points, names["input_pos"])]
    if query_pos is not None:
        floats.append((check_points(query_pos, names["query_pos"], dim=pos_dim, finite=False),
                       names["query_pos"]))
    x = input_x
    if not isinstance(x, Tensor):
        raise TypeError(f"{names['input_x']} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2 or x.size(0) != points.size(0):
        raise ValueError(f"{names['input_x']} must have shape [{points.size(0)}, channels], "
                         f"got {tuple(x.shape)}")
    if x.size(1) != max(in_channels):
        raise ValueError(f"{names['input_x']} has {x.size(1)} channels but the encoders expect "
                         f"{max(in_channels)} (in_channels={in_channels})")
    if not x.is_floating_point():
        raise TypeError(f"{names['input_x']} must be a floating-point tensor, got dtype {x.dtype}")
    floats.insert(1, (x, names["input_x"]))
    for t, name in floats:
        check_dtype(t, name, dtype)
        check_device(t, name, device)
    check_finite_all(floats + list(more))
    check_example_index(input_batch, points.size(0), names["input_batch"], batch_size)
    check_nonempty(input_batch, points.size(0), batch_size,
                   f"inputs ({names['input_pos']})")
    check_function_ids(input_fn, names["input_fn"], len(in_channels), points.size(0))
    if isinstance(query_pos, Tensor):
        check_example_index(query_batch, query_pos.size(0), names["query_batch"], batch_size)
        check_function_ids(query_fn, names["query_fn"], len(out_channels), query_pos.size(0))


def check_nonempty(batch: Tensor | None, rows: int, num: int, what: str) -> None:
    """Every one of the ``num`` examples has at least one of the ``rows`` rows of ``batch``
    (None: all rows are example 0)."""
    if rows == 0:
        raise ValueError(f"every example needs at least one of its {what}; there are none")
    if batch is None:
        if num > 1:
            raise ValueError(f"every example needs at least one of its {what}; example 1 has "
                             "none")
        return
    if not scans_active():
        return
    empty = torch.bincount(batch, minlength=num)[:num] == 0
    if bool(empty.any()):
        raise ValueError(
            f"every example needs at least one of its {what}; example "
            f"{int(empty.nonzero()[0])} has none"
        )


def check_num_steps(value: object, name: str) -> int:
    """A number of message-passing rounds: an ``int`` in ``[0, MAX_STEPS]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if not 0 <= value <= MAX_STEPS:
        raise ValueError(
            f"{name} must be in [0, {MAX_STEPS}] message-passing rounds, got {value}"
        )
    return value


def steps_from_diameter(diameter: object, name: str = "data.diameter") -> int:
    """The number of rounds given by a mesh diameter (its largest entry), checked."""
    d = torch.as_tensor(diameter)
    if d.numel() == 0:
        return 0
    if d.dtype == torch.bool or d.is_complex():
        raise ValueError(f"{name} must hold integers, got dtype {d.dtype}")
    if d.is_floating_point() and not bool((torch.isfinite(d) & (d == d.round())).all()):
        raise ValueError(f"{name} must hold whole numbers, got {d.tolist()}")
    low, high = int(d.min()), int(d.max())
    if low < 0 or high > MAX_STEPS:
        raise ValueError(
            f"{name} gives {low if low < 0 else high} message-passing rounds, outside "
            f"[0, {MAX_STEPS}]; fix the mesh's diameter or pass num_steps= to GEN"
        )
    return high
