"""Small typed wrappers around torch utilities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import torch

F = TypeVar("F", bound=Callable[..., Any])


def eager_only(fn: F) -> F:
    """Run ``fn`` outside :func:`torch.compile` graphs (for compiled extensions without
    fake-tensor kernels, and for host-side work such as scipy calls)."""
    return cast(F, torch.compiler.disable(fn))  # type: ignore[no-untyped-call]
