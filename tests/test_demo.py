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
    # small but not trivial: 6 training houses, 4 epochs (about 10 s)
    config = DemoConfig(houses=8, test_houses=2, mesh_sizes=[2, 4], epochs=4, solver_n=21)
    results = run_demo(config, tmp_path, progress=False)
    for losses in results["train_loss"].values():
        assert losses[-1] < 0.8 * losses[0]
    largest = results["test"][-1]
    assert largest["mesh"] == "4x4"
    assert largest["gen_test_mse"] < 0.8 * largest["np_test_mse"]
    # and more nodes help the one set of weights
    assert results["test"][-1]["gen_test_mse"] < results["test"][0]["gen_test_mse"]
