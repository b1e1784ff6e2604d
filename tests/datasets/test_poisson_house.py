"""The house sampler matches the paper's data, and superposition equals direct solves."""

from __future__ import annotations

import numpy as np
import pytest

from gen_pyg.datasets import (
    PoissonHouse,
    generate_poisson_houses,
    perimeter_points,
    sample_poisson_house,
    solve_poisson_house,
)
from gen_pyg.solvers import FDPoissonSolver, box_coverage


def _on_grid(values: np.ndarray, step: float) -> bool:
    return bool(np.allclose(values / step, np.round(values / step), rtol=0, atol=1e-9))


@pytest.fixture(scope="module")
def houses() -> list[PoissonHouse]:
    return [sample_poisson_house(np.random.default_rng([7, i])) for i in range(400)]


def test_box_counts_are_one_to_four(houses: list[PoissonHouse]) -> None:
    counts = np.bincount([h.num_boxes for h in houses], minlength=5)
    assert counts[0] == 0 and len(counts) == 5
    assert np.all(counts[1:] > 60)  # roughly uniform: 100 expected each


def test_box_sizes_and_corners_on_the_grid(houses: list[PoissonHouse]) -> None:
    boxes = np.concatenate([h.boxes for h in houses])
    sizes = boxes[:, 2:] - boxes[:, :2]
    assert _on_grid(boxes, 0.01)
    assert _on_grid(sizes, 0.01)
    assert sizes.min() > 0.05 - 1e-9 and sizes.max() < 0.25 + 1e-9
    assert boxes.min() >= 0.0 and boxes.max() <= 1.0
    # Both extreme sizes occur (each with probability 1/40 per side).
    assert np.isclose(sizes, 0.05).any() and np.isclose(sizes, 0.25).any()


def test_first_boxes_lie_in_the_strips_and_keep_a_gap(houses: list[PoissonHouse]) -> None:
    strips = {"left": 0, "right": 0}
    for house in houses:
        first = house.boxes[:-1]
        for lx, _, ux, _ in first:
            left, right = ux <= 0.4 + 1e-9, lx >= 0.6 - 1e-9
            assert left or right
            strips["left" if left else "right"] += 1
        for i in range(len(first)):
            for j in range(i):
                a, b = first[i], first[j]
                gap_x = max(b[0] - a[2], a[0] - b[2])
                gap_y = max(b[1] - a[3], a[1] - b[3])
                assert max(gap_x, gap_y) >= 0.01 - 1e-9
    assert strips["left"] > 100 and strips["right"] > 100


def test_last_box_is_placed_anywhere_and_may_overlap(houses: list[PoissonHouse]) -> None:
    last = np.stack([h.boxes[-1] for h in houses])
    middle = (last[:, 0] > 0.4) & (last[:, 0] < 0.6)
    assert middle.any()  # not confined to the strips
    overlaps = 0
    for house in houses:
        for box in house.boxes[:-1]:
            last_box = house.boxes[-1]
            inter_x = min(box[2], last_box[2]) - max(box[0], last_box[0])
            inter_y = min(box[3], last_box[3]) - max(box[1], last_box[1])
            overlaps += bool(inter_x > 0 and inter_y > 0)
    assert overlaps > 0


def test_scenario_values_follow_the_spec(houses: list[PoissonHouse]) -> None:
    heat = np.concatenate([h.heat.ravel() for h in houses])
    temps = np.concatenate([h.exterior_temp for h in houses])
    queries = np.concatenate([h.query_pos.reshape(-1, 2) for h in houses])
    assert houses[0].heat.shape == (32, houses[0].num_boxes)
    assert houses[0].query_pos.shape == (32, 256, 2)
    assert _on_grid(heat, 0.01) and np.abs(heat).max() <= 384.0
    assert heat.min() < -300 and heat.max() > 300
    assert _on_grid(temps + 1.0, 0.02) and np.abs(temps).max() <= 1.0
    assert _on_grid(queries, 0.01) and queries.min() == 0.0 and queries.max() == 1.0
    # Scenarios of one house share box positions but not heats.
    assert len(np.unique(houses[0].heat[:, 0])) > 1


def test_sampler_is_reproducible() -> None:
    a, b = sample_poisson_house(3), sample_poisson_house(np.random.default_rng(3))
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.query_pos, b.query_pos)


def test_inputs_heater_samples_then_walls() -> None:
    house = PoissonHouse(
        boxes=np.array([[0.2, 0.4, 0.3, 0.6], [0.7, 0.1, 0.8, 0.3]]),
        heat=np.array([[76.8, -384.0]]),
        exterior_temp=np.array([0.5]),
        query_pos=np.zeros((1, 1, 2)),
    )
    pos, value, fn = house.inputs(64)
    assert pos.shape == (1, 64, 2) and value.shape == (1, 64) and fn.shape == (64,)
    assert (fn[:18] == 0).all() and (fn[18:] == 1).all()
    first = [[0.2, 0.4], [0.3, 0.4], [0.3, 0.6], [0.2, 0.6]]  # corners
    first += [[0.25, 0.4], [0.3, 0.5], [0.25, 0.6], [0.2, 0.5], [0.25, 0.5]]  # mids, centre
    np.testing.assert_allclose(pos[0, :9], first)
    np.testing.assert_allclose(value[0, :9], 0.1)
    np.testing.assert_allclose(value[0, 9:18], -0.5)
    np.testing.assert_allclose(value[0, 18:], 0.5)
    # 64 - 18 = 46 wall samples, starting at (0, 0) and running counter-clockwise.
    walls = pos[0, 18:]
    np.testing.assert_array_equal(walls[0], [0.0, 0.0])
    assert walls[1, 1] == 0.0 and 0.0 < walls[1, 0] < 0.1
    perimeter = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(walls, axis=0)).sum(axis=1))])
    np.testing.assert_allclose(np.diff(perimeter), 4.0 / 46, atol=1e-12)


@pytest.mark.parametrize("num_boxes", [1, 2, 3, 4])
def test_input_counts(num_boxes: int) -> None:
    boxes = np.array([[0.1 * i, 0.1, 0.1 * i + 0.05, 0.2] for i in range(num_boxes)])
    house = PoissonHouse(boxes, np.ones((2, num_boxes)), np.zeros(2), np.zeros((2, 3, 2)))
    _, _, fn = house.inputs()
    assert (fn == 0).sum() == 9 * num_boxes and len(fn) == 64


def test_perimeter_order() -> None:
    pts = perimeter_points(4)
    np.testing.assert_array_equal(pts, [[0, 0], [1, 0], [1, 1], [0, 1]])
    pts = perimeter_points(12)
    np.testing.assert_allclose(pts[:4], [[0, 0], [1 / 3, 0], [2 / 3, 0], [1, 0]])
    np.testing.assert_allclose(pts[-1], [0, 1 / 3])


def test_superposition_equals_direct_solve() -> None:
    house = sample_poisson_house(np.random.default_rng(11), num_scenarios=5, num_queries=40)
    solver = FDPoissonSolver(41)
    fast = solve_poisson_house(house, solver).y
    assert fast is not None
    coverage = box_coverage(house.boxes, 41)
    source = np.einsum("sk,kij->sij", house.heat, coverage)
    fields = solver.solve(source, house.exterior_temp[:, None, None] + np.zeros((1, 41, 41)))
    for s in range(house.num_scenarios):
        direct = solver.interpolate(fields[s], house.query_pos[s])
        np.testing.assert_allclose(fast[s], direct, rtol=1e-10, atol=1e-10)


def test_solution_equals_wall_temperature_on_the_walls() -> None:
    house = sample_poisson_house(5, num_scenarios=4, num_queries=3)
    on_walls = np.array([[0.0, 0.3], [1.0, 0.77], [0.42, 1.0]])
    house = PoissonHouse(house.boxes, house.heat, house.exterior_temp, np.tile(on_walls, (4, 1, 1)))
    y = solve_poisson_house(house, FDPoissonSolver(101)).y
    assert y is not None
    np.testing.assert_allclose(y, np.repeat(house.exterior_temp[:, None], 3, axis=1), atol=1e-12)


def test_heater_warms_the_house() -> None:
    # One heater with positive heat and walls at 0: the temperature is positive inside
    # (maximum principle), largest inside the box.
    house = PoissonHouse(
        boxes=np.array([[0.4, 0.4, 0.6, 0.6]]),
        heat=np.array([[100.0]]),
        exterior_temp=np.array([0.0]),
        query_pos=np.array([[[0.5, 0.5], [0.1, 0.1], [0.5, 0.9]]]),
    )
    y = solve_poisson_house(house, FDPoissonSolver(51)).y
    assert y is not None
    assert (y > 0).all() and y[0, 0] > y[0, 2] > y[0, 1]


def test_generate_is_independent_of_the_number_of_houses() -> None:
    two = generate_poisson_houses(2, seed=4, num_scenarios=2, num_queries=5, n=21)
    three = generate_poisson_houses(3, seed=4, num_scenarios=2, num_queries=5, n=21)
    np.testing.assert_array_equal(two[1].y, three[1].y)
    later = generate_poisson_houses(1, seed=4, num_scenarios=2, num_queries=5, n=21, first_house=2)
    np.testing.assert_array_equal(later[0].y, three[2].y)


def test_bad_arguments() -> None:
    house = sample_poisson_house(0, num_scenarios=1, num_queries=1)
    with pytest.raises(ValueError, match="'num_inputs'"):
        house.inputs(9 * house.num_boxes)
    with pytest.raises(ValueError, match="'num_inputs'"):
        house.inputs("64")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'num_scenarios'"):
        sample_poisson_house(0, num_scenarios=0)
    with pytest.raises(ValueError, match="'num_queries'"):
        sample_poisson_house(0, num_queries=-3)
    with pytest.raises(ValueError, match="'num_houses'"):
        generate_poisson_houses(-1)
    with pytest.raises(ValueError, match="'heat' has shape"):
        PoissonHouse(np.zeros((0, 4)), np.zeros((2, 1)), np.zeros(2), np.zeros((2, 1, 2)))
    with pytest.raises(ValueError, match="lx < Lx"):
        PoissonHouse(
            np.array([[0.5, 0, 0.4, 1]]), np.zeros((1, 1)), np.zeros(1), np.zeros((1, 1, 2))
        )
    with pytest.raises(ValueError, match="'num'"):
        perimeter_points(0)
