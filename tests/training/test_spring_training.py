"""Training learns Hooke's law; batched rollouts equal one-by-one rollouts and the physics."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from gen_pyg.datasets import SpringMass, spring_chain_graph
from gen_pyg.nn import InteractionNetwork
from gen_pyg.solvers import chain_euler_rollout
from gen_pyg.tasks.spring_mass import (
    evaluate_spring_model,
    rollout_spring_model,
    train_spring_model,
)


class Hooke(torch.nn.Module):
    """The exact force law with unit k and m, as a model: a_i = sum_j (x_j - x_i)."""

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None
    ) -> torch.Tensor:
        src, dst = edge_index
        return torch.zeros_like(x[:, :1]).index_add(0, dst, x[src, :1] - x[dst, :1])


def hooke_model() -> torch.nn.Module:
    return Hooke()


def test_fitted_model_learns_the_force_law_on_held_out_chains(tmp_path: Path) -> None:
    train = SpringMass(str(tmp_path), num_graphs=512, seed=0, log=False)
    model = InteractionNetwork(hidden_channels=32)
    loader = DataLoader(train, batch_size=64, shuffle=True)
    history = train_spring_model(model, loader, epochs=50, lr=3e-2, final_lr=0.0,
                                 betas=(0.9, 0.95), cache_batches=True,
                                 progress=False)  # 400 optimiser steps
    assert history["train_mse"][-1] < history["train_mse"][0] / 1000
    variance = float(train._data.y.var())
    for n, seed in ((3, 1), (7, 2)):  # held out, and longer than anything seen in training
        test = SpringMass(str(tmp_path), num_graphs=100, num_masses=n, seed=seed, log=False)
        mse = evaluate_spring_model(model, DataLoader(test, batch_size=100))
        # RMS error under 1% of the spread of the accelerations (seeds 0-5 reach 3e-5).
        assert mse < 1e-4 * variance, (n, mse, variance)
    # The force law itself: one mass pulled aside by 0.3 in a 5-mass chain.
    x = torch.tensor([0.0, 0.0, 0.3, 0.0, 0.0])
    graph = spring_chain_graph(x, torch.zeros(5))
    pred = model(graph.x, graph.edge_index)[:, 0]
    torch.testing.assert_close(pred, torch.tensor([0.0, 0.3, -0.6, 0.3, 0.0]), atol=0.03,
                               rtol=0)


def test_batched_rollout_equals_one_by_one_rollout() -> None:
    model = InteractionNetwork(in_channels=3, edge_dim=1, hidden_channels=16)
    graphs = [
        spring_chain_graph(torch.randn(n), torch.randn(n), torch.rand(n - 1) + 0.5,
                           torch.rand(n) + 0.5, stiffness_feature=True, mass_feature=True)
        for n in (3, 2, 10, 4)
    ]
    pos, vel = rollout_spring_model(model, Batch.from_data_list(graphs), num_steps=100)
    one_by_one = [rollout_spring_model(model, g, num_steps=100) for g in graphs]
    torch.testing.assert_close(pos, torch.cat([p for p, _ in one_by_one]), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(vel, torch.cat([v for _, v in one_by_one]), atol=1e-5, rtol=1e-5)
    assert pos.shape == (19, 101)
    torch.testing.assert_close(pos[:, 0], Batch.from_data_list(graphs).x[:, 0])


def test_rollout_of_exact_law_reproduces_the_integrator() -> None:
    x0, v0 = 0.5 * torch.randn(4, 6), 0.3 * torch.randn(4, 6)
    batch = Batch.from_data_list([spring_chain_graph(x0[i], v0[i]) for i in range(4)])
    pos, vel = rollout_spring_model(hooke_model(), batch, num_steps=300, dt=0.01)
    ref_pos, ref_vel = chain_euler_rollout(x0, v0, 0.01, 300)
    torch.testing.assert_close(pos, ref_pos.reshape(24, 301), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(vel, ref_vel.reshape(24, 301), atol=1e-5, rtol=1e-5)


def test_velocity_change_rollout_matches_acceleration_rollout() -> None:
    class Scaled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module, factor: float) -> None:
            super().__init__()
            self.inner, self.factor = inner, factor

        def forward(self, x: torch.Tensor, edge_index: torch.Tensor,
                    edge_attr: torch.Tensor | None = None) -> torch.Tensor:
            return self.factor * self.inner(x, edge_index, edge_attr)

    graph = spring_chain_graph(torch.randn(5), torch.randn(5))
    acc = rollout_spring_model(hooke_model(), graph, 50, dt=0.02)
    dv = rollout_spring_model(Scaled(hooke_model(), 0.02), graph, 50, dt=0.02,
                              target="velocity_change")
    torch.testing.assert_close(acc[0], dv[0])


def test_rollout_restores_training_mode() -> None:
    model = InteractionNetwork()
    model.train()
    rollout_spring_model(model, spring_chain_graph(torch.randn(3), torch.randn(3)), 2)
    assert model.training


class Linear(torch.nn.Module):
    """A per-node linear map: the smallest model with parameters for Adam."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(2, 1)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None
    ) -> torch.Tensor:
        out: torch.Tensor = self.lin(x)
        return out


class Unsized:
    """An iterable of batches without ``len``: the schedule can only advance per epoch."""

    def __init__(self, batches: list[Batch]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.batches)


def cosine_lr(step: int, total: int, lr: float, final_lr: float) -> float:
    return final_lr + (lr - final_lr) * 0.5 * (1 + math.cos(math.pi * step / total))


def test_learning_rate_of_every_step_follows_the_closed_form_cosine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[float] = []  # the learning rate of each optimiser step, read when it runs
    adam_step = torch.optim.Adam.step

    def recording_step(self: torch.optim.Adam, *args: Any, **kwargs: Any) -> Any:
        used.append(self.param_groups[0]["lr"])
        return adam_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    data = SpringMass(str(tmp_path), num_graphs=12, log=False)
    loader = DataLoader(data, batch_size=4)  # 3 steps per epoch
    lr, final_lr = 0.02, 0.005
    train_spring_model(Linear(), loader, epochs=4, lr=lr, final_lr=final_lr, progress=False)
    expected = [cosine_lr(s, 12, lr, final_lr) for s in range(12)]
    assert used == pytest.approx(expected, rel=1e-12, abs=0)
    assert used[0] == lr and used[6] == pytest.approx((lr + final_lr) / 2, rel=1e-12)
    # final_lr=0 (the usual choice) gives exactly lr * (1 + cos) / 2
    used.clear()
    train_spring_model(Linear(), loader, epochs=2, lr=lr, final_lr=0.0, progress=False)
    assert used == [cosine_lr(s, 6, lr, 0.0) for s in range(6)]
    # a loader without a length: one value per epoch, shared by that epoch's 3 steps
    used.clear()
    unsized = Unsized(list(loader))
    train_spring_model(Linear(), unsized, epochs=3, lr=lr, final_lr=final_lr, progress=False)
    expected = [cosine_lr(e, 3, lr, final_lr) for e in range(3) for _ in range(3)]
    assert used == pytest.approx(expected, rel=1e-12, abs=0)
    # without final_lr the learning rate stays constant
    used.clear()
    train_spring_model(Linear(), loader, epochs=2, lr=lr, progress=False)
    assert used == [lr] * 6


def test_bad_input_is_rejected(tmp_path: Path) -> None:
    model = InteractionNetwork()
    graph = spring_chain_graph(torch.randn(3), torch.randn(3))
    with pytest.raises(ValueError, match="'dt'"):
        rollout_spring_model(model, graph, 5, dt=0.0)
    with pytest.raises(ValueError, match="num_steps"):
        rollout_spring_model(model, graph, -1)
    with pytest.raises(ValueError, match="'target'"):
        rollout_spring_model(model, graph, 5, target="force")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="output_column"):
        rollout_spring_model(model, graph, 5, output_column=3)
    data = SpringMass(str(tmp_path), num_graphs=8, target="both")
    loader = DataLoader(data, batch_size=4)
    with pytest.raises(ValueError, match="targets 'y'"):
        train_spring_model(model, loader, epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be at least 0"):
        train_spring_model(model, loader, epochs=-1, progress=False)
    with pytest.raises(ValueError, match="'lr'"):
        train_spring_model(model, loader, epochs=1, lr=0.0, progress=False)
    with pytest.raises(ValueError, match="no batches"):
        train_spring_model(model, [], epochs=1, progress=False)
