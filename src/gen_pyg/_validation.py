"""Input checks shared across gen_pyg, each naming the offending argument.

Structural checks (types, shapes, dtypes) read only tensor metadata and always run. Value
checks (the NaN/inf scans of forward inputs) read the data, one fused reduction and one device
sync per tensor; :func:`set_value_checks` or the :func:`value_checks` context manager turn them
off for speed, and compiled graphs (:func:`torch.compile`) skip them. Index range checks (edge
and face indices) always run in eager mode: an index past the end is a device-side assert on
CUDA, not an exception.

A model checks its inputs once, at its public boundary, and runs its layers inside
:func:`checked_inputs`: there the layers keep their metadata checks but skip the scans (values,
index ranges) the model has already done, so a GEN pays one scan per input tensor, not one per
message-passing round.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch
from torch import Tensor

T = TypeVar("T")

_VALUE_CHECKS = True
#: Per thread: how deep inside :func:`checked_inputs` regions the current call runs.
_STATE = threading.local()

#: ``model.<method>()`` that converts a module's parameters to each floating dtype.
_DTYPE_METHODS = {
    torch.float64: "double",
    torch.float32: "float",
    torch.float16: "half",
    torch.bfloat16: "bfloat16",
}


def set_value_checks(enabled: bool) -> None:
    """Turn the NaN/inf scans of forward inputs on (the default) or off, process-wide.

    Each scan is one fused :func:`torch.isfinite` reduction and a device sync per input tensor;
    switch them off in tuned training loops once the data pipeline is trusted. Shape, dtype and
    constructor checks are not affected.

    Example:
        >>> import gen_pyg
        >>> gen_pyg.set_value_checks(False)
        >>> gen_pyg.value_checks_enabled()
        False
        >>> gen_pyg.set_value_checks(True)
    """
    global _VALUE_CHECKS
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, got {type(enabled).__name__}")
    _VALUE_CHECKS = enabled


def value_checks_enabled() -> bool:
    """Whether the NaN/inf scans of forward inputs run (see :func:`set_value_checks`)."""
    return _VALUE_CHECKS


@contextmanager
def value_checks(enabled: bool) -> Iterator[None]:
    """Context manager form of :func:`set_value_checks`; the previous setting is restored.

    Example:
        >>> import gen_pyg
        >>> with gen_pyg.value_checks(False):
        ...     gen_pyg.value_checks_enabled()
        False
        >>> gen_pyg.value_checks_enabled()
        True
    """
    previous = _VALUE_CHECKS
    set_value_checks(enabled)
    try:
        yield
    finally:
        set_value_checks(previous)


@contextmanager
def checked_inputs() -> Iterator[None]:
    """A region whose tensors were checked at the public boundary (by the model that enters
    it): value and index scans inside it are skipped; metadata checks still run."""
    _STATE.depth = getattr(_STATE, "depth", 0) + 1
    try:
        yield
    finally:
        _STATE.depth -= 1


def run_trusted(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` inside :func:`checked_inputs` in eager mode; called directly
    while compiling (no scan runs there, and the graph need not trace the region)."""
    if torch.compiler.is_compiling():
        return fn(*args, **kwargs)
    with checked_inputs():
        return fn(*args, **kwargs)


def _inside_checked() -> bool:
    return bool(getattr(_STATE, "depth", 0))


def scans_active() -> bool:
    """Whether index-range scans run: eager mode, outside :func:`checked_inputs`."""
    return not torch.compiler.is_compiling() and not _inside_checked()


def _value_checks_active(region: bool = True) -> bool:
    """Whether value scans run: switched on, eager, and (unless ``region`` is false, for
    checks no model boundary does) outside :func:`checked_inputs`."""
    if region:
        return _VALUE_CHECKS and scans_active()
    return _VALUE_CHECKS and not torch.compiler.is_compiling()


def _first_bad(t: Tensor, bad: Tensor) -> str:
    """``name[i, j] = value`` text of the first ``True`` entry of ``bad``."""
    index = tuple(int(i) for i in bad.nonzero()[0])
    return f"[{', '.join(map(str, index))}] = {t[index].item()}"


def check_finite(t: Tensor, name: str, force: bool = False) -> Tensor:
    """Raise ``ValueError`` naming ``name`` and the first bad index if ``t`` holds NaN or inf.

    Skipped when value checks are off (:func:`set_value_checks`) or while compiling, unless
    ``force`` (construction-time checks)."""
    if not force and not _value_checks_active():
        return t
    if t.numel() > 0 and not bool(torch.isfinite(t).all()):
        first = _first_bad(t, ~torch.isfinite(t))
        raise ValueError(f"{name} contains NaN or infinite values, first {name}{first}")
    return t


def check_finite_all(tensors: list[tuple[Tensor, str]]) -> None:
    """:func:`check_finite` of several ``(tensor, name)`` pairs with one device sync when all
    are finite (the usual case)."""
    if not _value_checks_active():
        return
    flags = [torch.isfinite(t).all() for t, _ in tensors if t.numel() > 0]
    if not flags or bool(torch.stack(flags).all()):
        return
    for t, name in tensors:
        check_finite(t, name)


def check_dtype(t: Tensor, name: str, expected: torch.dtype | None) -> Tensor:
    """A floating ``t`` must have the model's parameter dtype ``expected`` (``None``: any)."""
    if expected is None or not t.is_floating_point() or t.dtype == expected:
        return t
    to_model = _DTYPE_METHODS.get(t.dtype)
    to_data = _DTYPE_METHODS.get(expected)
    hint = f"convert the model with model.{to_model}()" if to_model else "convert the model"
    if to_data:
        hint += f" or the data with .{to_data}()"
    raise TypeError(
        f"{name} has dtype {t.dtype} but the model's parameters are {expected}; {hint}"
    )


def check_device(t: Tensor, name: str, expected: torch.device | None) -> Tensor:
    """``t`` must be on the model's parameter device ``expected`` (``None``: any)."""
    if expected is None or t.device == expected:
        return t
    raise ValueError(
        f"{name} is on {t.device} but the model's parameters are on {expected}; move the data "
        f"with .to({str(expected)!r}) or the model with model.to({str(t.device)!r})"
    )


def parameter_device(module: torch.nn.Module) -> torch.device | None:
    """The device of ``module``'s first parameter (``None`` if it has none)."""
    for p in module.parameters():
        return p.device
    return None


def parameter_dtype(module: torch.nn.Module) -> torch.dtype | None:
    """The dtype of ``module``'s first floating parameter (``None`` if it has none)."""
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    return None


def shape_of(t: object) -> str:
    """``t``'s shape as a tuple, or its type name when it is not a tensor (for messages)."""
    return str(tuple(t.shape)) if isinstance(t, Tensor) else type(t).__name__


def check_points(t: object, name: str, dim: int | None = None, finite: bool = True) -> Tensor:
    """Check that ``t`` is a floating tensor of shape ``[n, dim]`` with finite values.

    ``finite=True`` always scans the values (construction); forward passes pass ``False`` and
    call :func:`check_finite`, which honours :func:`set_value_checks`."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dim() != 2:
        raise ValueError(f"{name} must have shape [num_points, dim], got shape {tuple(t.shape)}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if dim is not None and t.size(1) != dim:
        raise ValueError(f"{name} must have {dim} coordinates per point, got {t.size(1)}")
    if finite:
        check_finite(t, name, force=True)
    return t


def check_index(index: Tensor, size: int, name: str, what: str, region: bool = True) -> Tensor:
    """Every entry of the integer tensor ``index`` lies in ``[0, size)``; the error names the
    first bad column. ``what`` says what the entries refer to (e.g. ``"x has 4 rows"``).
    Skipped while compiling, and inside :func:`checked_inputs` unless ``region`` is false (for
    indices no model boundary checks)."""
    if index.numel() == 0 or torch.compiler.is_compiling() or (region and _inside_checked()):
        return index
    bad = (index < 0) | (index >= size)
    if bool(bad.any()):
        cols = bad.reshape(bad.size(0), -1).any(dim=0) if bad.dim() > 1 else bad
        j = int(cols.nonzero()[0])
        value = index[:, j].tolist() if index.dim() > 1 else int(index[j])
        where = f"{name}[:, {j}]" if index.dim() > 1 else f"{name}[{j}]"
        raise ValueError(
            f"{name} refers to nodes outside 0..{size - 1} ({what}), first {where} = {value}"
        )
    return index


def check_batch(batch: object, n: int, name: str) -> Tensor:
    """Check an example-index vector of length ``n`` (non-negative, sorted); the value part
    is skipped inside :func:`checked_inputs` and while compiling."""
    if not isinstance(batch, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(batch).__name__}")
    if batch.dim() != 1 or batch.numel() != n:
        raise ValueError(f"{name} must have shape [{n}], got shape {tuple(batch.shape)}")
    if batch.dtype != torch.long:
        raise TypeError(f"{name} must be a torch.long tensor, got dtype {batch.dtype}")
    if n > 0 and scans_active():
        if int(batch.min()) < 0:
            raise ValueError(f"{name} must hold non-negative example indices")
        if n > 1 and bool((batch[1:] < batch[:-1]).any()):
            raise ValueError(f"{name} must be sorted (examples stored contiguously, as PyG does)")
    return batch


def check_int(value: object, name: str, minimum: int = 1) -> int:
    """``value`` is an ``int`` (a bool is not) of at least ``minimum``: ``TypeError`` for
    another type, ``ValueError`` below the minimum, each naming ``name``. The one check of
    integer arguments (sizes, counts, widths) across gen_pyg."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def check_length(value: object, name: str) -> float | None:
    """``value`` as an optional length (a bandwidth, a radius): ``None``, or a positive finite
    number (a bool is not); else a ``ValueError`` naming ``name``. Shared by
    :class:`~gen_pyg.nn.GEN` and the configs that build one."""
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not 0 < value < float("inf")):
        raise ValueError(f"{name} must be a positive finite number or None, got {value!r}")
    return float(value)


def require_length(value: object, name: str) -> float:
    """``value`` as a required length: a positive finite number (a bool is not); else a
    ``ValueError`` naming ``name``."""
    length = check_length(value, name) if value is not None else None
    if length is None:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return length


def check_choice(value: object, name: str, choices: tuple[object, ...]) -> None:
    """``value`` is one of ``choices`` (compared with ``==`` and of the same type, so that
    ``True`` is not ``1``); the error names ``name`` and lists them."""
    if not any(type(value) is type(c) and value == c for c in choices):
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def check_edge_index(edge_index: object, name: str) -> Tensor:
    """A long tensor of shape ``[2, E]`` (metadata only; :func:`check_index` scans values)."""
    if (not isinstance(edge_index, Tensor) or edge_index.dim() != 2
            or edge_index.size(0) != 2 or edge_index.dtype != torch.long):
        got = (f"{tuple(edge_index.shape)} {edge_index.dtype}"
               if isinstance(edge_index, Tensor) else type(edge_index).__name__)
        raise ValueError(f"{name} must be a long tensor [2, E], got {got}")
    return edge_index


def check_same_float(t: Tensor, name: str, like: Tensor, like_name: str = "x") -> None:
    """``t`` is a floating tensor on the device of ``like``, of its dtype unless autocast is
    on (mixed precision mixes dtypes on purpose)."""
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if t.device != like.device:
        raise ValueError(f"{name} is on {t.device} but {like_name} is on {like.device}")
    if t.dtype != like.dtype and not torch.is_autocast_enabled(like.device.type):
        raise TypeError(f"{name} has dtype {t.dtype} but {like_name} has {like.dtype}; "
                        "convert one (or run under torch.autocast)")
