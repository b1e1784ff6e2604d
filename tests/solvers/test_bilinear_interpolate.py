"""Bilinear interpolation on the unit square grid."""

from __future__ import annotations

import numpy as np
import pytest

from gen_pyg.solvers import bilinear_interpolate


def test_reproduces_bilinear_functions_exactly() -> None:
    n = 6
    x = np.arange(n) / (n - 1)
    grid = 1.5 - 2.0 * x[:, None] + 0.25 * x[None, :] + 3.0 * x[:, None] * x[None, :]
    points = np.random.default_rng(0).uniform(size=(50, 2))
    points = np.concatenate([points, [[0.0, 0.0], [1.0, 1.0], [1.0, 0.3], [0.2, 1.0]]])
    expected = 1.5 - 2.0 * points[:, 0] + 0.25 * points[:, 1] + 3.0 * points[:, 0] * points[:, 1]
    np.testing.assert_allclose(bilinear_interpolate(grid, points), expected, atol=1e-13)


def test_cell_centre_is_the_mean_of_four_corners() -> None:
    grid = np.array([[1.0, 2.0], [3.0, 10.0]])
    assert bilinear_interpolate(grid, [[0.5, 0.5]])[0] == pytest.approx(4.0)
    # x is the first axis: (1, 0) is grid[1, 0].
    assert bilinear_interpolate(grid, [[1.0, 0.0]])[0] == 3.0


def test_batch_dimensions() -> None:
    grid = np.stack([np.zeros((4, 4)), np.ones((4, 4))])
    out = bilinear_interpolate(grid, [[0.1, 0.2], [0.9, 0.4], [0.5, 0.5]])
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out[1], 1.0)


def test_rejects_points_outside_and_bad_shapes() -> None:
    with pytest.raises(ValueError, match="'points' must lie inside"):
        bilinear_interpolate(np.zeros((3, 3)), [[1.1, 0.5]])
    with pytest.raises(ValueError, match="'points' must have shape"):
        bilinear_interpolate(np.zeros((3, 3)), [0.5, 0.5])
    with pytest.raises(ValueError, match="'values'"):
        bilinear_interpolate(np.zeros((3, 4)), [[0.5, 0.5]])
