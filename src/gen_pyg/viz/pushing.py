"""Figures of the pushing experiment: objects, pushes, true and predicted final poses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from gen_pyg.datasets.pushing import PushingRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_pushes"]

#: Colours of the picture classes: nothing, body, light weight, heavy weight.
_CLASS_COLOURS = ("#ffffff", "#b9c4d0", "#f2a541", "#c0392b")


def _outlines(record: PushingRecord) -> list[NDArray[np.float64]]:
    """The object's outline(s) in its initial frame: its polygon, or else the contour of the
    picture's non-empty pixels."""
    if record.obj is not None:
        poly = record.obj.polygon
        return [np.concatenate([poly, poly[:1]])]
    import contourpy

    height, width = record.picture.shape
    x0, y0, x1, y1 = record.box
    xs = x0 + (np.arange(width) + 0.5) * (x1 - x0) / width
    ys = y0 + (np.arange(height) + 0.5) * (y1 - y0) / height
    lines = contourpy.contour_generator(xs, ys, (record.picture > 0).astype(float)).lines(0.5)
    return [np.asarray(line, dtype=np.float64) for line in lines]


def _moved(points: NDArray[np.float64], change: NDArray[np.float64]) -> NDArray[np.float64]:
    cos, sin = math.cos(change[2]), math.sin(change[2])
    rot = np.array([[cos, -sin], [sin, cos]])
    out: NDArray[np.float64] = points @ rot.T + change[:2]
    return out


def plot_pushes(
    examples: Sequence[PushingRecord],
    predictions: Tensor | NDArray[np.float64] | None = None,
    path: str | Path | None = None,
    *,
    columns: int = 4,
) -> Figure:
    r"""One panel per object: its picture (body, light and heavy weights) at the initial pose,
    each push as an arrow, the true final outline (solid) and, if given, the predicted one
    (dashed).

    Args:
        examples (list of PushingRecord): The objects with the pushes to draw (usually one
            each, e.g. ``dataset.record(i).select([k])``).
        predictions (torch.Tensor or numpy.ndarray, optional): Predicted pose changes
            :math:`(\Delta x, \Delta y, \Delta\theta)` in cm and rad, ``[N, 3]`` with
            ``N`` the pushes of all examples in order. (default: ``None``)
        path (str or Path, optional): Where to save a PNG. (default: ``None``)
        columns (int, optional): Panels per row. (default: ``4``)

    Returns:
        matplotlib.figure.Figure: The figure, with one axes per example.

    Example:
        >>> from gen_pyg.datasets import generate_pushing_record
        >>> from gen_pyg.solvers import PushingPhysics
        >>> rec = generate_pushing_record(np.random.default_rng(0), 2,
        ...                               PushingPhysics(resolution=40, step=0.1))
        >>> len(plot_pushes([rec.select([0]), rec.select([1])]).axes)
        2
    """
    if not examples or not all(isinstance(e, PushingRecord) for e in examples):
        raise TypeError("'examples' must be a non-empty sequence of PushingRecord")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"'columns' must be an int >= 1 (got {columns!r})")
    total = sum(e.num_pushes for e in examples)
    pred: NDArray[np.float64] | None = None
    if predictions is not None:
        pred = (predictions.detach().to("cpu", torch.float64).numpy()
                if isinstance(predictions, Tensor) else np.asarray(predictions, np.float64))
        if pred.shape != (total, 3):
            raise ValueError(f"'predictions' must have shape [{total}, 3] (got "
                             f"{list(pred.shape)})")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    cols = min(columns, len(examples))
    rows = math.ceil(len(examples) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.ravel()[len(examples):]:
        fig.delaxes(ax)
    cmap = ListedColormap(list(_CLASS_COLOURS))
    row = 0
    for ax, rec in zip(axes.ravel(), examples, strict=False):
        x0, y0, x1, y1 = rec.box
        ax.imshow(rec.picture, cmap=cmap, vmin=0, vmax=3, origin="lower",
                  extent=(x0, x1, y0, y1), interpolation="nearest")
        outlines = _outlines(rec)
        for k in range(rec.num_pushes):
            start, disp = rec.push_start[k], rec.push_displacement[k]
            ax.annotate("", xy=tuple(start + disp), xytext=tuple(start),
                        arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.5})
            for i, line in enumerate(outlines):
                moved = _moved(line, rec.pose_change[k])
                ax.plot(moved[:, 0], moved[:, 1], "-", color="#1f77b4", lw=1.2,
                        label="true" if i == 0 and k == 0 else None)
                if pred is not None:
                    guess = _moved(line, pred[row])
                    ax.plot(guess[:, 0], guess[:, 1], "--", color="#d62728", lw=1.2,
                            label="predicted" if i == 0 and k == 0 else None)
            row += 1
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    axes.ravel()[0].legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig

