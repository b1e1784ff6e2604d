"""Input checks shared across gen_pyg, each naming the offending argument."""

from __future__ import annotations

import torch
from torch import Tensor


def check_points(t: object, name: str, dim: int | None = None, finite: bool = True) -> Tensor:
    """Check that ``t`` is a floating tensor of shape ``[n, dim]`` with finite values."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dim() != 2:
        raise ValueError(f"{name} must have shape [num_points, dim], got shape {tuple(t.shape)}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if dim is not None and t.size(1) != dim:
        raise ValueError(f"{name} must have {dim} coordinates per point, got {t.size(1)}")
    if finite and t.numel() > 0 and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def check_batch(batch: object, n: int, name: str) -> Tensor:
    """Check an example-index vector of length ``n`` (non-negative, sorted)."""
    if not isinstance(batch, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(batch).__name__}")
    if batch.dim() != 1 or batch.numel() != n:
        raise ValueError(f"{name} must have shape [{n}], got shape {tuple(batch.shape)}")
    if batch.dtype != torch.long:
        raise TypeError(f"{name} must be a torch.long tensor, got dtype {batch.dtype}")
    if n > 0:
        if int(batch.min()) < 0:
            raise ValueError(f"{name} must hold non-negative example indices")
        if n > 1 and bool((batch[1:] < batch[:-1]).any()):
            raise ValueError(f"{name} must be sorted (examples stored contiguously, as PyG does)")
    return batch
