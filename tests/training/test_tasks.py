"""One engine for every task: classification, one answer per example, plain mini-batches,
user losses and augmentations, several metrics, and the objectives against hand-worked values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch_geometric.data import Batch, Data

from gen_pyg.mesh import grid
from gen_pyg.nn import (
    GEN,
    Bilinear,
    ElementProcessor,
    PointDecoder,
    PointEncoder,
    SoftNearest,
    SumReadout,
)
from gen_pyg.training import (
    ExperimentConfig,
    Objective,
    SquareSymmetry,
    TrainConfig,
    Trainer,
    get_objective,
    load_checkpoint,
)
from gen_pyg.training.objectives import (
    Accuracy,
    CrossEntropy,
    MeanSquaredError,
    RetrievalAccuracy,
    RetrievalCrossEntropy,
    RootMeanSquaredError,
)


def small_gen(out_channels: int = 1, readout: str = "interpolate") -> GEN:
    """A soft-nearest GEN of latent size 8 and hidden widths 16."""
    torch.manual_seed(0)
    rep = SoftNearest()
    decoder = (SumReadout(8, out_channels, hidden_channels=16) if readout == "sum"
               else PointDecoder(8, out_channels, rep, hidden_channels=16))
    return GEN(PointEncoder(1, 8, rep, hidden_channels=16),
               ElementProcessor(8, message_channels=8, edge_hidden_channels=16,
                                node_hidden_channels=16), decoder)


def quiet(**kw: Any) -> TrainConfig:
    return TrainConfig(progress=False, **kw)


def hot_side(n: int, seed: int = 0) -> list[Data]:
    """A classification task: is the total heat of the samples above 3 (label 1) or not (0)?
    One label per example, no queries, no ``house``."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        p = torch.rand(6, 2, generator=gen)
        x = torch.rand(6, 1, generator=gen)
        out.append(Data(input_pos=p, input_x=x, y=torch.tensor([int(x.sum() > 3.0)])))
    return out


def centroid(n: int, seed: int = 0) -> list[Data]:
    """One answer per example with several outputs: the weighted centroid of the samples and
    their total weight, y = (cx, cy, total) of shape [1, 3]."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        p = torch.rand(8, 2, generator=gen)
        w = torch.rand(8, 1, generator=gen)
        c = (w * p).sum(0) / w.sum()
        out.append(Data(input_pos=p, input_x=w, y=torch.cat([c, w.sum(0)]).view(1, 3)))
    return out


def test_classification_trains_through_the_same_trainer() -> None:
    # at lr 1e-2 on 64 examples, one initialisation of three ended at chance: lr 3e-3 on 256
    # examples ended above 0.9 from each of three (measured)
    train, val = hot_side(256, 0), hot_side(32, 1)
    model = small_gen(out_channels=2, readout="sum")
    t = Trainer(model, train, meshes=grid(3), val_dataset=val, loss="cross_entropy",
                metrics=["accuracy", "cross_entropy"],
                config=quiet(epochs=15, lr=3e-3, group_size=8))
    # no 'house' attribute: plain mini-batches of group_size
    assert [g.num_graphs for g in t._train_groups] == [8] * 32
    before = t.evaluate_all(val)["3x3"]
    history = t.fit()
    after = t.evaluate_all(val)["3x3"]
    assert history[-1]["train_cross_entropy"] < history[0]["train_cross_entropy"]
    assert after["cross_entropy"] < before["cross_entropy"]
    assert after["accuracy"] > 0.7  # chance is 0.5
    assert {"val_accuracy", "val_accuracy/3x3", "val_cross_entropy"} <= set(history[-1])
    assert t.evaluate(val) == {"3x3": after["accuracy"]}  # the first metric


def test_one_answer_per_example_with_several_outputs() -> None:
    data = centroid(48)
    t = Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=[grid(2), grid(3)],
                metrics=["mse", "rmse"], config=quiet(epochs=10, lr=1e-2, group_size=12))
    before = t.evaluate_all(data)
    t.fit()
    after = t.evaluate_all(data)
    for mesh in ("2x2", "3x3"):
        assert after[mesh]["mse"] < 0.5 * before[mesh]["mse"]
        assert after[mesh]["rmse"] == pytest.approx(math.sqrt(after[mesh]["mse"]))


def test_group_by_none_makes_plain_mini_batches_even_with_a_house_attribute() -> None:
    data = [Data(**d.to_dict(), house=torch.tensor([i % 2])) for i, d in enumerate(centroid(10))]
    by_house = Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=grid(2),
                       config=quiet(epochs=1, group_by="house"))
    assert sorted(g.num_graphs for g in by_house._train_groups) == [5, 5]
    plain = Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=grid(2),
                    config=quiet(epochs=1, group_by=None, group_size=4))
    assert [g.num_graphs for g in plain._train_groups] == [4, 4, 2]


def test_a_plain_callable_loss_is_the_mean_over_examples() -> None:
    data = centroid(12)
    calls: list[int] = []

    def l1(pred: torch.Tensor, batch: Batch) -> torch.Tensor:
        calls.append(int(batch.num_graphs))
        return (pred - batch.y).abs().sum(-1).mean()

    t = Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=grid(2), loss=l1,
                config=quiet(epochs=3, lr=1e-2, group_size=4))
    history = t.fit()
    assert "train_l1" in history[0] and history[-1]["train_l1"] < history[0]["train_l1"]
    assert set(calls) == {4}
    # the reported training loss is the mean over examples of the callable's value
    model = t.model.eval()
    with torch.no_grad():
        by_hand = sum(float(l1(model(t.batch(g, t.meshes["2x2"])), g)) * g.num_graphs
                      for g in t._train_groups) / len(data)
    assert t.evaluate(data)["2x2"] == pytest.approx(by_hand, rel=1e-5)


def test_a_user_augmentation_gets_a_seeded_generator_and_runs_resume_exactly(
        tmp_path: Path) -> None:
    data = centroid(16)
    seen: list[int] = []

    def jitter(batch: Batch, gen: torch.Generator) -> Batch:
        out = batch.clone()
        noise = torch.randn(out.input_x.shape, generator=gen) * 0.01
        seen.append(int(torch.randint(10**9, (1,), generator=gen)))
        out.input_x = out.input_x + noise
        return out

    def run(folder: Path, epochs: int) -> Trainer:
        t = Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=grid(2),
                    augment=jitter, run_dir=folder,
                    config=quiet(epochs=epochs, lr=1e-2, group_size=4))
        t.fit()
        return t

    full = run(tmp_path / "a", 3)
    first_draws = list(seen)
    assert len(first_draws) == 12 and len(set(first_draws)) == 12
    run(tmp_path / "b", 1)
    resumed = run(tmp_path / "b", 3)
    assert seen[12:] == first_draws  # the same draws in the same steps
    assert [r["train_mse"] for r in resumed.history] == pytest.approx(
        [r["train_mse"] for r in full.history], rel=1e-6)
    with pytest.raises(ValueError, match=r"augment was given and config.augment"):
        Trainer(small_gen(), data, meshes=grid(2), augment=jitter,
                config=quiet(augment="square"))
    with pytest.raises(TypeError, match=r"augment must be callable"):
        Trainer(small_gen(), data, meshes=grid(2), augment=3)  # type: ignore[arg-type]


def test_square_symmetry_is_an_augmentation_like_any_other() -> None:
    b = Data(input_pos=torch.tensor([[0.25, 0.125]]), query_pos=torch.tensor([[0.0, 1.0]]))
    images = set()
    for seed in range(64):
        out = SquareSymmetry()(b, torch.Generator().manual_seed(seed))
        images.add(tuple(out.input_pos.flatten().tolist()))
        assert torch.equal(b.input_pos, torch.tensor([[0.25, 0.125]]))  # input untouched
    # the 8 images of (1/4, 1/8) under the square's symmetries, all drawn
    expected = {(x, y) for a, b_ in ((0.25, 0.125), (0.125, 0.25))
                for x in (a, 1 - a) for y in (b_, 1 - b_)}
    assert images == expected


def test_early_stopping_follows_a_metric_to_maximise() -> None:
    train, val = hot_side(32, 0), hot_side(16, 1)
    t = Trainer(small_gen(out_channels=2, readout="sum"), train, meshes=grid(2),
                val_dataset=val, loss="cross_entropy", metrics=["accuracy"],
                config=quiet(epochs=6, lr=1e-2, group_size=8, early_stopping_patience=50))
    history = t.fit()
    assert t.best is not None and t.best["metric"] == "accuracy"
    assert t.best["value"] == max(r["val_accuracy"] for r in history)


def test_objectives_against_hand_worked_values() -> None:
    b = Data(y=torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
    pred = torch.tensor([[1.5, 2.0], [1.0, 1.0]])
    s, n = MeanSquaredError()(pred, b)
    assert (float(s), n) == (0.25 + 1.0 + 4.0, 4)
    assert RootMeanSquaredError().finish(float(s) / n) == pytest.approx(math.sqrt(5.25 / 4))
    labels = Data(y=torch.tensor([2, 0]))
    logits = torch.tensor([[0.0, 0.0, math.log(2.0)], [0.0, 1.0, 0.0]])
    s, n = CrossEntropy()(logits, labels)
    # -log(2/4) - log(1/(2 + e))
    assert float(s) == pytest.approx(math.log(2.0) + math.log(2.0 + math.e), rel=1e-6)
    assert float(Accuracy()(logits, labels)[0]) == 1.0
    retrieval = torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert float(RetrievalAccuracy()(retrieval, None)[0]) == 1.0
    s, n = RetrievalCrossEntropy()(retrieval, None)
    expected = -math.log(math.exp(3) / (math.exp(3) + 2)) - math.log(1 / (2 + math.exp(5)))
    assert (float(s), n) == (pytest.approx(expected, rel=1e-6), 2)
    assert get_objective("accuracy").higher_is_better and not get_objective("mse").higher_is_better
    with pytest.raises(ValueError, match=r"loss must be one of"):
        get_objective("l2")
    with pytest.raises(ValueError, match=r"targets 'y' have shape"):
        MeanSquaredError()(torch.zeros(3), b)
    with pytest.raises(ValueError, match=r"must be integers"):
        CrossEntropy()(logits, Data(y=torch.tensor([0.5, 1.0])))


class _Counting(Objective):
    """A user objective: the number of rows, one term each (checks that a step's gradient is
    normalised by the terms of the whole step)."""

    name = "rows"

    def __call__(self, pred: Any, batch: Any) -> tuple[torch.Tensor, int]:
        return pred.sum() * 0 + pred.size(0), pred.size(0)

    def terms(self, batch: Any) -> int:
        return int(batch.num_graphs)


def test_a_user_objective_class_and_its_name_reach_the_metrics_files(tmp_path: Path) -> None:
    t = Trainer(small_gen(out_channels=3, readout="sum"), centroid(6), meshes=grid(2),
                metrics=[_Counting(), "mse"], run_dir=tmp_path,
                val_dataset=centroid(3, seed=2), config=quiet(epochs=1, group_size=3))
    t.fit()
    assert t.history[0]["val_rows"] == 1.0  # each row counts 1, mean over rows
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["history"][0]["val_rows/2x2"] == 1.0


def test_a_missing_target_or_non_finite_values_are_named_before_training() -> None:
    data = centroid(4)
    with pytest.raises(ValueError, match=r"no tensor 'label'"):
        Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=grid(2),
                loss=MeanSquaredError(target="label"))
    data[2].y = torch.tensor([[float("nan"), 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"train_dataset: 'y' holds non-finite values"):
        Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=grid(2))
    data = centroid(4)
    data[1].input_x[0] = float("inf")
    with pytest.raises(ValueError, match=r"'input_x' holds non-finite"):
        Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=grid(2))


def test_experiment_configs_take_their_tasks_defaults() -> None:
    from gen_pyg.training import DataConfig

    sphere = ExperimentConfig(data=DataConfig("poisson_sphere"))
    assert (sphere.data.num_instances, sphere.data.num_test_instances) == (100, 20)
    assert sphere.data.root == "data/poisson_sphere" and sphere.data.options == {"scenarios": 32}
    assert ExperimentConfig.from_dict(sphere.to_dict()) == sphere
    with pytest.raises(ValueError, match=r"augment='square' does not keep the answers"):
        ExperimentConfig(data=DataConfig("poisson_sphere"), train=TrainConfig(augment="square"))
    with pytest.raises(ValueError, match=r"representation='bilinear' does not work"):
        from gen_pyg.training import ModelConfig

        ExperimentConfig(ModelConfig(representation="bilinear"), DataConfig("poisson_sphere"))
    with pytest.raises(ValueError, match=r"task must be one of"):
        DataConfig("heat")
    with pytest.raises(ValueError, match=r"no data option\(s\) m"):
        DataConfig("poisson_square", options={"m": 3})
    with pytest.raises(TypeError, match=r"task must be a task's name"):
        DataConfig()  # the engine names no task: the data config names it


def test_bf16_mixed_precision_trains_and_stays_finite(tmp_path: Path) -> None:
    data = centroid(24)
    t = Trainer(small_gen(out_channels=3, readout="sum"), data, meshes=[grid(2), grid(3)],
                run_dir=tmp_path, config=quiet(epochs=4, lr=1e-2, group_size=8,
                                               precision="bf16"))
    before = t.evaluate(data)
    history = t.fit()
    after = t.evaluate(data)
    assert all(math.isfinite(r["train_mse"]) for r in history)
    assert all(after[k] < before[k] for k in before)
    # the weights stay float32 (autocast computes in bf16, the optimiser updates fp32)
    assert all(p.dtype == torch.float32 for p in t.model.parameters())
    # fp16 needs a GPU's autocast and a gradient scaler; here the scaler is off for bf16
    assert not t.scaler.is_enabled()
    with pytest.raises(ValueError, match=r"precision must be one of"):
        TrainConfig(precision="fp8")


def test_random_rounds_raise_the_diameter_by_zero_to_max_and_leave_the_batch_alone() -> None:
    from gen_pyg.training import RandomRounds
    from gen_pyg.training.augment import Compose

    b = Data(diameter=torch.tensor([4]), input_pos=torch.tensor([[0.25, 0.125]]),
             query_pos=torch.tensor([[0.5, 0.0]]))
    drawn = set()
    for seed in range(64):
        out = RandomRounds(3)(b, torch.Generator().manual_seed(seed))
        drawn.add(int(out.diameter))
        assert int(b.diameter) == 4  # input untouched
    assert drawn == {4, 5, 6, 7}
    # the same generator state gives the same draw; Compose passes one generator along
    both = Compose([SquareSymmetry(), RandomRounds(3)])
    one = both(b, torch.Generator().manual_seed(9))
    two = both(b, torch.Generator().manual_seed(9))
    assert torch.equal(one.diameter, two.diameter) and torch.equal(one.input_pos, two.input_pos)
    with pytest.raises(ValueError, match=r"RandomRounds needs batch.diameter"):
        RandomRounds(2)(Data(x=torch.ones(1)), torch.Generator())
    with pytest.raises(ValueError, match=r"max_extra must be an integer >= 0"):
        RandomRounds(-1)
    with pytest.raises(TypeError, match=r"augmentations\[1\] must be callable"):
        Compose([SquareSymmetry(), 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"extra_rounds"):
        TrainConfig(extra_rounds=-1)


def test_extra_rounds_reach_the_model_with_the_augmentation_and_resume_exactly(
        tmp_path: Path) -> None:
    from gen_pyg.datasets import PoissonSquare

    data = PoissonSquare(str(tmp_path / "data"), num_houses=4, num_test_houses=1, num_scenarios=4,
                         n=21, seed=0, log=False)
    rounds: list[int] = []

    class Spy(ElementProcessor):
        def forward(self, z: torch.Tensor, pos: torch.Tensor, *args: Any,
                    num_steps: int | None = None, **kwargs: Any) -> torch.Tensor:
            assert num_steps is not None
            rounds.append(num_steps)
            return super().forward(z, pos, *args, num_steps=num_steps, **kwargs)

    def run(folder: Path, epochs: int, **kw: Any) -> Trainer:
        torch.manual_seed(0)
        rep = Bilinear()
        model = GEN(PointEncoder([1, 1], 8, rep, hidden_channels=16),
                    Spy(8, message_channels=8, edge_hidden_channels=16, node_hidden_channels=16),
                    PointDecoder(8, 1, rep, hidden_channels=16))
        t = Trainer(model, data, meshes={"3x3": grid(3)}, run_dir=folder,
                    config=quiet(epochs=epochs, lr=1e-2, group_by="house", **kw))
        t.fit()
        return t

    full = run(tmp_path / "a", 3, extra_rounds=5, augment="square")
    trained = rounds[: full.global_step]  # then the evaluations, at the diameter
    assert set(trained) <= set(range(4, 10)) and len(set(trained)) > 2  # 2(3-1) + 0..5
    assert all(r == 4 for r in rounds[full.global_step:])
    rounds.clear()
    run(tmp_path / "b", 1, extra_rounds=5, augment="square")
    first = rounds[: full.global_step // 3]
    resumed = run(tmp_path / "b", 3, extra_rounds=5, augment="square")
    assert first == trained[: len(first)]
    assert [r["train_mse"] for r in resumed.history] == pytest.approx(
        [r["train_mse"] for r in full.history], rel=1e-6)
    rounds.clear()
    run(tmp_path / "c", 1)  # no extra rounds: always the diameter
    assert set(rounds) == {4}


def test_model_config_recall_and_geometry_build_the_gen_and_are_refused_elsewhere() -> None:
    from gen_pyg.training import ModelConfig, build_model

    model = build_model(ModelConfig(representation="bilinear", recall=True, geometry="local"),
                        "poisson_square")
    assert isinstance(model, GEN) and isinstance(model.processor, ElementProcessor)
    assert model.processor.recall is not None and model.processor.geometry == "local"
    plain = build_model(ModelConfig(), "poisson_square")
    assert isinstance(plain, GEN) and plain.processor.recall is None
    with pytest.raises(ValueError, match=r"recall=True needs kind='gen'"):
        ModelConfig(kind="neural_process", recall=True)
    with pytest.raises(ValueError, match=r"geometry='local' needs kind='gen'"):
        ModelConfig(kind="neural_process", geometry="local")
    with pytest.raises(ValueError, match=r"geometry must be one of"):
        ModelConfig(geometry="flat")
    with pytest.raises(TypeError, match=r"recall must be a bool"):
        ModelConfig(recall="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"multilevel_encode must be one of"):
        ModelConfig(multilevel_rounds=2, multilevel_encode="finest")


def test_model_config_choices_are_the_layers_choices() -> None:
    from gen_pyg.nn.conv.element_conv import NORMS
    from gen_pyg.nn.models.multilevel import MULTILEVEL_ENCODES
    from gen_pyg.nn.models.processors import GEOMETRIES
    from gen_pyg.training import config

    assert config.NORMS == NORMS and config.GEOMETRIES == GEOMETRIES
    assert config.MULTILEVEL_ENCODES == MULTILEVEL_ENCODES


def test_mesh_jitter_moves_interior_nodes_within_the_cell_and_keeps_the_box() -> None:
    from gen_pyg.training import MeshJitter

    # two grids of different cells in one batch: 3x3 (cell 0.5) and 5x5 (cell 0.25)
    b = Batch.from_data_list([grid(3), grid(5)])
    before = b.pos.clone()
    outs = [MeshJitter(0.8)(b, torch.Generator().manual_seed(s)) for s in range(200)]
    assert torch.equal(b.pos, before)  # input untouched
    cell = torch.where(b.batch == 0, 0.5, 0.25).unsqueeze(-1).expand_as(before)
    on_box = (before == 0) | (before == 1)
    moves = torch.stack([o.pos - before for o in outs])  # [draws, nodes, 2]
    # a coordinate on the box never moves (wall nodes slide along their wall, corners stay)
    assert torch.equal(moves[:, on_box], torch.zeros_like(moves[:, on_box]))
    # an interior coordinate moves by at most 0.4 cells, uniformly: over 200 draws its
    # largest move comes within 10 % of the bound and the mean is near 0
    scaled = moves[:, ~on_box] / cell[~on_box]
    assert float(scaled.abs().max()) <= 0.4 + 1e-6
    assert float(scaled.abs().amax(0).min()) > 0.36
    assert float(scaled.mean(0).abs().max()) < 0.1
    # the two copies of one grid in a batch get their own offsets; a seed repeats its draw
    two = Batch.from_data_list([grid(3), grid(3)])
    out = MeshJitter(1.0)(two, torch.Generator().manual_seed(0))
    assert not torch.equal(out.pos[:9], out.pos[9:])
    again = MeshJitter(1.0)(two, torch.Generator().manual_seed(0))
    assert torch.equal(out.pos, again.pos)
    # a node just inside a wall (a trained mesh's) is moved but never out of the box
    near = grid(3)
    near.pos[4] = torch.tensor([0.001, 0.999])
    moved = torch.stack([MeshJitter(1.0)(near, torch.Generator().manual_seed(s)).pos[4]
                         for s in range(50)])
    assert float(moved.min()) >= 0.0 and float(moved.max()) <= 1.0
    assert float((moved - near.pos[4]).abs().max()) > 0.1
    # gradients reach the positions (a learnable mesh keeps training under the jitter)
    mesh = grid(3)
    mesh.pos.requires_grad_(True)
    MeshJitter(1.0)(mesh, torch.Generator().manual_seed(1)).pos.sum().backward()
    assert torch.equal(mesh.pos.grad, torch.ones_like(mesh.pos))


def test_mesh_jitter_errors_and_the_train_config_option() -> None:
    from gen_pyg.training import MeshJitter

    for bad in (0, 1.5, -0.1, True, "1"):
        with pytest.raises(ValueError, match=r"scale must be a number in \(0, 1\]"):
            MeshJitter(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"MeshJitter needs a batch whose mesh has pos and"):
        MeshJitter(0.5)(Data(pos=torch.rand(4, 2)), torch.Generator())
    with pytest.raises(ValueError, match=r"mesh_jitter must be a number in \[0, 1\]"):
        TrainConfig(mesh_jitter=1.5)
    with pytest.raises(TypeError, match=r"mesh_jitter must be a number"):
        TrainConfig(mesh_jitter="0.5")  # type: ignore[arg-type]


def test_trainer_with_mesh_jitter_trains_on_a_new_mesh_every_step(toy: Any) -> None:
    from gen_pyg.nn import GEN
    from gen_pyg.training import MeshJitter, Trainer

    seen: list[torch.Tensor] = []

    class Recording(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.gen = GEN.paper(latent_channels=8)

        def forward(self, batch: Any) -> torch.Tensor:
            if self.training:
                seen.append(batch.pos.detach().clone())
            return self.gen(batch)

    cfg = TrainConfig(progress=False, group_by="house", epochs=2, mesh_jitter=0.5,
                      augment="square")
    t = Trainer(Recording(), toy(houses=3), meshes=[grid(4)], config=cfg)
    assert "MeshJitter(0.5)" in repr(t.augment) and "SquareSymmetry" in repr(t.augment)
    t.fit()
    regular = grid(4).pos
    assert len(seen) == 6
    for pos in seen:  # every step's mesh is the 4x4 grid moved by at most 1/12 per axis
        assert float((pos.view(-1, 16, 2) - regular).abs().max()) <= 0.5 / 3 / 2 + 1e-6
    assert len({tuple(p.flatten().tolist()) for p in seen}) == 6
    plain = Trainer(Recording(), toy(houses=3), meshes=[grid(4)],
                    config=TrainConfig(progress=False, group_by="house", epochs=1))
    assert plain.augment is None and not isinstance(plain.augment, MeshJitter)
