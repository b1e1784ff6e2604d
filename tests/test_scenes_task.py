"""The ``scenes`` task on the engine: its registry entry, the training draws, one logit row
and one loss term per query for every supermaze size, the test batch composition and its
chance level, evaluation at other supermaze sizes checked by hand, bad settings named, and
``gen-pyg train --task scenes`` / ``gen-pyg evaluate`` on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gen_pyg.cli import main
from gen_pyg.datasets import Mazes
from gen_pyg.mesh.batching import collate_group
from gen_pyg.tasks.scenes import (
    candidates_per_batch,
    evaluate_scenes,
    fixed_k_accuracy,
    scenes_test_split,
    supermazes_per_batch,
)
from gen_pyg.training import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    build_datasets,
    build_meshes,
    build_model,
    build_trainer,
    get_task,
)
from gen_pyg.training.objectives import RetrievalCrossEntropy

SMALL_OPTIONS = {"views": 10, "draws": 2}
SMALL_MODEL = {"latent_channels": 8, "encoder_hidden_channels": 4,
               "representation": "bilinear", "num_steps": 2}


def _exp(root: Path, kind: str = "gen", group_size: int = 3) -> ExperimentConfig:
    data = DataConfig(task="scenes", root=str(root), num_instances=6, num_test_instances=2,
                      options=SMALL_OPTIONS)
    return ExperimentConfig(ModelConfig(kind=kind, **SMALL_MODEL), data,  # type: ignore[arg-type]
                            TrainConfig(epochs=1, group_size=group_size, progress=False))


def test_registry_entry() -> None:
    task = get_task("scenes")
    assert (task.loss, task.metrics) == ("retrieval_cross_entropy",
                                         ("retrieval_accuracy", "retrieval_cross_entropy"))
    assert task.group_by is None and build_meshes(DataConfig(task="scenes")) is None
    assert DataConfig(task="scenes").options["m"] == [1, 2]
    # the trainer groups scenes in plain chunks of group_size supermazes
    assert ExperimentConfig(data=DataConfig(task="scenes")).train.group_by is None


def test_draws_and_one_term_per_logit_row(tmp_path: Path) -> None:
    exp = _exp(tmp_path)
    splits = build_datasets(exp.data, log=False)
    train, mazes = splits["train"], splits["train"].dataset
    assert len(train) == 2 * len(mazes) == 8 and len(splits["test"]) == 2
    # each draw of a supermaze is a new example: same maze, other (context, query) views
    first, again = train[0], train[len(mazes)]
    assert torch.equal(first.pos, again.pos)
    assert not torch.equal(first.query_pose, again.query_pose)
    torch.manual_seed(0)
    model = build_model(exp.model, exp.task).eval()
    for m in (1, 2, 3):
        ds = scenes_test_split(exp.data, m, 2)
        batch = collate_group([ds[0], ds[1]], True)
        with torch.no_grad():
            logits = model(batch)
        # m^2 queries per supermaze: 4 rows for m = 2; every query and context image a column
        assert RetrievalCrossEntropy().terms(batch) == logits.size(0) == 2 * m * m
        assert logits.size(1) == candidates_per_batch(m, 2)


def test_batch_composition_and_chance() -> None:
    assert [supermazes_per_batch(m) for m in (1, 2, 3, 4, 5)] == [16, 4, 2, 1, 1]
    assert [candidates_per_batch(m, supermazes_per_batch(m)) for m in (1, 2, 3, 4, 5)] == [
        144, 144, 162, 144, 225]
    with pytest.raises(ValueError, match="'m'"):
        supermazes_per_batch(6)


def test_evaluation_at_other_sizes_matches_a_hand_count(tmp_path: Path) -> None:
    exp = _exp(tmp_path, group_size=3)
    splits = build_datasets(exp.data, log=False)
    torch.manual_seed(1)
    model = build_model(exp.model, exp.task)
    trainer = build_trainer(exp, model, splits)
    trainer.fit()
    ds = scenes_test_split(exp.data, 2, 3)
    values = evaluate_scenes(trainer, ds, supermazes=2)
    assert trainer.config.group_size == 3  # restored
    model.eval()
    right = total = 0
    loss = 0.0
    with torch.no_grad():
        for chunk in ([0, 1], [2]):
            logits = model(collate_group([ds[i] for i in chunk], True))
            right += int((logits.argmax(1) == torch.arange(logits.size(0))).sum())
            loss += float(torch.nn.functional.cross_entropy(
                logits, torch.arange(logits.size(0)), reduction="sum"))
            total += logits.size(0)
    assert total == 12
    assert values["retrieval_accuracy"] == pytest.approx(right / total)
    assert values["retrieval_cross_entropy"] == pytest.approx(loss / total, rel=1e-5)
    with pytest.raises(ValueError, match="supermazes"):
        evaluate_scenes(trainer, ds, supermazes=0)


def test_bad_settings_are_named(tmp_path: Path) -> None:
    for options, name in (({"m": [1, 7]}, "'m'"), ({"m": []}, "'m'"), ({"draws": 0}, "draws")):
        with pytest.raises(ValueError, match=name):  # when the settings are made, before work
            DataConfig(task="scenes", root=str(tmp_path), num_instances=4,
                       num_test_instances=1, options={**SMALL_OPTIONS, **options})
    with pytest.raises(ValueError, match="options"):
        DataConfig(task="scenes", options={"image_size": 64})
    with pytest.raises(ValueError, match="aggr"):
        build_model(ModelConfig(aggr="max"), "scenes")
    with pytest.raises(ValueError, match="representation"):
        build_model(ModelConfig(representation="barycentric"), "scenes")


def test_cli_trains_and_evaluates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    tiny = ["--task", "scenes", "--instances", "5", "--test-instances", "2", "--data-option",
            "views=10", "--data-option", "draws=1", "--latent", "8", "--encoder-hidden", "4",
            "--quiet"]
    assert main(["train", "--out", str(run), "--epochs", "1", *tiny]) == 0
    rows = json.loads((run / "test_metrics.json").read_text())
    assert [r["mesh"] for r in rows] == ["1x1 mazes", "2x2 mazes"]  # one row per side
    assert 0.0 <= rows[0]["test_retrieval_accuracy"] <= 1.0
    assert rows[0]["test_retrieval_cross_entropy"] > 0.0
    capsys.readouterr()
    out_json = tmp_path / "eval.json"
    assert main(["evaluate", str(run), "--json", str(out_json)]) == 0
    assert "test retrieval accuracy" in capsys.readouterr().out
    again = json.loads(out_json.read_text())
    # the test split draws its views once per example: evaluation is repeatable
    assert [r["test_retrieval_accuracy"] for r in again] == pytest.approx(
        [r["test_retrieval_accuracy"] for r in rows])


def test_fixed_k_accuracy_matches_a_hand_count_and_an_oracle(tmp_path: Path) -> None:
    """Fixed-K retrieval: K is the views of the query's maze at every side, the count agrees
    with the model's own logits restricted by hand to those candidates, the standard error is
    over supermazes, and a model whose query embedding is the true image's scores 1."""
    exp = _exp(tmp_path)
    torch.manual_seed(2)
    model = build_model(exp.model, exp.task).eval()
    ds = scenes_test_split(exp.data, 2, 3)
    maze = fixed_k_accuracy(model, ds, candidates="maze")
    whole = fixed_k_accuracy(model, ds, candidates="supermaze")
    assert (maze["candidates"], whole["candidates"]) == (10, 40)  # 10 views a maze, 4 mazes
    assert maze["supermazes"] == 3 and maze["queries"] == 12
    shares = []
    with torch.no_grad():
        for i in range(3):
            ex, bank = ds[i], ds.get_bank(i)
            emb = model.embed_queries(collate_group([ex], True))
            keys = model.candidate_encoder(bank.view_img)
            right = 0
            for q in range(ex.query_pose.size(0)):
                own = torch.nonzero(bank.view_maze == ex.query_maze[q]).view(-1)
                true = int(torch.nonzero((bank.view_pose == ex.query_pose[q]).all(1)))
                d = ((emb[q].double() - keys[own].double()) ** 2).sum(1)  # as cdist's
                right += int(int(own[d.argmin()]) == true)
            shares.append(right / ex.query_pose.size(0))
    assert maze["per_supermaze"] == pytest.approx(shares)
    mean = sum(shares) / 3
    assert maze["accuracy"] == pytest.approx(mean)
    assert maze["stderr"] == pytest.approx(
        (sum((v - mean) ** 2 for v in shares) / 2 / 3) ** 0.5)

    class Oracle(torch.nn.Module):  # embeds a query as its own image: always right
        def __init__(self) -> None:
            super().__init__()
            self.candidate_encoder = torch.nn.Flatten()
            self.scale = torch.nn.Parameter(torch.ones(()))

        def embed_queries(self, batch: object) -> torch.Tensor:
            return self.candidate_encoder(batch.query_img.float())  # type: ignore[attr-defined]

    oracle = fixed_k_accuracy(Oracle(), ds, candidates="supermaze")
    assert (oracle["accuracy"], oracle["stderr"]) == (1.0, 0.0)
    # k drawn among the supermaze's views: all of them is the whole supermaze, and on 1x1
    # supermazes all views of the supermaze are the maze's
    assert fixed_k_accuracy(model, ds, "sample", k=40)["per_supermaze"] == whole["per_supermaze"]
    single = scenes_test_split(exp.data, 1, 4)
    assert (fixed_k_accuracy(model, single, "sample", k=10)["per_supermaze"]
            == fixed_k_accuracy(model, single, "maze")["per_supermaze"])
    few = fixed_k_accuracy(model, ds, "sample", k=3)
    assert few["candidates"] == 3 and few["queries"] == 12
    assert fixed_k_accuracy(model, ds, "sample", k=3, seed=0) == few  # seeded
    assert fixed_k_accuracy(Oracle(), ds, "sample", k=5)["accuracy"] == 1.0
    # the control with another supermaze's context views, by hand: moved onto the mesh
    other = fixed_k_accuracy(model, single, "maze", contexts="other")
    hand = []
    with torch.no_grad():
        for i in range(4):
            ex, donor, bank = single[i], single[(i + 1) % 4], single.get_bank(i)
            shift = ex.offset - donor.offset
            ex.input_img = donor.input_img
            ex.input_pose = torch.cat([donor.input_pose[:, :2] + shift,
                                       donor.input_pose[:, 2:]], 1)
            ex.input_pos = donor.input_pos + shift
            assert bool((ex.input_pos >= ex.pos.min(0).values - 1e-4).all()
                        and (ex.input_pos <= ex.pos.max(0).values + 1e-4).all())
            emb = model.embed_queries(collate_group([ex], True))
            keys = model.candidate_encoder(bank.view_img)
            true = (ex.query_pose.unsqueeze(1) == bank.view_pose.unsqueeze(0)).all(-1)
            dist = ((emb.double().unsqueeze(1) - keys.double()) ** 2).sum(-1)
            hand.append(float((dist.argmin(1)
                               == true.float().argmax(1)).float().mean()))
    assert other["per_supermaze"] == pytest.approx(hand)
    assert fixed_k_accuracy(Oracle(), single, "maze", contexts="other")["accuracy"] == 1.0
    with pytest.raises(ValueError, match="contexts must be 'own' or 'other'"):
        fixed_k_accuracy(model, single, "maze", contexts="mine")
    with pytest.raises(ValueError, match="at least 2 supermazes"):
        fixed_k_accuracy(model, scenes_test_split(exp.data, 1, 1), "maze", contexts="other")
    mixed = Mazes(str(tmp_path / "mixed"), "test", m=[1, 2], num_mazes=2, views_per_maze=10,
                  log=False)
    with pytest.raises(ValueError, match="supermazes of one side, got sides 1 and 2"):
        fixed_k_accuracy(model, mixed, "maze", contexts="other")
    with pytest.raises(ValueError, match="exceeds the 40 views"):
        fixed_k_accuracy(model, ds, "sample", k=41)
    with pytest.raises(ValueError, match="candidates must be one of"):
        fixed_k_accuracy(model, ds, candidates="batch")
    with pytest.raises(TypeError, match="dataset must be a Mazes"):
        fixed_k_accuracy(model, [ds[0]])  # type: ignore[arg-type]
