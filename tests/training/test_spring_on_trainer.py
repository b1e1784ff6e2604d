"""The spring-mass workflow's model trains on the task-generic Trainer too: graphs without a
mesh or groups, plain mini-batches, a per-node MSE, through a three-line adapter."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from gen_pyg.datasets import SpringMass
from gen_pyg.nn import InteractionNetwork
from gen_pyg.tasks.spring_mass import evaluate_spring_model
from gen_pyg.training import TrainConfig, Trainer


class OnBatch(torch.nn.Module):
    """Calls a tensor-level graph model on a batch's ``x``, ``edge_index`` and ``edge_attr``."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, batch: Batch) -> torch.Tensor:
        out: torch.Tensor = self.net(batch.x, batch.edge_index, batch.edge_attr)
        return out


def test_interaction_network_trains_on_the_trainer(tmp_path: Path) -> None:
    data = SpringMass(str(tmp_path), num_graphs=96)
    train, test = data[:80], data[80:]
    torch.manual_seed(0)
    t = Trainer(OnBatch(InteractionNetwork()), train,
                config=TrainConfig(epochs=6, lr=3e-3, group_by=None, group_size=16,
                                   progress=False))
    assert [g.num_graphs for g in t._train_groups] == [16] * 5
    before = t.evaluate(test)["own mesh"]
    history = t.fit()
    after = t.evaluate(test)["own mesh"]
    assert after < 0.5 * before
    # the trainer's evaluation is the MSE over every node's target, as the workflow's
    assert evaluate_spring_model(t.model.net, DataLoader(test, batch_size=7)) == pytest.approx(
        after, rel=1e-5)
    assert history[-1]["train_mse"] < history[0]["train_mse"]
