"""Bilinear interpolation of values on a regular node grid of the unit square."""

from __future__ import annotations

from typing import Any

import numpy as np

from gen_pyg.solvers._arrays import Float64Array, as_float64

#: Points farther than this outside the unit square are rejected rather than clamped.
_DOMAIN_TOLERANCE = 1e-9


def bilinear_interpolate(values: Any, points: Any) -> Float64Array:
    r"""Interpolates node values of an :math:`n \times n` grid on :math:`[0, 1]^2` bilinearly.

    Node :math:`(i, j)` sits at :math:`(x_i, y_j) = (i h, j h)` with :math:`h = 1 / (n - 1)`
    (``values[..., i, j]``: the first grid axis is :math:`x`). A point in the cell
    :math:`[x_i, x_{i+1}] \times [y_j, y_{j+1}]` with local coordinates
    :math:`s = (x - x_i) / h` and :math:`t = (y - y_j) / h` gets

    .. math::
        u(x, y) = (1-s)(1-t)\, u_{i,j} + s(1-t)\, u_{i+1,j} + (1-s)t\, u_{i,j+1}
        + st\, u_{i+1,j+1},

    which reproduces every function :math:`a + bx + cy + dxy` exactly and returns node values
    unchanged at nodes.

    Args:
        values (array or Tensor): Node values of shape ``[..., n, n]`` with ``n >= 2``.
        points (array or Tensor): Points of shape ``[Q, 2]`` inside :math:`[0, 1]^2`.

    Returns:
        A float64 numpy array of shape ``[..., Q]``.

    Raises:
        ValueError: if the shapes are wrong, a value is not finite, or a point lies outside
            the unit square.

    Example:
        >>> import numpy as np
        >>> x = np.arange(3) / 2.0
        >>> values = x[:, None] + 10 * x[None, :]  # u(x, y) = x + 10 y on a 3 x 3 grid
        >>> bilinear_interpolate(values, [[0.25, 0.5], [1.0, 1.0]])
        array([ 5.25, 11.  ])
    """
    grid = as_float64(values, "values")
    pts = as_float64(points, "points")
    if grid.ndim < 2 or grid.shape[-1] != grid.shape[-2] or grid.shape[-1] < 2:
        raise ValueError(
            f"'values' must have shape [..., n, n] with n >= 2 (got {tuple(grid.shape)})"
        )
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"'points' must have shape [Q, 2] (got {tuple(pts.shape)})")
    if pts.size and (pts.min() < -_DOMAIN_TOLERANCE or pts.max() > 1.0 + _DOMAIN_TOLERANCE):
        raise ValueError("'points' must lie inside the unit square [0, 1]^2")
    n = grid.shape[-1]
    scaled = np.clip(pts, 0.0, 1.0) * (n - 1)
    cell = np.clip(np.floor(scaled), 0, n - 2).astype(np.intp)
    s, t = (scaled - cell).T
    i, j = cell.T
    out: Float64Array = (
        grid[..., i, j] * ((1.0 - s) * (1.0 - t))
        + grid[..., i + 1, j] * (s * (1.0 - t))
        + grid[..., i, j + 1] * ((1.0 - s) * t)
        + grid[..., i + 1, j + 1] * (s * t)
    )
    return out
