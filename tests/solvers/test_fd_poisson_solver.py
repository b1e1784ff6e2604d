"""The finite-difference Poisson solver against exact and manufactured solutions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gen_pyg.solvers import FDPoissonSolver

METHODS = ["dst", "splu"]


def _manufactured(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # u = sin(pi x) cos(2 pi y) + x^2 y, so -Lap u = 5 pi^2 sin(pi x) cos(2 pi y) - 2 y.
    u = np.sin(np.pi * x) * np.cos(2 * np.pi * y) + x**2 * y
    f = 5 * np.pi**2 * np.sin(np.pi * x) * np.cos(2 * np.pi * y) - 2 * y
    return u, f


@pytest.mark.parametrize("method", METHODS)
def test_manufactured_solution_converges_at_second_order(method: str) -> None:
    errors = []
    for n in (17, 33, 65, 129):
        solver = FDPoissonSolver(n, method)
        x, y = solver.coords[:, None], solver.coords[None, :]
        u, f = _manufactured(x, y)
        errors.append(np.abs(solver.solve(f, u) - u).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 1.95) & (orders < 2.05)), orders
    assert errors[-1] < 3e-4


@pytest.mark.parametrize("method", METHODS)
def test_constant_boundary_without_source_gives_the_constant(method: str) -> None:
    solver = FDPoissonSolver(41, method)
    u = solver.solve(0.0, -0.37)
    np.testing.assert_allclose(u, -0.37, rtol=0, atol=1e-13)


@pytest.mark.parametrize("method", METHODS)
def test_cubic_is_reproduced_exactly(method: str) -> None:
    # The 5-point stencil is exact for polynomials of degree 3.
    solver = FDPoissonSolver(9, method)
    x, y = solver.coords[:, None], solver.coords[None, :]
    u = x**3 - 2 * x * y**2 + y + 0.5
    f = -(6 * x - 4 * x)  # -Lap u = -(6x - 4x)
    np.testing.assert_allclose(solver.solve(f + 0 * y, u), u, atol=1e-12)


def test_single_interior_node_by_hand() -> None:
    # n = 3, h = 1/2: 4 u_c - (sum of the four edge midpoints) = h^2 f.
    boundary = np.zeros((3, 3))
    boundary[0, 1], boundary[2, 1], boundary[1, 0], boundary[1, 2] = 1.0, 2.0, 3.0, 6.0
    boundary[0, 0] = 100.0  # a corner: not a neighbour of the centre
    source = np.full((3, 3), 8.0)
    u = FDPoissonSolver(3).solve(source, boundary)
    assert u[1, 1] == pytest.approx((12.0 + 0.25 * 8.0) / 4.0)
    np.testing.assert_array_equal(u[0], boundary[0])


def test_methods_agree_on_random_problems() -> None:
    rng = np.random.default_rng(0)
    source, boundary = rng.normal(size=(3, 25, 25)), rng.normal(size=(3, 25, 25))
    u_dst = FDPoissonSolver(25, "dst").solve(source, boundary)
    u_lu = FDPoissonSolver(25, "splu").solve(source, boundary)
    np.testing.assert_allclose(u_dst, u_lu, atol=1e-12)


def test_solution_satisfies_the_sparse_system() -> None:
    solver = FDPoissonSolver(12)
    rng = np.random.default_rng(1)
    source = rng.normal(size=(12, 12))
    u = solver.solve(source)  # zero boundary
    residual = solver.matrix() @ u[1:-1, 1:-1].reshape(-1) - source[1:-1, 1:-1].reshape(-1)
    assert np.abs(residual).max() < 1e-9


def test_batches_broadcast_and_linearity() -> None:
    solver = FDPoissonSolver(15)
    rng = np.random.default_rng(2)
    f = rng.normal(size=(4, 1, 15, 15))
    g = rng.normal(size=(3, 15, 15))
    u = solver.solve(f, g)
    assert u.shape == (4, 3, 15, 15)
    np.testing.assert_allclose(u[2, 1], solver.solve(f[2, 0], g[1]), atol=1e-12)
    np.testing.assert_allclose(
        solver.solve(f[0, 0] + 2 * f[1, 0]),
        solver.solve(f[0, 0]) + 2 * solver.solve(f[1, 0]),
        atol=1e-12,
    )


def test_accepts_tensors() -> None:
    solver = FDPoissonSolver(7)
    u = solver.solve(torch.ones(7, 7), torch.zeros(7, 7))
    np.testing.assert_allclose(u, solver.solve(1.0, 0.0))
    assert u.dtype == np.float64


def test_interpolate_matches_the_solution_at_nodes() -> None:
    solver = FDPoissonSolver(11)
    u = solver.solve(1.0, 0.0)
    points = np.array([[0.3, 0.5], [1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(solver.interpolate(u, points), [u[3, 5], 0.0, u[5, 5]])


def test_repr() -> None:
    assert repr(FDPoissonSolver(5, "splu")) == "FDPoissonSolver(n=5, method='splu')"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 2}, "'n'"),
        ({"n": 10, "method": "cg"}, "'method'"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FDPoissonSolver(**kwargs)  # type: ignore[arg-type]


def test_bad_solve_arguments() -> None:
    solver = FDPoissonSolver(5)
    with pytest.raises(TypeError, match="'n'"):
        FDPoissonSolver(5.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'source'"):
        solver.solve(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="'boundary'"):
        solver.solve(0.0, np.zeros(5))
    with pytest.raises(ValueError, match="'source' holds NaN"):
        solver.solve(np.full((5, 5), np.nan))
    with pytest.raises(TypeError, match="'boundary'"):
        solver.solve(0.0, "hot")
    with pytest.raises(ValueError, match="'values'"):
        solver.interpolate(np.zeros((6, 6)), [[0.5, 0.5]])
