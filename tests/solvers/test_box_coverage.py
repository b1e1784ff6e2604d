"""Rasterisation of boxes: the strictly-inside rule, last-box-wins, cell averages."""

from __future__ import annotations

import numpy as np
import pytest

from gen_pyg.solvers import FDPoissonSolver, box_coverage


def test_strictly_inside_nodes_by_hand() -> None:
    # n = 11: nodes at multiples of 0.1; the box's edges lie on nodes, which are outside.
    c = box_coverage([[0.2, 0.3, 0.5, 0.6]], n=11, supersample=1)[0]
    expected = np.zeros((11, 11))
    expected[3:5, 4:6] = 1.0  # x in {0.3, 0.4}, y in {0.4, 0.5}
    np.testing.assert_array_equal(c, expected)


def test_last_box_wins_on_overlap() -> None:
    boxes = [[0.0, 0.0, 0.75, 0.75], [0.25, 0.25, 1.0, 1.0]]
    c = box_coverage(boxes, n=5, supersample=1)
    # Node (0.5, 0.5) is inside both boxes and goes to the second only.
    assert c[0, 2, 2] == 0.0 and c[1, 2, 2] == 1.0
    assert c[0, 1, 1] == 1.0 and c[1, 3, 3] == 1.0
    # Reversing the order hands the shared node to the other box; values never add.
    r = box_coverage(boxes[::-1], n=5, supersample=1)
    assert r[1, 2, 2] == 1.0 and r[0, 2, 2] == 0.0
    assert c.sum(axis=0).max() == 1.0


def test_cell_average_gives_halves_on_edges_and_quarters_on_corners() -> None:
    c = box_coverage([[0.25, 0.25, 0.75, 0.75]], n=5, supersample=4)[0]
    expected = np.array(
        [
            [0, 0, 0, 0, 0],
            [0, 0.25, 0.5, 0.25, 0],
            [0, 0.5, 1, 0.5, 0],
            [0, 0.25, 0.5, 0.25, 0],
            [0, 0, 0, 0, 0],
        ]
    )
    np.testing.assert_array_equal(c, expected)


def test_cell_average_integrates_the_box_area() -> None:
    # The trapezoid-like sum h^2 * sum(c) is the box area for grid-aligned boxes.
    n = 101
    c = box_coverage([[0.27, 0.13, 0.39, 0.19], [0.1, 0.5, 0.35, 0.62]], n=n, supersample=2)
    np.testing.assert_allclose(c.sum(axis=(1, 2)) / (n - 1) ** 2, [0.12 * 0.06, 0.25 * 0.12])


def test_cell_averaged_source_is_more_accurate_than_nodal() -> None:
    # Against a fine reference, the averaged source converges much faster (second order).
    boxes = [[0.27, 0.13, 0.39, 0.19]]
    pts = np.stack(np.meshgrid(np.arange(21) / 20, np.arange(21) / 20), -1).reshape(-1, 2)
    fine = FDPoissonSolver(321)
    ref = fine.interpolate(fine.solve(box_coverage(boxes, 321, 4)), pts)
    coarse = FDPoissonSolver(101)
    err = {
        s: np.abs(coarse.interpolate(coarse.solve(box_coverage(boxes, 101, s)), pts) - ref).max()
        for s in (1, 4)
    }
    assert err[4] < 0.05 * err[1]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="'boxes' must have shape"):
        box_coverage([0.1, 0.1, 0.2, 0.2], n=5)
    with pytest.raises(ValueError, match="lx < Lx"):
        box_coverage([[0.3, 0.1, 0.2, 0.2]], n=5)
    with pytest.raises(ValueError, match="'n'"):
        box_coverage([[0.1, 0.1, 0.2, 0.2]], n=1)
    with pytest.raises(ValueError, match="'supersample'"):
        box_coverage([[0.1, 0.1, 0.2, 0.2]], n=5, supersample=0)
