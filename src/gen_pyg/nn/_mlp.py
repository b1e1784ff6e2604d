"""A lean multi-layer perceptron (plain ``nn.Sequential``, no normalisation)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch

from gen_pyg._validation import check_int


def mlp(channels: Sequence[int], act: type[torch.nn.Module] = torch.nn.ReLU) -> torch.nn.Sequential:
    """Linear layers of the given widths with an activation between them (none after the last).

    Example:
        >>> mlp([3, 8, 2])
        Sequential(
          (0): Linear(in_features=3, out_features=8, bias=True)
          (1): ReLU()
          (2): Linear(in_features=8, out_features=2, bias=True)
        )
    """
    if len(channels) < 2:
        raise ValueError(f"channels must list at least two widths, got {list(channels)}")
    for i, c in enumerate(channels):
        check_int(c, f"channels[{i}]")
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(channels)):
        if i > 0:
            layers.append(act())
        layers.append(torch.nn.Linear(a, b))
    return torch.nn.Sequential(*layers)


def reset_mlp(module: torch.nn.Module) -> None:
    """Re-initialise every linear layer of ``module``."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            layer.reset_parameters()
