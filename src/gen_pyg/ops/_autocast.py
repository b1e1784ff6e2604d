"""Mixed precision for the hand-written autograd kernels."""

from __future__ import annotations

import torch
from torch import Tensor


def same_dtype(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The floating ``tensors`` in one dtype: autocast's lower-precision dtype where autocast
    is on for their device (the kernels then run with autocast off, as matrix products under
    autocast would), else their common promoted dtype. Casts are differentiable, so gradients
    reach parameters in their own dtype."""
    device = tensors[0].device.type
    if torch.is_autocast_enabled(device):
        dtype = torch.get_autocast_dtype(device)
    else:
        dtype = tensors[0].dtype
        for t in tensors[1:]:
            dtype = torch.promote_types(dtype, t.dtype)
    return tuple(t if t.dtype == dtype else t.to(dtype) for t in tensors)
