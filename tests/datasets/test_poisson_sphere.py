"""PoissonSphere: fields with zero mean, Laplacian inputs, batching and splits."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from gen_pyg.datasets import PoissonSphere, cubic_sphere_field, cubic_sphere_laplacian
from gen_pyg.solvers import sphere_laplacian

SMALL: dict[str, Any] = {"num_houses": 4, "num_scenarios": 3, "num_inputs": 20, "num_queries": 9}


def _make(root: Path, split: str = "all", **kwargs: Any) -> PoissonSphere:
    return PoissonSphere(root, split, **{**SMALL, "log": False, **kwargs})


def _sphere_quadrature(order: int = 8) -> tuple[np.ndarray, np.ndarray]:
    # Gauss-Legendre in z times the trapezoid rule in the azimuth: exact for polynomials of
    # degree < 2 * order in z and < 2 * order in the azimuthal frequency.
    z, wz = np.polynomial.legendre.leggauss(order)
    phi = np.arange(2 * order) * np.pi / order
    r = np.sqrt(1 - z**2)
    points = np.stack(
        [np.outer(r, np.cos(phi)), np.outer(r, np.sin(phi)), np.outer(z, np.ones_like(phi))], -1
    ).reshape(-1, 3)
    weights = np.outer(wz, np.full_like(phi, np.pi / order)).reshape(-1)
    return points, weights


def test_quadrature_is_right() -> None:
    points, weights = _sphere_quadrature()
    assert weights.sum() == pytest.approx(4 * np.pi)
    v = np.array([0.6, 0.0, 0.8])
    assert weights @ (points @ v) ** 2 == pytest.approx(4 * np.pi / 3)


def test_fields_integrate_to_zero() -> None:
    points, weights = _sphere_quadrature()
    rng = np.random.default_rng(0)
    v = rng.normal(size=(8, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    k = rng.normal(size=8)
    f = cubic_sphere_field(points, v, k)
    assert np.abs(f).max() > 0.5
    assert abs(weights @ f) < 1e-12
    # Green's identity: the Laplacian integrates to zero too.
    assert abs(weights @ cubic_sphere_laplacian(points, v, k)) < 1e-11


def test_analytic_laplacian_matches_the_numerical_one() -> None:
    rng = np.random.default_rng(1)
    v = rng.normal(size=(8, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    k = rng.normal(size=8)
    x = rng.normal(size=(200, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    numerical = sphere_laplacian(lambda p: cubic_sphere_field(p, v, k), x)
    np.testing.assert_allclose(numerical, cubic_sphere_laplacian(x, v, k), atol=1e-4)


def test_contents(tmp_path: Path) -> None:
    ds = _make(tmp_path)
    assert len(ds) == 12
    data = ds[4]
    assert int(data.house) == 1 and int(data.scenario) == 1
    assert data.input_pos.shape == (20, 3) and data.input_x.shape == (20, 1)
    assert data.query_pos.shape == (9, 3) and data.y.shape == (9, 1)
    assert data.input_fn.tolist() == [0] * 20
    assert data.directions.shape == (1, 8, 3) and data.coeffs.shape == (1, 8)
    torch.testing.assert_close(data.input_pos.norm(dim=1), torch.ones(20))
    v, k = data.directions[0].double().numpy(), data.coeffs[0].double().numpy()
    expected_y = cubic_sphere_field(data.query_pos.double().numpy(), v, k)
    np.testing.assert_allclose(data.y[:, 0], expected_y, rtol=1e-4, atol=1e-4)
    expected_x = cubic_sphere_laplacian(data.input_pos.double().numpy(), v, k)
    np.testing.assert_allclose(data.input_x[:, 0], expected_x, rtol=1e-3, atol=1e-3)


def test_analytic_option_gives_the_same_inputs(tmp_path: Path) -> None:
    numerical = _make(tmp_path / "a")
    analytic = _make(tmp_path / "b", laplacian="analytic")
    torch.testing.assert_close(numerical[7].y, analytic[7].y)
    torch.testing.assert_close(numerical[7].input_x, analytic[7].input_x, rtol=1e-4, atol=1e-4)


def test_dataloader_batches_without_warnings(tmp_path: Path) -> None:
    ds = _make(tmp_path)
    loader = DataLoader(ds, batch_size=4, follow_batch=["input_pos", "query_pos"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = next(iter(loader))
    torch.testing.assert_close(batch.input_pos_batch, torch.arange(4).repeat_interleave(20))
    torch.testing.assert_close(batch.query_pos_batch, torch.arange(4).repeat_interleave(9))
    assert batch.directions.shape == (4, 8, 3) and batch.coeffs.shape == (4, 8)
    assert batch.house.tolist() == [0, 0, 0, 1]


def test_splits_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train = _make(tmp_path, "train", num_test_houses=1)
    test = _make(tmp_path, "test", num_test_houses=1)
    a, b = {int(d.house) for d in train}, {int(d.house) for d in test}
    assert len(a) == 3 and len(b) == 1 and not a & b

    def fail(self: PoissonSphere) -> None:
        raise RuntimeError("process called")

    monkeypatch.setattr(PoissonSphere, "process", fail)
    _make(tmp_path, houses=[2])
    with pytest.raises(RuntimeError, match="process called"):
        _make(tmp_path, num_terms=3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_houses": 0}, "'num_houses'"),
        ({"num_inputs": -5}, "'num_inputs'"),
        ({"laplacian": "exact"}, "'laplacian'"),
        ({"eps": -1.0}, "'eps'"),
        ({"split": "validation"}, "'split'"),
    ],
)
def test_bad_parameters(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PoissonSphere(tmp_path, **{**SMALL, "split": "all", "log": False, **kwargs})
