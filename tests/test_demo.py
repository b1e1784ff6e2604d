"""The demo job runs end to end, writes its outputs, and resumes from its checkpoint."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gen_pyg.demo import DemoConfig, run_demo
from gen_pyg.training import load_checkpoint

QUICK = DemoConfig(houses=5, test_houses=2, mesh_sizes=[2, 3], epochs=2, solver_n=21)


def test_demo_writes_results_and_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = run_demo(QUICK, tmp_path, progress=False)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["test"] == results["test"]
    assert [r["mesh"] for r in saved["test"]] == ["2x2", "3x3"]
    assert saved["test_scenarios"] == 2 * 32 and saved["train_scenarios"] == 3 * 32
    assert all(r["gen_test_mse"] > 0 and r["np_test_mse"] > 0 for r in saved["test"])
    # the symmetry-averaged column is the same weights evaluated another way, not a copy
    assert all(0 < r["gen_symmetrized_test_mse"] != r["gen_test_mse"] for r in saved["test"])
    assert len(saved["train_loss"]["GEN"]) == 2
    assert len(saved["train_loss"]["NeuralProcess"]) == 2
    for name in ("mse_vs_mesh.png", "fields.png", "learning_curves.png"):
        assert (tmp_path / name).stat().st_size > 1000
    for run in ("gen", "neural_process"):
        for name in ("checkpoint.pt", "config.json", "metrics.jsonl", "metrics.csv"):
            assert (tmp_path / run / name).stat().st_size > 0
    assert "GEN test MSE" in capsys.readouterr().out


def test_demo_resumes_and_rejects_another_configuration(tmp_path: Path) -> None:
    first = run_demo(QUICK, tmp_path, progress=False)
    state = load_checkpoint(tmp_path / "gen" / "checkpoint.pt")
    assert state["epoch"] == 2
    # the same configuration resumes after epoch 2: no training step runs, same evaluation
    again = run_demo(QUICK, tmp_path, progress=False)
    assert again["test"] == first["test"]
    # more epochs: training continues from the checkpoint
    longer = run_demo(replace(QUICK, epochs=3), tmp_path, progress=False)
    assert len(longer["train_loss"]["GEN"]) == 3
    assert longer["train_loss"]["GEN"][:2] == first["train_loss"]["GEN"]
    with pytest.raises(ValueError, match="another configuration"):
        run_demo(replace(QUICK, lr=1e-3), tmp_path, progress=False)


def test_demo_is_reproducible(tmp_path: Path) -> None:
    a = run_demo(QUICK, tmp_path / "a", progress=False)
    b = run_demo(QUICK, tmp_path / "b", progress=False)
    assert a["test"] == b["test"] and a["train_loss"] == b["train_loss"]


def test_demo_cli_validates_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    from gen_pyg.cli import main

    assert main(["demo", "--houses", "4", "--test-houses", "4"]) == 2
    assert "--test-houses must be smaller" in capsys.readouterr().err
    assert main(["demo", "--mesh-sizes", "1", "3"]) == 2
    assert "--mesh-sizes must all be at least 2" in capsys.readouterr().err


def test_demo_learns_and_gen_beats_the_neural_process_on_the_largest_mesh(
    tmp_path: Path,
) -> None:
    # The smallest run where all of this holds with a margin for every seed tried: 6 training
    # houses, 2x2 and 4x4 meshes, 6 epochs. Measured for seeds 0, 1, 2 (ratios are last/first
    # training loss; GEN/NP and 4x4/2x2 are test MSEs at 4x4):
    #   loss GEN 0.45 0.44 0.55, NP 0.51 0.59 0.52; GEN/NP 0.63 0.68 0.77; 4x4/2x2 0.66 0.72 0.83
    # With 4 epochs seed 2 fails (GEN/NP 0.89, 4x4/2x2 1.08).
    config = DemoConfig(houses=8, test_houses=2, mesh_sizes=[2, 4], epochs=6, solver_n=21)
    results = run_demo(config, tmp_path, progress=False)
    assert set(results["train_loss"]) == {"GEN", "NeuralProcess"}
    for name, losses in results["train_loss"].items():
        assert len(losses) == 6
        assert losses[-1] < 0.7 * losses[0], (name, losses)  # training loss falls
    largest = results["test"][-1]
    assert largest["mesh"] == "4x4"
    assert largest["gen_test_mse"] < 0.85 * largest["np_test_mse"], largest
    # and more nodes help the one set of weights
    assert results["test"][-1]["gen_test_mse"] < 0.95 * results["test"][0]["gen_test_mse"]
