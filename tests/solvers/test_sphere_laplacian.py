"""The numerical Laplace-Beltrami operator on the sphere against analytic Laplacians."""

from __future__ import annotations

import numpy as np
import pytest

from gen_pyg.solvers import sphere_laplacian, tangent_basis


def _sphere_points(num: int, seed: int = 0) -> np.ndarray:
    p = np.random.default_rng(seed).normal(size=(num, 3))
    poles = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    return np.concatenate([p / np.linalg.norm(p, axis=1, keepdims=True), poles])


def test_tangent_basis_is_orthonormal_with_the_point() -> None:
    x = _sphere_points(200)
    a, b = tangent_basis(x)
    frame = np.stack([x, a, b], axis=1)  # [P, 3, 3]
    gram = frame @ frame.transpose(0, 2, 1)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(3), gram.shape), atol=1e-12)


def test_cube_of_dot_product_matches_analytic_laplacian() -> None:
    # f = (x.v)^3 = t^3: Lap_S2 f = (1 - t^2) f'' - 2 t f' = 6t - 12 t^3 (derivation in
    # gen_pyg.datasets.cubic_sphere_laplacian).
    v = np.array([0.3, -0.4, np.sqrt(0.75)])
    x = _sphere_points(500)
    lap = sphere_laplacian(lambda p: (p @ v) ** 3, x)
    t = x @ v
    np.testing.assert_allclose(lap, 6 * t - 12 * t**3, atol=2e-5)


@pytest.mark.parametrize("degree", [1, 2])
def test_spherical_harmonics_are_eigenfunctions(degree: int) -> None:
    # z is a degree-1 harmonic (eigenvalue -2); x*y is degree 2 (eigenvalue -6).
    x = _sphere_points(300, seed=1)
    fn = (lambda p: p[..., 2]) if degree == 1 else (lambda p: p[..., 0] * p[..., 1])
    lap = sphere_laplacian(fn, x, eps=1e-4)
    np.testing.assert_allclose(lap, -degree * (degree + 1) * fn(x), atol=1e-6)


def test_batched_points_give_the_same_values() -> None:
    x = _sphere_points(24, seed=2)
    v = np.array([0.0, 0.6, 0.8])
    flat = sphere_laplacian(lambda p: (p @ v) ** 3, x)
    batched = sphere_laplacian(lambda p: (p @ v) ** 3, x[:24].reshape(4, 6, 3))
    np.testing.assert_array_equal(batched, flat[:24].reshape(4, 6))
    a, _ = tangent_basis(x[:24].reshape(4, 6, 3))
    np.testing.assert_array_equal(a.reshape(24, 3), tangent_basis(x[:24])[0])


def test_constant_has_zero_laplacian() -> None:
    lap = sphere_laplacian(lambda p: np.full(p.shape[:-1], 4.2), _sphere_points(10))
    np.testing.assert_allclose(lap, 0.0, atol=1e-6)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="'points' must be unit vectors"):
        sphere_laplacian(lambda p: p[..., 0], [[1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="'points' must have shape"):
        sphere_laplacian(lambda p: p[..., 0], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="'eps'"):
        sphere_laplacian(lambda p: p[..., 0], [[1.0, 0.0, 0.0]], eps=0.0)
    with pytest.raises(ValueError, match="'fn' must map"):
        sphere_laplacian(lambda p: p, [[1.0, 0.0, 0.0]])
