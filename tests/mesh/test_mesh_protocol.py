"""The paper's protocol: fit positions of an unseen instance with the network frozen, evaluate
on its other scenarios. Written against a generic loss (a soft-nearest interpolation in the
test); the GEN-based variant is added where gen_pyg.nn lands."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh import (
    LearnableMesh,
    evaluate_positions,
    fit_and_evaluate,
    fit_positions,
    grid,
    halton,
)

CENTRE = torch.tensor([0.3, 0.6])
QUERIES = grid(20).pos


class Interpolator(torch.nn.Module):
    """The "network": soft nearest neighbours with a learnable log-temperature."""

    def __init__(self) -> None:
        super().__init__()
        self.log_tau = torch.nn.Parameter(torch.tensor(-3.0))
        self.dropout = torch.nn.Dropout(0.5)  # must be off while fitting and evaluating

    def forward(self, query: Tensor, nodes: Tensor, values: Tensor) -> Tensor:
        d = ((query[:, None] - nodes[None]) ** 2).sum(-1).add(1e-12).sqrt()
        w = torch.softmax(self.dropout(-d / self.log_tau.exp()), dim=1)
        return w @ values


def scenario_field(x: Tensor, amplitude: float, offset: float) -> Tensor:
    """Scenarios of one "house": the same sharp feature, different amplitude and offset."""
    return offset + amplitude * torch.exp(-((x - CENTRE) ** 2).sum(-1) / (2 * 0.07**2))


MODEL = Interpolator()


def loss_fn(mesh: Data, scenario: tuple[float, float]) -> Tensor:
    pred = MODEL(QUERIES, mesh.pos, scenario_field(mesh.pos, *scenario))
    return ((pred - scenario_field(QUERIES, *scenario)) ** 2).mean()


SCENARIOS = [(1.0, 0.0), (-0.5, 1.0), (2.0, -1.0), (0.8, 0.3), (1.5, 0.5), (-1.0, 0.0)]


def test_fit_then_evaluate_on_other_scenarios() -> None:
    MODEL.train()
    mesh = LearnableMesh(halton(25, seed=0), num_instances=2)
    other = mesh.pos.detach()[0].clone()
    weights = [p.detach().clone() for p in MODEL.parameters()]
    result = fit_and_evaluate(
        mesh, loss_fn, SCENARIOS[:3], SCENARIOS[3:], model=MODEL, instance=1, steps=30, lr=1e-2
    )
    assert len(result.losses) == 30
    assert result.eval_after < 0.7 * result.eval_before
    # the network did not move and is back in training mode with gradients on
    assert all(torch.equal(a, b) for a, b in zip(weights, MODEL.parameters(), strict=True))
    assert MODEL.training and all(p.requires_grad for p in MODEL.parameters())
    # only the fitted instance moved, and it stayed in the box
    assert torch.equal(mesh.pos.detach()[0], other)
    assert not torch.equal(mesh.pos.detach()[1], other)
    assert bool(((mesh.pos >= 0) & (mesh.pos <= 1)).all())
    assert mesh.pos.grad is None


def test_fit_accepts_iterators_and_evaluate_is_gradient_free() -> None:
    MODEL.train()
    mesh = LearnableMesh(halton(9, seed=1))
    losses = fit_positions(mesh, loss_fn, iter(SCENARIOS[:2]), model=MODEL, steps=5, lr=1e-3)
    assert len(losses) == 5
    value = evaluate_positions(mesh, loss_fn, SCENARIOS, model=MODEL)
    assert MODEL.training  # restored
    MODEL.eval()
    with torch.no_grad():
        expected = sum(float(loss_fn(mesh.data(), s)) for s in SCENARIOS) / len(SCENARIOS)
    MODEL.train()
    assert value == pytest.approx(expected, rel=1e-6)


def test_protocol_bad_input() -> None:
    mesh = LearnableMesh(halton(9, seed=1), num_instances=2)
    with pytest.raises(ValueError, match="instance must be given"):
        fit_positions(mesh, loss_fn, SCENARIOS, steps=1)
    with pytest.raises(ValueError, match="at least one batch"):
        fit_positions(mesh, loss_fn, [], instance=0, steps=1)
    with pytest.raises(ValueError, match="lr must be a positive"):
        fit_positions(mesh, loss_fn, SCENARIOS, instance=0, lr=0.0)
    with pytest.raises(TypeError, match="scalar Tensor"):
        fit_positions(mesh, lambda m, b: m.pos, SCENARIOS, instance=0, steps=1)
    with pytest.raises(ValueError, match="non-finite loss"):
        fit_positions(mesh, lambda m, b: m.pos.sum() * float("nan"), SCENARIOS, instance=0)
