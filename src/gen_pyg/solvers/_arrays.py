"""Conversion of user inputs (numbers, arrays, tensors) to the float64 arrays solvers use."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

Float64Array = NDArray[np.float64]


def as_float64(value: Any, name: str) -> Float64Array:
    """``value`` (number, sequence, array or tensor) as a float64 numpy array.

    Raises:
        TypeError: if ``value`` is not numeric.
        ValueError: if ``value`` holds NaN or infinite entries.
    """
    if isinstance(value, Tensor):
        array = value.detach().to("cpu", torch.float64).numpy()
    else:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"'{name}' must be a number, an array or a tensor of numbers "
                f"(got {type(value).__name__})"
            ) from err
    if not np.all(np.isfinite(array)):
        raise ValueError(f"'{name}' holds NaN or infinite values")
    return array


def check_number(name: str, value: object, *, positive: bool = True) -> float:
    """``value`` as a finite float, positive (or non-negative); a :class:`TypeError` for a
    non-number, a :class:`ValueError` for a number out of range, naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"'{name}' must be a number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out) or out < 0 or (positive and out == 0):
        raise ValueError(f"'{name}' must be finite and {'positive' if positive else 'non-negative'}"
                         f" (got {value!r})")
    return out


def rotate(v: Float64Array, angle: Float64Array) -> Float64Array:
    """The 2-D vectors ``v`` ``[N, 2]`` rotated by ``angle`` ``[N]`` (radians)."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([cos * v[:, 0] - sin * v[:, 1], sin * v[:, 0] + cos * v[:, 1]], axis=1)
