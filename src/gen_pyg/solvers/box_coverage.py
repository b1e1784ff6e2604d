"""Rasterisation of axis-aligned boxes (heaters) onto a finite-difference grid."""

from __future__ import annotations

from typing import Any

import numpy as np

from gen_pyg.solvers._arrays import Float64Array, as_float64

#: Sample points closer than this to a box edge count as outside ("strictly inside" rule).
_EDGE_TOLERANCE = 1e-9


def box_coverage(boxes: Any, n: int, supersample: int = 4) -> Float64Array:
    r"""Fraction of each node's cell covered by each box, where later boxes cover earlier ones.

    A piecewise-constant source :math:`f = h_k` strictly inside box
    :math:`k = (l_x, l_y, L_x, L_y)` (:math:`l_x < x < L_x`, :math:`l_y < y < L_y`) and
    :math:`0` elsewhere, where the box listed last wins on overlaps, is written as
    :math:`f_{i,j} = \sum_k h_k\, c_{k,i,j}`. This function returns the coefficients
    :math:`c_{k,i,j}`: the mean, over ``supersample**2`` evenly spaced points of the cell
    :math:`[x_i - h/2, x_i + h/2] \times [y_j - h/2, y_j + h/2]` around node :math:`(i, j)`,
    of the indicator that box :math:`k` is the last box containing the point. With
    ``supersample = 1`` the cell is its node (the source sampled at nodes); larger values
    average the source over the cell, so a box edge through a node gives it half the box's
    value and a box corner a quarter, and boxes need not align with the grid. Because the
    coefficients do not depend on the heat values, one solve per box gives every scenario by
    superposition.

    Args:
        boxes (array or Tensor): Boxes ``(lx, ly, Lx, Ly)`` of shape ``[K, 4]`` in
            :math:`[0, 1]^2`, with ``lx < Lx`` and ``ly < Ly``.
        n (int): Number of grid nodes per axis (``n >= 2``), node :math:`i` at
            :math:`i / (n - 1)`.
        supersample (int, optional): Sample points per cell and axis. (default: ``4``)

    Returns:
        A float64 array of shape ``[K, n, n]`` (``[k, i, j]``, :math:`x` first) with entries in
        :math:`[0, 1]` whose sum over :math:`k` is at most one.

    Example:
        >>> boxes = [[0.0, 0.0, 0.75, 0.75], [0.25, 0.25, 1.0, 1.0]]
        >>> c = box_coverage(boxes, n=5, supersample=1)
        >>> c[0] + 2 * c[1]  # node (0.5, 0.5) lies in both boxes: the second one wins
        array([[0., 0., 0., 0., 0.],
               [0., 1., 1., 0., 0.],
               [0., 1., 2., 2., 0.],
               [0., 0., 2., 2., 0.],
               [0., 0., 0., 0., 0.]])
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"'n' must be an int >= 2 (got {n!r})")
    if isinstance(supersample, bool) or not isinstance(supersample, int) or supersample < 1:
        raise ValueError(f"'supersample' must be a positive int (got {supersample!r})")
    box = as_float64(boxes, "boxes")
    if box.ndim != 2 or box.shape[1] != 4:
        raise ValueError(f"'boxes' must have shape [K, 4] (got {tuple(box.shape)})")
    if np.any(box[:, 2] <= box[:, 0]) or np.any(box[:, 3] <= box[:, 1]):
        raise ValueError("'boxes' must satisfy lx < Lx and ly < Ly for every box")
    h = 1.0 / (n - 1)
    offsets = ((np.arange(supersample) + 0.5) / supersample - 0.5) * h
    # Sample coordinates along one axis, shape [n * supersample], grouped by node.
    samples = (np.arange(n)[:, None] / (n - 1) + offsets[None, :]).reshape(-1)
    inside_x = (samples[None, :] > box[:, 0:1] + _EDGE_TOLERANCE) & (
        samples[None, :] < box[:, 2:3] - _EDGE_TOLERANCE
    )
    inside_y = (samples[None, :] > box[:, 1:2] + _EDGE_TOLERANCE) & (
        samples[None, :] < box[:, 3:4] - _EDGE_TOLERANCE
    )
    owner = np.full((len(samples), len(samples)), -1, dtype=np.intp)
    for k in range(len(box)):  # later boxes overwrite earlier ones
        owner[np.ix_(inside_x[k], inside_y[k])] = k
    # Count the samples of each (cell, owner) pair in one pass; owner -1 (no box) is dropped.
    node = np.arange(len(samples)) // supersample
    cell = node[:, None] * n + node[None, :]
    labels = len(box) + 1
    counts = np.bincount((cell * labels + owner + 1).ravel(), minlength=n * n * labels)
    per_cell = counts.reshape(n, n, labels)[..., 1:] / supersample**2
    return np.ascontiguousarray(np.moveaxis(per_cell, -1, 0), dtype=np.float64)
