"""The ``pushing`` task on the engine: its metrics against hand-worked numbers, the Neural
Process read out once per example, the task's defaults, and ``gen-pyg train/evaluate --task
pushing`` on a tiny data set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch, Data

from gen_pyg.cli import main
from gen_pyg.mesh import AttachMesh, grid
from gen_pyg.nn import GlobalNeuralProcess, NeuralProcess
from gen_pyg.tasks.pushing import AngleMSE, PositionMSE
from gen_pyg.training import DataConfig, ModelConfig, build_model, get_objective, get_task

PRED = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 0.0]])
TRUE = Data(y=torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), num_graphs=2)


def test_position_and_angle_mse_by_hand() -> None:
    # position: (1 + 4) + (1 + 4) over 4 entries; angle: 0.25 + 1 over 2 entries
    total, terms = PositionMSE()(PRED, TRUE)
    assert (float(total), terms) == (10.0, 4) and PositionMSE().terms(TRUE) == 4
    total, terms = AngleMSE()(PRED, TRUE)
    assert (float(total), terms) == (1.25, 2) and AngleMSE().terms(TRUE) == 2
    # the registered names, and the three parts add up to the MSE over all entries
    pos, ang, full = PositionMSE(), AngleMSE(), get_objective("mse")
    assert isinstance(pos, PositionMSE) and isinstance(ang, AngleMSE)
    assert float(pos(PRED, TRUE)[0] + ang(PRED, TRUE)[0]) == float(full(PRED, TRUE)[0]) == 11.25


def test_part_metrics_refuse_mismatched_predictions() -> None:
    with pytest.raises(ValueError, match="shape"):
        PositionMSE()(PRED[:, :2], TRUE)
    with pytest.raises(ValueError, match="C > 2"):
        AngleMSE()(PRED[:, :2], Data(y=torch.zeros(2, 2)))


def _examples(n: int = 3) -> list[Data]:
    gen = torch.Generator().manual_seed(0)
    return [Data(input_pos=torch.rand(5 + i, 2, generator=gen),
                 input_x=torch.rand(5 + i, 4, generator=gen),
                 input_fn=torch.tensor([0] * (4 + i) + [1]), y=torch.zeros(1, 3))
            for i in range(n)]


def test_global_neural_process_is_the_neural_process_decoded_once_per_example() -> None:
    torch.manual_seed(0)
    model = GlobalNeuralProcess(in_channels=[4, 2], out_channels=3)
    plain = NeuralProcess(in_channels=[4, 2], out_channels=3)
    plain.load_state_dict(model.state_dict())
    batch = Batch.from_data_list(_examples())
    out = model(batch)
    assert out.shape == (3, 3) and "query_pos" not in batch  # the input is left as it was
    # the same as the Neural Process queried once per example at the origin
    queried = Batch.from_data_list([Data(**e.to_dict(), query_pos=torch.zeros(1, 2))
                                    for e in _examples()])
    torch.testing.assert_close(out, plain(queried))
    # an example's answer does not depend on the others in its batch
    torch.testing.assert_close(model(_examples()[1]), out[1:2])


def test_pushing_task_builds_a_sum_readout_gen_per_example() -> None:
    task = get_task("pushing")
    assert (task.group_by, task.instance, task.num_instances, task.num_test_instances,
            task.mesh_sizes) == ("object", "object", 250, 50, (2,))
    assert task.metric_names()[:2] == ["mse", "position_mse"]
    gen = build_model(ModelConfig(representation="bilinear", latent_channels=8), task)
    assert gen.readout == "sum"
    attach = AttachMesh(grid(2))
    batch = Batch.from_data_list([attach(e) for e in _examples()])
    out = gen(batch)
    assert out.shape == (3, 3)
    torch.testing.assert_close(gen(Batch.from_data_list([attach(_examples()[2])])), out[2:])
    np_ = build_model(ModelConfig(kind="neural_process", latent_channels=8), task)
    assert isinstance(np_, GlobalNeuralProcess) and np_(batch).shape == (3, 3)
    cfg = DataConfig(task="pushing", options={"pushes_per_object": 7})
    assert cfg.options == {"pushes_per_object": 7, "noise": 0.0, "num_samples": 64}
    with pytest.raises(ValueError, match="no data option"):
        DataConfig(task="pushing", options={"n": 3})


def test_cli_trains_and_evaluates_pushing(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "push"
    data = ["--instances", "2", "--test-instances", "1", "--data-option", "pushes_per_object=4",
            "--data-option", "num_samples=16"]
    args = ["train", "--task", "pushing", "--out", str(run), *data, "--representation",
            "bilinear", "--latent", "8", "--quiet"]
    assert main([*args, "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "test position mse" in out and "2x2" in out
    rows = json.loads((run / "test_metrics.json").read_text())
    assert [r["mesh"] for r in rows] == ["2x2"]
    # the three metrics of 4 test pushes: the full MSE is the mean of the parts' sums
    r = rows[0]
    assert r["test_mse"] == pytest.approx((2 * r["test_position_mse"] + r["test_angle_mse"])
                                          / 3, rel=1e-5)
    assert main(["evaluate", str(run), "--mesh-sizes", "3", "--json",
                 str(tmp_path / "e.json")]) == 0
    table = json.loads((tmp_path / "e.json").read_text())
    assert [t["mesh"] for t in table] == ["3x3"] and table[0]["test_position_mse"] > 0
    # the Neural Process on the same data folder (the same data settings: read, not generated)
    assert main(["train", "--task", "pushing", "--model", "neural_process", "--out",
                 str(tmp_path / "np"), "--data", str(run / "data"), *data, "--epochs", "1",
                 "--latent", "8", "--quiet"]) == 0
    assert main(["evaluate", str(tmp_path / "np")]) == 0
    assert "test position mse" in capsys.readouterr().out
