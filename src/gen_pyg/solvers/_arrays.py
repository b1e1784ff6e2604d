"""Conversion of user inputs (numbers, arrays, tensors) to the float64 arrays solvers use."""

from __future__ import annotations

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

