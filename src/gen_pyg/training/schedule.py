"""Learning-rate schedules of the training engine."""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau

from gen_pyg.training.config import TrainConfig

__all__ = ["build_schedulers"]


def build_schedulers(optimizer: torch.optim.Optimizer, config: TrainConfig,
                     steps_per_epoch: int, maximize: bool = False) -> tuple[LRScheduler | None,
                                                    ReduceLROnPlateau | None]:
    """The per-step scheduler (linear warm-up, then constant or cosine to
    ``lr * min_lr_ratio`` over the run) and the per-evaluation plateau scheduler of
    :obj:`config` (at most one of them is not :obj:`None`); the plateau scheduler watches a
    metric to :obj:`maximize` or to minimise."""
    if config.schedule == "plateau":
        return None, ReduceLROnPlateau(optimizer, mode="max" if maximize else "min",
                                       factor=0.5, patience=2)
    total = max(1, config.epochs * steps_per_epoch - config.warmup_steps)
    warm, ratio = config.warmup_steps, config.min_lr_ratio
    cosine = config.schedule == "cosine"

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / (warm + 1)
        if not cosine:
            return 1.0
        t = min(1.0, (step - warm) / total)
        return ratio + (1 - ratio) * 0.5 * (1 + math.cos(math.pi * t))

    if not warm and not cosine:
        return None, None
    return LambdaLR(optimizer, factor), None
