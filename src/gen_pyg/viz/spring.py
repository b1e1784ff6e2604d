"""Figures of spring-chain rollouts: positions over time, rollout error and energy."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_spring_errors", "plot_spring_positions"]


def _numpy(value: Tensor, name: str, dims: int) -> Any:
    if not isinstance(value, Tensor):
        raise TypeError(f"'{name}' must be a torch.Tensor, got {type(value).__name__}")
    if value.dim() != dims:
        raise ValueError(f"'{name}' must have {dims} dimension(s), got shape {tuple(value.shape)}")
    return value.detach().to("cpu", torch.float64).numpy()


def _figure(**kwargs: Any) -> tuple[Figure, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(**kwargs)
    return fig, axes


def _save(fig: Figure, path: str | Path | None) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)


def plot_spring_positions(
    times: Tensor,
    predicted: Tensor,
    reference: Tensor,
    *,
    title: str = "Learned rollout vs true physics",
    max_masses: int = 10,
    path: str | Path | None = None,
) -> Figure:
    r"""Positions of every mass over time, learned (dashed) against reference (solid).

    Each mass gets one colour; with more than ``max_masses`` masses only that many, evenly
    spread along the chain, are drawn.

    Args:
        times (torch.Tensor): Times, shape ``[T]``.
        predicted (torch.Tensor): Learned positions, shape ``[n, T]``.
        reference (torch.Tensor): Reference positions, shape ``[n, T]``.
        title (str, optional): Figure title. (default: ``"Learned rollout vs true physics"``)
        max_masses (int, optional): At most this many masses are drawn. (default: :obj:`10`)
        path (str or pathlib.Path, optional): Where to save a PNG. (default: :obj:`None`)

    Returns:
        matplotlib.figure.Figure: The figure.

    Example:
        >>> t = torch.linspace(0, 1, 11)
        >>> fig = plot_spring_positions(t, torch.zeros(3, 11), torch.zeros(3, 11))
        >>> len(fig.axes)
        1
    """
    t = _numpy(times, "times", 1)
    pred = _numpy(predicted, "predicted", 2)
    ref = _numpy(reference, "reference", 2)
    if pred.shape != ref.shape or pred.shape[1] != t.shape[0]:
        raise ValueError(
            f"'predicted' {pred.shape} and 'reference' {ref.shape} must both be [n, {t.shape[0]}]"
        )
    if max_masses < 1:
        raise ValueError(f"'max_masses' must be at least 1, got {max_masses}")
    n = pred.shape[0]
    count = min(n, max_masses)
    shown = sorted({round(i * (n - 1) / max(1, count - 1)) for i in range(count)})
    fig, ax = _figure(figsize=(9, 4.5), layout="constrained")
    colours = [f"C{i % 10}" for i in range(len(shown))]
    for colour, i in zip(colours, shown, strict=True):
        ax.plot(t, ref[i], color=colour, lw=2, alpha=0.6, label=f"true, mass {i}")
        ax.plot(t, pred[i], color=colour, lw=1.5, ls="--", label=f"learned, mass {i}")
    ax.set_xlabel("time")
    ax.set_ylabel("displacement")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=min(len(shown), 5), loc="upper left")
    _save(fig, path)
    return fig


def plot_spring_errors(
    times: Tensor,
    errors: Mapping[str, Tensor],
    energies: Mapping[str, Tensor],
    *,
    title: str = "Rollout error and energy",
    path: str | Path | None = None,
) -> Figure:
    r"""Rollout error (left, log scale) and total energy (right) over time.

    Args:
        times (torch.Tensor): Times, shape ``[T]``.
        errors (Mapping[str, torch.Tensor]): Curves of position RMSE, each of shape ``[T]``,
            keyed by their legend label.
        energies (Mapping[str, torch.Tensor]): Curves of energy (for example the mean over the
            chains), each of shape ``[T]``, keyed by their legend label.
        title (str, optional): Figure title. (default: ``"Rollout error and energy"``)
        path (str or pathlib.Path, optional): Where to save a PNG. (default: :obj:`None`)

    Returns:
        matplotlib.figure.Figure: The figure.

    Example:
        >>> t = torch.linspace(0, 1, 11)
        >>> fig = plot_spring_errors(t, {"model": t + 0.1}, {"model": torch.ones(11)})
        >>> len(fig.axes)
        2
    """
    import numpy as np

    t = _numpy(times, "times", 1)
    fig, (ax_err, ax_energy) = _figure(ncols=2, figsize=(11, 4), layout="constrained")
    for axis, curves, name in ((ax_err, errors, "errors"), (ax_energy, energies, "energies")):
        if not isinstance(curves, Mapping):
            raise TypeError(f"'{name}' must be a mapping from label to tensor")
        for label, curve in curves.items():
            values = _numpy(curve, f"{name}[{label!r}]", 1)
            if values.shape != t.shape:
                raise ValueError(f"'{name}[{label!r}]' must have shape {t.shape}")
            if axis is ax_err:  # zero error (at t = 0) has no place on a log axis
                values = np.where(values > 0, values, np.nan)
            axis.plot(t, values, label=label)
        axis.set_xlabel("time")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    ax_err.set_yscale("log")
    ax_err.set_ylabel("position RMSE")
    ax_energy.set_ylabel("total energy")
    fig.suptitle(title)
    _save(fig, path)
    return fig
