"""The Trainer: multi-mesh protocol, exact evaluation, schedules, learnable meshes, early
stopping, checkpoints and exact resume after a signal, config checks and metrics files."""

from __future__ import annotations

import csv
import itertools
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch_geometric.data import Batch, Data

from gen_pyg.mesh import LearnableMesh, grid
from gen_pyg.mesh.batching import replicate_mesh
from gen_pyg.nn import GEN, NeuralProcess
from gen_pyg.training import TrainConfig, Trainer, TrainingInterrupted, load_checkpoint

Toy = Callable[..., list[Data]]


def small_gen(seed: int = 0) -> GEN:
    torch.manual_seed(seed)
    return GEN.paper(latent_channels=8)


def quiet(**kw: Any) -> TrainConfig:
    return TrainConfig(progress=False, **{"group_by": "house", **kw})


def params(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_groups_are_houses_and_every_epoch_visits_each_once(toy: Toy) -> None:
    data = toy(houses=5, per_house=3)
    t = Trainer(small_gen(), data, meshes=[grid(2), grid(3)],
                config=quiet(epochs=1, groups_per_step=2))
    assert len(t._train_groups) == 5
    assert all(g.num_graphs == 3 for g in t._train_groups)
    # one group holds the scenarios of one house, collated once
    assert all(torch.unique(g.house).numel() == 1 for g in t._train_groups)
    plan = t.epoch_plan(0)
    assert len(plan) == t.steps_per_epoch == 3
    seen = sorted(g for step in plan for g in step["groups"])
    assert seen == [0, 1, 2, 3, 4]
    assert all(step["mesh"] in ("2x2", "3x3") for step in plan)
    assert all(step["targets"] == sum(t._train_groups[g].y.numel() for g in step["groups"])
               for step in plan)
    # the plan is a function of seed and epoch only
    assert t.epoch_plan(0) == plan and t.epoch_plan(1) != plan


def test_every_mesh_is_drawn_over_training(toy: Toy) -> None:
    t = Trainer(small_gen(), toy(houses=4), meshes={"a": grid(2), "b": grid(3), "c": grid(4)},
                config=quiet(epochs=1, groups_per_step=1))
    drawn = {step["mesh"] for e in range(6) for step in t.epoch_plan(e)}
    assert drawn == {"a", "b", "c"}


def test_evaluate_equals_the_mse_over_all_targets_one_by_one(toy: Toy) -> None:
    data = toy(houses=3, per_house=2)
    model = small_gen().eval()
    meshes = {"2x2": grid(2), "4x4": grid(4)}
    t = Trainer(model, data, meshes=meshes, config=quiet(epochs=1))
    got = t.evaluate(data)
    for name, mesh in meshes.items():
        sq, n = 0.0, 0
        with torch.no_grad():
            for d in data:
                b = replicate_mesh(Batch.from_data_list([d]), mesh)
                sq += float(((model(b) - d.y) ** 2).sum())
                n += d.y.numel()
        assert got[name] == pytest.approx(sq / n, rel=1e-5)
    # meshes not trained on can be evaluated too
    assert list(t.evaluate(data, meshes=[grid(5)])) == ["5x5"]


def test_training_lowers_the_loss_and_is_reproducible(toy: Toy) -> None:
    data = toy(houses=4, per_house=4)
    cfg = quiet(epochs=8, lr=1e-2, groups_per_step=2)
    runs = []
    for _ in range(2):
        t = Trainer(small_gen(), data, meshes=[grid(2), grid(3)], config=cfg)
        before = t.evaluate(data)
        history = t.fit()
        runs.append((history, params(t.model)))
        after = t.evaluate(data)
        assert all(after[k] < before[k] for k in before)
    (h1, p1), (h2, p2) = runs
    assert [r["train_mse"] for r in h1] == [r["train_mse"] for r in h2]
    assert all(torch.equal(p1[k], p2[k]) for k in p1)


def test_neural_process_trains_without_a_mesh(toy: Toy) -> None:
    data = toy(houses=3)
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r"no mesh"):
        Trainer(NeuralProcess(latent_channels=8), data, config=quiet(epochs=2))
    t = Trainer(NeuralProcess(latent_channels=8), data, meshes=grid(2), config=quiet(epochs=2))
    assert len(t.fit()) == 2
    assert set(t.evaluate(data)) == {"2x2"}


def test_examples_carrying_their_own_meshes(toy: Toy) -> None:
    mesh = grid(3)
    data = [Data(**{k: d[k] for k in d.keys()}, pos=mesh.pos, edge_index=mesh.edge_index)
            for d in toy(houses=2)]
    t = Trainer(small_gen(), data, config=quiet(epochs=1))
    t.fit()
    own = t.evaluate(data)["own mesh"]
    t2 = Trainer(t.model, toy(houses=2), meshes=mesh, config=quiet(epochs=1))
    assert t2.evaluate(toy(houses=2))["3x3"] == pytest.approx(own, rel=1e-6)


def test_cosine_schedule_with_warmup(toy: Toy) -> None:
    cfg = quiet(epochs=3, lr=1e-2, schedule="cosine", warmup_steps=2, min_lr_ratio=0.1,
                groups_per_step=1)
    t = Trainer(small_gen(), toy(houses=4), meshes=grid(2), config=cfg)
    assert t.lr == pytest.approx(1e-2 / 3)  # first warm-up step
    lrs = []
    t.callbacks.append(lambda tr, info: lrs.append(tr.lr))
    t.fit()
    assert lrs[0] == pytest.approx(2e-2 / 3)
    assert max(lrs) == pytest.approx(1e-2)
    assert lrs[-1] == pytest.approx(1e-3)
    assert all(a >= b for a, b in itertools.pairwise(lrs[2:]))


def test_gradient_clipping_bounds_the_update(toy: Toy) -> None:
    seen: list[float] = []

    def norm(tr: Trainer, info: dict[str, Any]) -> None:
        seen.append(info["grad_norm"])

    t = Trainer(small_gen(), toy(houses=2), meshes=grid(2),
                config=quiet(epochs=1, grad_clip=1e-3, groups_per_step=1), callbacks=[norm])
    t.fit()
    # the reported norm is the one before clipping; the gradients left are clipped
    grads = [p.grad for p in t.model.parameters() if p.grad is not None]
    clipped = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    assert seen and all(s > 1e-3 for s in seen)
    assert float(clipped) == pytest.approx(1e-3, rel=1e-4)


def test_early_stopping_restores_the_best_weights(toy: Toy) -> None:
    data, val = toy(houses=3, seed=0), toy(houses=2, seed=1)
    # a huge learning rate makes the validation error worse after the first epoch
    cfg = quiet(epochs=30, lr=0.3, early_stopping_patience=2)
    t = Trainer(small_gen(), data, meshes=grid(2), config=cfg, val_dataset=val)
    history = t.fit()
    assert t.best is not None
    best_epoch = t.best["epoch"]
    assert len(history) == best_epoch + 2 < 30
    best_val = min(r["val_mse"] for r in history)
    assert history[best_epoch - 1]["val_mse"] == best_val
    assert t.evaluate()["2x2"] == pytest.approx(best_val, rel=1e-5)


def test_a_stopped_run_reloads_its_best_weights(tmp_path: Path, toy: Toy) -> None:
    """load_model_weights on a run folder gives the weights fit() ended with: the best
    epoch's under early stopping (the checkpoint's own model is the last epoch's)."""
    from gen_pyg.training import load_model_weights

    data, val = toy(houses=3, seed=0), toy(houses=2, seed=1)
    cfg = quiet(epochs=30, lr=0.3, early_stopping_patience=2)
    t = Trainer(small_gen(), data, meshes=grid(2), config=cfg, val_dataset=val,
                run_dir=tmp_path / "stopped")
    t.fit()
    assert t.best is not None and t.best["epoch"] < t.epoch  # the last epoch was not the best
    last = load_checkpoint(tmp_path / "stopped" / "checkpoint.pt")["model"]
    loaded = load_model_weights(small_gen(), tmp_path / "stopped").state_dict()
    for key, value in t.model.state_dict().items():
        assert torch.equal(loaded[key], value), key
    assert any(not torch.equal(last[k], v) for k, v in loaded.items())
    # without early stopping the checkpoint's weights are the run's
    plain = Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=2),
                    val_dataset=val, run_dir=tmp_path / "plain")
    plain.fit()
    loaded = load_model_weights(small_gen(), tmp_path / "plain").state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in plain.model.state_dict().items())


def test_learnable_mesh_positions_train_and_stay_in_bounds(toy: Toy) -> None:
    mesh = LearnableMesh(grid(3), bounds=(0.0, 1.0))
    start = mesh.pos.detach().clone()
    t = Trainer(small_gen(), toy(houses=3), meshes={"3x3": mesh},
                config=quiet(epochs=3, lr=1e-3, mesh_lr=5e-2))
    assert [g["name"] for g in t.optimizer.param_groups] == ["weights", "meshes"]
    assert t.optimizer.param_groups[1]["lr"] == 5e-2
    t.fit()
    moved = (mesh.pos.detach() - start).abs().max()
    assert moved > 1e-3
    pos = mesh.pos.detach()
    assert float(pos.min()) >= 0.0 and float(pos.max()) <= 1.0


def test_run_folder_files_match_the_history(tmp_path: Path, toy: Toy) -> None:
    t = Trainer(small_gen(), toy(houses=2), meshes=grid(2), config=quiet(epochs=3),
                val_dataset=toy(houses=1, seed=3), run_dir=tmp_path, metadata={"who": "test"})
    history = t.fit()
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["train"]["epochs"] == 3 and saved["metadata"] == {"who": "test"}
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines == json.loads(json.dumps(history))
    assert [r["epoch"] for r in lines] == [1, 2, 3]
    with (tmp_path / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [float(r["train_mse"]) for r in rows] == [r["train_mse"] for r in history]
    assert "val_mse/2x2" in rows[0]
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["epoch"] == 3 and state["step_in_epoch"] == 0
    assert state["train_seconds"] == t.train_seconds > 0


def _interrupt_at(step: int) -> Callable[[Trainer, dict[str, Any]], None]:
    def cb(tr: Trainer, info: dict[str, Any]) -> None:
        if info["global_step"] == step:
            os.kill(os.getpid(), signal.SIGTERM)  # a real signal, caught by the trainer

    return cb


@pytest.mark.parametrize("mesh_kind", ["fixed", "learnable"])
def test_sigterm_mid_epoch_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path, toy: Toy, mesh_kind: str
) -> None:
    data = toy(houses=6, per_house=2)
    cfg = quiet(epochs=3, lr=5e-3, groups_per_step=1, schedule="cosine", augment="square")

    def meshes() -> dict[str, Any]:
        if mesh_kind == "fixed":
            return {"2x2": grid(2), "3x3": grid(3)}
        return {"3x3": LearnableMesh(grid(3), bounds=(0.0, 1.0))}

    full = Trainer(small_gen(), data, meshes=meshes(), config=cfg, run_dir=tmp_path / "a")
    full.fit()

    first = Trainer(small_gen(), data, meshes=meshes(), config=cfg, run_dir=tmp_path / "b",
                    callbacks=[_interrupt_at(8)])  # epoch 2, step 2 of 6
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted) as err:
        first.fit()
    assert err.value.signum == signal.SIGTERM
    state = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert (state["epoch"], state["step_in_epoch"], state["global_step"]) == (1, 2, 8)
    # the caller's handler is back once fit() returned
    assert signal.getsignal(signal.SIGTERM) == handler
    torch.manual_seed(123)  # a resume must not depend on the caller's RNG state
    resumed_meshes = meshes()
    second = Trainer(small_gen(seed=7), data, meshes=resumed_meshes, config=cfg,
                     run_dir=tmp_path / "b")
    second.fit()
    assert [r["train_mse"] for r in second.history] == pytest.approx(
        [r["train_mse"] for r in full.history], rel=1e-6)
    pa, pb = params(full.model), params(second.model)
    assert all(torch.allclose(pa[k], pb[k], atol=1e-6) for k in pa)
    if mesh_kind == "learnable":
        assert torch.allclose(full.meshes["3x3"].pos, resumed_meshes["3x3"].pos, atol=1e-6)


def test_resume_after_the_last_epoch_trains_no_more_and_longer_runs_continue(
    tmp_path: Path, toy: Toy
) -> None:
    data = toy(houses=3)
    t = Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=2), run_dir=tmp_path)
    t.fit()
    done = params(t.model)
    again = Trainer(small_gen(seed=5), data, meshes=grid(2), config=quiet(epochs=2),
                    run_dir=tmp_path)
    again.fit()
    assert all(torch.equal(done[k], v) for k, v in params(again.model).items())
    longer = Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=4), run_dir=tmp_path)
    history = longer.fit()
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert history[:2] == t.history


def test_another_configuration_or_model_is_refused_naming_the_fields(
    tmp_path: Path, toy: Toy
) -> None:
    data = toy(houses=2)
    Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=1, lr=1e-3),
            run_dir=tmp_path, metadata={"k": 2}).fit()
    with pytest.raises(ValueError, match=r"lr.*0\.001.*0\.002"):
        Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=1, lr=2e-3),
                run_dir=tmp_path, metadata={"k": 2}).fit()
    with pytest.raises(ValueError, match=r"k"):
        Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=1, lr=1e-3),
                run_dir=tmp_path, metadata={"k": 3}).fit()
    (tmp_path / "config.json").unlink()  # only the checkpoint is left to compare with
    other = GEN.paper(latent_channels=4)
    with pytest.raises(ValueError, match=r"another configuration or model"):
        Trainer(other, data, meshes=grid(2), config=quiet(epochs=1, lr=1e-3),
                run_dir=tmp_path, metadata={"k": 2}).fit()


def test_a_run_written_before_a_field_existed_resumes_at_its_default(
    tmp_path: Path, toy: Toy
) -> None:
    # a run folder of an older version lacks the fields added since: it ran as their
    # defaults do, so it resumes when they are still at their defaults, and only then
    data = toy(houses=2)
    meta = {"model": {"latent_channels": 4, "recall": False}}
    Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=1), run_dir=tmp_path,
            metadata=meta).fit()
    record = json.loads((tmp_path / "config.json").read_text())
    del record["train"]["extra_rounds"], record["metadata"]["model"]["recall"]
    (tmp_path / "config.json").write_text(json.dumps(record))
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    del state["config"]["extra_rounds"], state["metadata"]["model"]["recall"]
    torch.save(state, tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match=r"extra_rounds: '<missing>' -> 2"):
        Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=3, extra_rounds=2),
                run_dir=tmp_path, metadata=meta).fit()
    with pytest.raises(ValueError, match=r"model.recall: '<missing>' -> True"):
        Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=3), run_dir=tmp_path,
                metadata={"model": {"latent_channels": 4, "recall": True}}).fit()
    history = Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=2),
                      run_dir=tmp_path, metadata=meta).fit()
    assert [r["epoch"] for r in history] == [1, 2]


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path: Path, toy: Toy) -> None:
    data = toy(houses=2)
    Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=1), run_dir=tmp_path).fit()
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"checkpoint.pt"):
        Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=2),
                run_dir=tmp_path).fit()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
        ({"schedule": "step"}, "schedule"),
        ({"augment": "flip"}, "augment"),
        ({"grad_clip": 0.0}, "grad_clip"),
        ({"groups_per_step": 0}, "groups_per_step"),
    ],
)
def test_bad_config_values_name_the_field(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_bad_inputs_to_the_trainer_are_named(toy: Toy) -> None:
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module"):
        Trainer("gen", toy(), meshes=grid(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"train_dataset is empty"):
        Trainer(small_gen(), [], meshes=grid(2))
    with pytest.raises(ValueError, match=r"'y'"):
        Trainer(small_gen(), [Data(input_pos=torch.rand(3, 2), input_x=torch.rand(3, 1),
                                   query_pos=torch.rand(2, 2))], meshes=grid(2))
    with pytest.raises(ValueError, match=r"plateau.*val_dataset"):
        Trainer(small_gen(), toy(), meshes=grid(2), config=quiet(schedule="plateau"))
    with pytest.raises(ValueError, match=r"early_stopping_patience needs a val_dataset"):
        Trainer(small_gen(), toy(), meshes=grid(2), config=quiet(early_stopping_patience=2))


def test_a_diverging_loss_stops_with_advice(toy: Toy) -> None:
    class Exploding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(()))

        def forward(self, batch: Batch) -> torch.Tensor:
            return torch.full_like(batch.y, float("inf")) * self.w

    t = Trainer(Exploding(), toy(houses=2), meshes=grid(2), config=quiet(epochs=1))
    with pytest.raises(FloatingPointError, match=r"lower config.lr"):
        t.fit()


def test_non_finite_targets_are_named_before_any_step(toy: Toy) -> None:
    data = toy(houses=2)
    data[1].y = data[1].y * float("inf")
    with pytest.raises(ValueError, match=r"'y' holds non-finite values"):
        Trainer(small_gen(), data, meshes=grid(2), config=quiet(epochs=1))


def test_train_config_round_trips_through_json(tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=7, schedule="cosine", grad_clip=1.5, augment="square")
    cfg.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == cfg
    with pytest.raises(ValueError, match=r"unknown TrainConfig field.*epoch"):
        TrainConfig.from_dict({"epoch": 3})
