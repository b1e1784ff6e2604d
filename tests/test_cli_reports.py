"""What the ``gen-pyg`` command says back: bad input that used to escape as a traceback or be
stored unused, the learning-curve figure of every task, a finished run run again, what is
generated and where, and progress when stdout is not a terminal."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gen_pyg.cli import build_parser, main
from gen_pyg.training import TASKS, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
DATA = ["--instances", "3", "--test-instances", "1", "--data-option", "n=21"]
TINY = [*DATA, "--mesh-sizes", "2", "3", "--latent", "8", "--quiet"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``gen-pyg ARGS`` in a subprocess, its output in pipes (not a terminal)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"),
                                                    env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "gen_pyg.cli", *args], capture_output=True,
                          text=True, env=env, timeout=600)

#: tiny one-epoch runs of every task (seconds each)
TASK_RUNS = {
    "poisson_square": [*DATA, "--val-instances", "1", "--mesh-sizes", "2", "3", "--latent",
                       "8"],
    "poisson_sphere": ["--task", "poisson_sphere", "--instances", "3", "--test-instances", "1",
                       "--data-option", "scenarios=2", "--mesh-sizes", "2", "--latent", "8"],
    "pushing": ["--task", "pushing", "--instances", "3", "--test-instances", "1",
                "--val-instances", "1", "--data-option", "pushes_per_object=4",
                "--data-option", "num_samples=8", "--latent", "8"],
    "scenes": ["--task", "scenes", "--instances", "4", "--test-instances", "2",
               "--data-option", "views=10", "--data-option", "draws=1", "--latent", "8",
               "--encoder-hidden", "4", "--representation", "bilinear"],
}


def _one_line_error(proc_err: str, needle: str) -> None:
    lines = proc_err.strip().splitlines()
    assert len(lines) == 1, proc_err
    assert "error" in lines[0] and needle in lines[0], proc_err
    assert "Traceback" not in proc_err


# ------------------------------------------------------------------ 1. demo --out FILE
def test_demo_out_naming_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    a_file = tmp_path / "results.txt"
    a_file.write_text("x")
    proc = _cli("demo", "--quick", "--out", str(a_file))
    assert proc.returncode == 2, proc.stderr
    _one_line_error(proc.stderr, "--out")
    assert a_file.read_text() == "x"


# ------------------------------------------------------------------ 2. plot, every task
@pytest.mark.parametrize("task", sorted(TASK_RUNS))
def test_plot_draws_the_tasks_own_curves_for_one_epoch(
        task: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import matplotlib.pyplot as plt

    from gen_pyg.viz import plot_learning_curves

    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--epochs", "1", "--quiet",
                 *TASK_RUNS[task]]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert main(["plot", str(run), "--out", str(tmp_path / "curves.png")]) == 0
    assert (tmp_path / "curves.png").stat().st_size > 1000
    capsys.readouterr()
    fig = plot_learning_curves({"run": records})
    loss = TASKS[task].loss
    validated = {m for m in TASKS[task].metric_names() if f"val_{m}" in records[0]}
    labels = [ax.get_ylabel() for ax in fig.axes]  # the loss first, then every metric
    assert labels[0] == loss and set(labels) == {loss} | validated
    assert len(labels) == len(set(labels))
    assert (len(validated) > 1) == (task == "pushing")  # the run of several metrics
    for ax in fig.axes:
        for line in ax.get_lines():
            assert line.get_marker() == "o"  # one epoch is one visible point
            assert np.asarray(line.get_xdata()).tolist() == [1]
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)
    first = fig.axes[0].get_lines()[0]
    assert np.asarray(first.get_ydata()).tolist() == [records[0][f"train_{loss}"]]
    if any(k.startswith("val_") for k in records[0]):
        assert len(fig.axes[0].get_lines()) == 2  # training and validation
    plt.close("all")
    if task == "scenes":  # the table says which supermazes were tested, not "own mesh"
        assert main(["evaluate", str(run), "--json", str(tmp_path / "e.json")]) == 0
        out = capsys.readouterr().out
        assert "own mesh" not in out and "1x1 mazes" in out and "2x2 mazes" in out
        rows = json.loads((tmp_path / "e.json").read_text())
        # lattice grids of 4m+1 nodes a side; the GEN runs the mesh diameter, 2 * 4m rounds
        assert [(r["mesh"], r["nodes"], r["steps"], r["supermazes"]) for r in rows] == [
            ("1x1 mazes", 25, 8, 1), ("2x2 mazes", 81, 16, 1)]


def test_plot_refuses_records_without_curves() -> None:
    from gen_pyg.viz import plot_learning_curves

    with pytest.raises(ValueError, match="'empty'"):
        plot_learning_curves({"empty": [{"epoch": 1, "lr": 0.1}]})


# ------------------------------------------------------------------ 3. ignored settings
def test_settings_a_task_or_model_ignores_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gen_pyg.training import DataConfig, ModelConfig

    scenes = TASK_RUNS["scenes"]
    for args, flag, why in (
            ([*scenes, "--mesh-sizes", "3"], "--mesh-sizes", "own meshes"),
            ([*TINY, "--model", "neural_process", "--steps", "4"], "--steps", "Neural Process"),
            ([*scenes, "--model", "neural_process", "--steps", "4"], "--steps",
             "Neural Process"),
            ([*TINY, "--model", "neural_process", "--aggr", "max"], "--aggr", "Neural Process"),
    ):
        out = tmp_path / "refused"
        assert main(["train", "--out", str(out), *args]) == 2
        err = capsys.readouterr().err
        _one_line_error(err, flag)
        assert why in err
        assert not (out / "config.json").exists()  # nothing stored
    with pytest.raises(ValueError, match=r"mesh_sizes=\[3\] does not apply"):
        DataConfig("scenes", mesh_sizes=[3])
    with pytest.raises(ValueError, match="num_steps=4 needs kind='gen': it does not apply"):
        ModelConfig("neural_process", num_steps=4)
    ModelConfig("neural_process")  # the defaults stand


# ------------------------------------------------------------------ 4. data options
@pytest.mark.parametrize("task, option, shown", [
    ("pushing", "noise=abc", "'abc'"),
    ("pushing", "noise=0.1,0.01", "'0.1,0.01'"),
    ("pushing", "noise=[0.1]", "[0.1]"),
    ("pushing", "pushes_per_object=1.5", "1.5"),
    ("poisson_square", "n=abc", "'abc'"),
    ("poisson_sphere", "scenarios=0", "got 0"),
    ("scenes", "views=ten", "'ten'"),
    ("scenes", "m=abc", "'abc'"),
])
def test_a_bad_data_option_is_shown_as_typed(task: str, option: str, shown: str,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--task", task, "--out", str(tmp_path / "r"), "--data-option",
                 option]) == 2
    err = capsys.readouterr().err
    _one_line_error(err, "--data-option")
    assert shown in err and "JSON" in err
    assert "'a', 'b'" not in err and "('0'" not in err  # not split into characters
    assert not (tmp_path / "r").exists()


def test_help_and_tasks_list_every_tasks_data_options(
        capsys: pytest.CaptureFixture[str]) -> None:
    commands = next(a for a in build_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    for sub in ("train", "generate"):
        text = " ".join(commands.choices[sub].format_help().split())
        assert "JSON" in text
        for task in TASKS.values():
            for key, value in task.options.items():
                assert f"{key}={json.dumps(value, separators=(',', ':'))}" in text, (sub, key)
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    for task in TASKS.values():
        assert f"{task.name}: {task.description}" in out
        for key, value in task.options.items():
            line = next(x for x in out.splitlines() if x.strip().startswith(f"{key}="))
            assert json.dumps(value, separators=(",", ":")) in line
            assert task.option_help[key] in line  # what it sets, for every option
    # the documentation lists the same options
    docs = (ROOT / "docs" / "training.rst").read_text()
    for task in TASKS.values():
        assert all(f"``{key}``" in docs for key in task.options), task.name


# ------------------------------------------------------------------ 5. a finished run again
def test_rerunning_a_finished_run_reports_its_results(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    args = ["train", "--out", str(run), "--epochs", "1", *TINY]
    assert main(args) == 0
    capsys.readouterr()
    stored = json.loads((run / "test_metrics.json").read_text())
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "resuming" not in captured.err + captured.out
    assert "complete run (1 of 1 epochs)" in captured.out
    for row in stored:  # the stored results table
        assert re.search(rf"{row['mesh']}\s+{row['nodes']}\s+{row['steps']}\s+"
                         rf"{row['test_mse']:.5f}", captured.out), captured.out
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1


def test_the_trainer_says_a_run_is_complete(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import torch
    from torch_geometric.data import Data

    from gen_pyg.mesh import grid
    from gen_pyg.nn import GEN
    from gen_pyg.training import TrainConfig, Trainer

    examples = [Data(input_pos=p, input_x=p.sum(1, keepdim=True), query_pos=p,
                     y=p.prod(1, keepdim=True)) for p in torch.rand(4, 5, 2)]

    def trainer() -> Trainer:
        return Trainer(GEN.paper(latent_channels=4), examples, meshes=grid(2), run_dir=tmp_path,
                       config=TrainConfig(epochs=1, group_by=None))

    first = trainer()
    first.fit()
    assert first.fit_epochs == 1 and first.complete
    capsys.readouterr()
    again = trainer()
    again.fit()
    err = capsys.readouterr().err
    assert again.fit_epochs == 0 and "complete run (1 of 1 epochs)" in err
    assert "resuming" not in err


# ------------------------------------------------------------------ 6. say what happens
def test_generation_and_progress_are_reported_without_a_terminal(tmp_path: Path) -> None:
    run, data = tmp_path / "run", tmp_path / "data"
    args = ["train", "--out", str(run), "--data", str(data), *DATA, "--mesh-sizes", "2",
            "--latent", "8"]  # no --quiet: stdout is a pipe here
    proc = _cli(*args, "--epochs", "2")
    assert proc.returncode == 0, proc.stderr
    said = [x for x in proc.stderr.splitlines() if x.startswith("generating")]
    assert len(said) == 1 and "PoissonSquare" in said[0] and str(data) in said[0], proc.stderr
    assert "num_houses=3" in said[0]
    epochs = [x for x in proc.stdout.splitlines() if x.startswith("epoch ")]
    assert [x.split(":")[0] for x in epochs] == ["epoch 1/2", "epoch 2/2"], proc.stdout
    assert all("train mse" in x for x in epochs)
    # the data are there now: nothing generated, nothing said
    proc = _cli(*args, "--epochs", "3")
    assert proc.returncode == 0, proc.stderr
    assert "generating" not in proc.stderr
    assert [x.split(":")[0] for x in proc.stdout.splitlines() if x.startswith("epoch ")] == [
        "epoch 3/3"]


def test_pushing_generation_says_what_and_where(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from gen_pyg.training import DataConfig, build_datasets

    cfg = DataConfig("pushing", root=str(tmp_path / "push"), num_instances=3,
                     num_test_instances=1, options={"pushes_per_object": 2, "num_samples": 4})
    build_datasets(cfg, log=True)
    said = [x for x in capsys.readouterr().err.splitlines() if x.startswith("generating")]
    assert len(said) == 1, said  # the splits share one file
    assert "Pushing" in said[0] and str(tmp_path / "push") in said[0]
    assert "num_objects=3" in said[0] and "pushes_per_object=2" in said[0]
    build_datasets(cfg, log=True)
    assert "generating" not in capsys.readouterr().err


# ------------------------------------------------------------------ 7. docs a reader copies
def test_the_readme_and_the_guide_train_into_different_folders() -> None:
    def run_dirs(text: str) -> set[str]:
        return set(re.findall(r'run_dir="([^"]+)"', text))

    readme = run_dirs((ROOT / "README.md").read_text())
    guide = run_dirs((ROOT / "docs" / "guide.rst").read_text())
    assert readme and guide and not readme & guide


def test_the_guides_triangle_count_is_the_number_of_triangles() -> None:
    import torch

    from gen_pyg.mesh import delaunay

    points = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.4]])
    mine = delaunay(points)
    assert mine.face.size(0) == 3 and mine.face.size(1) == 4  # 4 triangles of 3 corners
    assert "mine.face.size(1)" in (ROOT / "docs" / "guide.rst").read_text()
