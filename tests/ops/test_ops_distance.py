"""Distances and the graph diameter against exact values."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from gen_pyg.mesh import graph_diameter
from gen_pyg.ops import euclidean, geodesic, get_metric
from gen_pyg.ops.distance import pairwise_distance


def test_euclidean_value_and_gradient_at_coincidence() -> None:
    a = torch.tensor([[1.0, 2.0]], requires_grad=True)
    b = torch.tensor([[1.0, 2.0]])
    d = euclidean(a, b)
    d.sum().backward()
    assert d.item() == 0.0
    assert a.grad is not None and torch.isfinite(a.grad).all()
    assert euclidean(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]])).item() == 5.0


def test_geodesic_equals_arccos_of_dot() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(100, 3, generator=g, dtype=torch.float64), dim=1)
    b = torch.nn.functional.normalize(torch.randn(100, 3, generator=g, dtype=torch.float64), dim=1)
    expected = torch.arccos((a * b).sum(1).clamp(-1, 1))
    assert torch.allclose(geodesic(a, b), expected, atol=1e-12)
    assert math.isclose(
        geodesic(torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.0, 0.0, -1.0]])).item(),
        math.pi,
        rel_tol=1e-6,
    )


def test_geodesic_gradient_finite_at_coincidence() -> None:
    a = torch.tensor([[0.0, 0.6, 0.8]], dtype=torch.float64, requires_grad=True)
    geodesic(a, a.detach().clone()).sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_get_metric() -> None:
    assert get_metric("euclidean") is euclidean
    try:
        get_metric("manhattan")
    except ValueError as err:
        assert "metric must be one of" in str(err)
    else:
        raise AssertionError("expected ValueError")


def test_graph_diameter_hand_cases() -> None:
    path = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])  # 4-node path: 3
    cycle = torch.tensor([[0, 1, 2, 3, 4, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 0, 1, 2, 3, 4]])  # C5: 2
    ei = torch.cat([path, cycle + 4], dim=1)
    batch = torch.tensor([0] * 4 + [1] * 5 + [2])  # plus a lone node: 0
    assert graph_diameter(ei, 10, batch).tolist() == [3, 2, 0]


@pytest.mark.parametrize("metric", [euclidean, geodesic, lambda a, b: (a - b).abs().sum(-1)])
def test_pairwise_distance_equals_paired_metric(metric: Callable[..., torch.Tensor]) -> None:
    g = torch.Generator().manual_seed(3)
    a = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    b = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    expected = torch.stack(
        [torch.stack([metric(a[k, p : p + 1], b[k]) for p in range(5)]) for k in range(2)]
    )
    assert torch.allclose(pairwise_distance(metric, a, b), expected, atol=1e-12)


@pytest.mark.parametrize("metric", [euclidean, geodesic])
def test_pairwise_distance_coincident_points_zero_and_finite_gradient(
    metric: Callable[..., torch.Tensor],
) -> None:
    b = torch.nn.functional.normalize(torch.tensor([[[0.0, 0.6, 0.8], [1.0, 0.0, 0.0]]]), dim=-1)
    a = b[:, :1].clone().requires_grad_(True)
    d = pairwise_distance(metric, a, b)
    assert d[0, 0, 0].item() == 0.0
    d.sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()
    a64 = torch.randn(1, 3, 3, dtype=torch.float64, requires_grad=True)
    b64 = torch.randn(1, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: pairwise_distance(metric, x, y), (a64, b64))
