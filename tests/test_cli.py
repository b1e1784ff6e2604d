"""The ``gen-pyg`` command: train, resume, evaluate, plot; one-line errors with exit status 2;
SIGTERM saves a checkpoint, exits with 128 + 15, and the same command resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gen_pyg.cli import main
from gen_pyg.training import load_checkpoint

DATA = ["--instances", "3", "--test-instances", "1", "--data-option", "n=21"]
TINY = [*DATA, "--mesh-sizes", "2", "3", "--latent", "8", "--quiet"]


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gen_pyg.cli", *args], capture_output=True,
                          text=True, env=_env(), timeout=600)


def test_train_resume_evaluate_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--epochs", "2", *TINY]) == 0
    out = capsys.readouterr().out
    assert "test MSE" in out and "3x3" in out
    rows = json.loads((run / "test_metrics.json").read_text())
    assert [r["mesh"] for r in rows] == ["2x2", "3x3"]
    for name in ("config.json", "metrics.jsonl", "metrics.csv", "checkpoint.pt"):
        assert (run / name).stat().st_size > 0
    # the same command with more epochs continues the run
    assert main(["train", "--out", str(run), "--epochs", "3", *TINY]) == 0
    capsys.readouterr()
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 3
    # evaluation on meshes never trained on, written as JSON
    assert main(["evaluate", str(run), "--mesh-sizes", "4", "5", "--json",
                 str(tmp_path / "e.json")]) == 0
    table = json.loads((tmp_path / "e.json").read_text())
    assert [r["mesh"] for r in table] == ["4x4", "5x5"]
    assert all(r["test_mse"] > 0 for r in table)
    # the same weights with their predictions averaged over the square's 8 symmetries
    assert main(["evaluate", str(run), "--mesh-sizes", "4", "5", "--symmetrize", "square",
                 "--json", str(tmp_path / "s.json")]) == 0
    averaged = json.loads((tmp_path / "s.json").read_text())
    assert [r["mesh"] for r in averaged] == ["4x4", "5x5"]
    assert all(0 < a["test_mse"] != r["test_mse"] for a, r in zip(averaged, table, strict=True))
    assert main(["plot", str(run)]) == 0
    assert (run / "learning_curves.png").stat().st_size > 1000


def test_relative_pos_and_head_widths_reach_the_model(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--epochs", "1", "--representation", "bilinear",
                 "--relative-pos", "--encoder-hidden", "12", "--decoder-hidden", "10",
                 *TINY]) == 0
    model = json.loads((run / "config.json").read_text())["metadata"]["model"]
    assert (model["relative_pos"], model["encoder_hidden_channels"],
            model["decoder_hidden_channels"]) == (True, 12, 10)
    weights = load_checkpoint(run / "checkpoint.pt")["model"]
    assert weights["decoder.pair.0.weight"].shape == (64, 8 + 2)  # [latent, offset] -> 64
    # value, pos, offset
    assert weights["encoder.heads.heads.0.0.weight"].shape == (12, 1 + 2 + 2)
    assert weights["decoder.heads.heads.0.0.weight"].shape == (10, 64 + 2)
    # evaluate rebuilds the same model from the run's config
    assert main(["evaluate", str(run), "--mesh-sizes", "5"]) == 0
    assert "5x5" in capsys.readouterr().out


def test_norm_flag_reaches_the_model(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--epochs", "1", "--representation", "bilinear",
                 "--norm", "pre", *TINY]) == 0
    assert json.loads((run / "config.json").read_text())["metadata"]["model"]["norm"] == "pre"
    assert "processor.final_norm.weight" in load_checkpoint(run / "checkpoint.pt")["model"]
    assert main(["evaluate", str(run), "--mesh-sizes", "4"]) == 0
    assert "4x4" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["train", "--out", str(tmp_path / "bad"), "--norm", "sideways", *TINY])
    assert exc.value.code == 2 and "--norm" in capsys.readouterr().err


def test_recall_geometry_and_extra_rounds_reach_the_run(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--epochs", "1", "--representation", "bilinear",
                 "--recall", "--geometry", "local", "--extra-rounds", "3", *TINY]) == 0
    config = json.loads((run / "config.json").read_text())
    model = config["metadata"]["model"]
    assert (model["recall"], model["geometry"]) == (True, "local")
    assert config["train"]["extra_rounds"] == 3
    assert "processor.recall.weight" in load_checkpoint(run / "checkpoint.pt")["model"]
    assert main(["evaluate", str(run), "--mesh-sizes", "4"]) == 0
    assert "4x4" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["train", "--out", str(tmp_path / "bad"), "--extra-rounds", "-1", *TINY])
    assert exc.value.code == 2 and "--extra-rounds" in capsys.readouterr().err
    # coarse to fine: the run rebuilds the MultilevelGEN to evaluate on a grid it never saw
    multi = tmp_path / "multi"
    assert main(["train", "--out", str(multi), "--epochs", "1", "--representation", "bilinear",
                 "--multilevel-rounds", "2", "--multilevel-coarsest", "2", *TINY]) == 0
    model = json.loads((multi / "config.json").read_text())["metadata"]["model"]
    assert (model["multilevel_rounds"], model["multilevel_coarsest"]) == (2, 2)
    assert "prolong.weight" in load_checkpoint(multi / "checkpoint.pt")["model"]
    assert main(["evaluate", str(multi), "--mesh-sizes", "9"]) == 0
    assert "9x9" in capsys.readouterr().out
    refined = tmp_path / "refined"
    assert main(["train", "--out", str(refined), "--epochs", "1", "--representation",
                 "bilinear", "--multilevel-rounds", "2", "--multilevel-coarsest", "2",
                 "--multilevel-refiner", "--multilevel-encode", "coarsest",
                 "--multilevel-supervise", "--multilevel-supervise-finest", "0.5", *TINY]) == 0
    model = json.loads((refined / "config.json").read_text())["metadata"]["model"]
    assert (model["multilevel_share_processor"], model["multilevel_encode"],
            model["multilevel_supervise"]) == (False, "coarsest", True)
    assert "refiner.recall.weight" not in load_checkpoint(refined / "checkpoint.pt")["model"]
    assert any(k.startswith("refiner.") for k in load_checkpoint(refined / "checkpoint.pt")[
        "model"])
    assert main(["evaluate", str(refined), "--mesh-sizes", "9"]) == 0
    # the mesh-independent encoder and processor travel in the run's config too
    kernel = tmp_path / "kernel"
    assert main(["train", "--out", str(kernel), "--epochs", "1", "--representation",
                 "bilinear", "--relative-pos", "--encoder-kernel", "0.3", "--processor-radius",
                 "0.4", "--steps", "2", "--aggr", "mean", "--decoder-kernel", "0.3",
                 *TINY]) == 0
    model = json.loads((kernel / "config.json").read_text())["metadata"]["model"]
    assert (model["encoder_kernel"], model["processor_radius"], model["num_steps"],
            model["decoder_kernel"]) == (0.3, 0.4, 2, 0.3)
    capsys.readouterr()
    assert main(["evaluate", str(kernel), "--mesh-sizes", "9"]) == 0
    assert "9x9" in capsys.readouterr().out


def test_errors_are_one_line_with_status_2(tmp_path: Path) -> None:
    cases = [
        (["train", "--out", str(tmp_path / "a"), "--epochs", "0"], "--epochs"),
        (["train", "--out", str(tmp_path / "a"), "--mesh-sizes", "1"], "--mesh-sizes"),
        (["train", "--out", str(tmp_path / "a"), "--instances", "3", "--test-instances", "3"],
         "test"),
        (["train", "--out", str(tmp_path / "a"), "--task", "heat"], "--task"),
        (["train", "--out", str(tmp_path / "a"), "--processor-radius", "0.4"],
         "processor_radius needs num_steps"),
        (["train", "--out", str(tmp_path / "a"), "--encoder-kernel", "0"], "--encoder-kernel"),
        (["train", "--out", str(tmp_path / "a"), "--processor-stencil", "8"],
         "processor_stencil needs processor_radius"),
        (["train", "--out", str(tmp_path / "a"), "--data-option", "m=3"], "m"),
        (["evaluate", str(tmp_path / "missing")], "missing"),
        (["bench", "no-such-benchmark"], "no-such-benchmark"),
        (["no-such-command"], "no-such-command"),
    ]
    for args, needle in cases:
        proc = _cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 or lines[0].startswith("usage:"), proc.stderr
        assert needle in lines[-1] and "error" in lines[-1], proc.stderr
        assert "Traceback" not in proc.stderr


def test_another_configuration_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    run = str(tmp_path / "run")
    assert _cli("train", "--out", run, "--epochs", "1", *TINY).returncode == 0
    proc = _cli("train", "--out", run, "--epochs", "1", "--lr", "0.01", *TINY)
    assert proc.returncode == 2
    assert "lr" in proc.stderr and "another configuration" in proc.stderr


def test_version_flag() -> None:
    from gen_pyg import __version__

    proc = _cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"gen_pyg {__version__}"


def test_sigterm_saves_and_the_same_command_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = [sys.executable, "-m", "gen_pyg.cli", "train", "--out", str(run), "--epochs", "60",
            *TINY]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    ckpt = run / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ckpt.exists(), "no checkpoint after the first epoch"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM" in err and "resume" in err
    state = load_checkpoint(ckpt)
    stopped = state["global_step"]
    assert 0 < state["epoch"] < 60
    history = state["history"]
    # the same command picks up where it stopped and finishes
    done = subprocess.run(args, capture_output=True, text=True, env=_env(), timeout=600)
    assert done.returncode == 0, done.stderr
    final = load_checkpoint(ckpt)
    assert final["epoch"] == 60 and final["global_step"] > stopped
    assert final["history"][: len(history)] == history
    # and it ends where a run that was never interrupted ends, weight for weight
    other = tmp_path / "uninterrupted"
    args[args.index(str(run))] = str(other)
    assert subprocess.run(args, capture_output=True, env=_env(), timeout=600).returncode == 0
    reference = load_checkpoint(other / "checkpoint.pt")
    for k, v in reference["model"].items():
        torch.testing.assert_close(final["model"][k], v, atol=1e-6, rtol=1e-5, msg=k)


def test_demo_quick_through_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 0
    assert "GEN test MSE" in capsys.readouterr().out
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["config"]["epochs"] >= 1 and saved["test"]
    for name in ("mse_vs_mesh.png", "fields.png", "learning_curves.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_poisson_sphere_trains_resumes_and_evaluates(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "sphere"
    args = ["train", "--task", "poisson_sphere", "--out", str(run), "--instances", "3",
            "--test-instances", "1", "--data-option", "scenarios=2", "--mesh-sizes", "2", "3",
            "--latent", "8", "--quiet"]
    assert main([*args, "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "latlong 2" in out and "latlong 3" in out
    assert main([*args, "--epochs", "2"]) == 0  # the same command, longer: resumes
    capsys.readouterr()
    state = load_checkpoint(run / "checkpoint.pt")
    assert state["epoch"] == 2 and len(state["history"]) == 2
    saved = json.loads((run / "config.json").read_text())["metadata"]["data"]
    assert saved["task"] == "poisson_sphere" and saved["root"] == "data"  # inside the run
    assert main(["evaluate", str(run), "--mesh-sizes", "4", "--json",
                 str(tmp_path / "e.json")]) == 0
    assert [r["mesh"] for r in json.loads((tmp_path / "e.json").read_text())] == ["latlong 4"]
    proc = _cli("train", "--task", "poisson_sphere", "--out", str(tmp_path / "x"),
                "--augment", "square")
    assert proc.returncode == 2 and "augment='square'" in proc.stderr


def test_train_reads_a_generated_folder_and_refuses_other_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert main(["generate", "--out", str(data), *DATA, "--quiet"]) == 0
    capsys.readouterr()
    run = tmp_path / "run"
    # no data flags: the folder's own settings (3 houses), not the default 250
    assert main(["train", "--out", str(run), "--data", str(data), "--epochs", "1",
                 "--mesh-sizes", "2", "--latent", "8", "--quiet"]) == 0
    saved = json.loads((run / "config.json").read_text())["metadata"]["data"]
    assert (saved["num_instances"], saved["options"]) == (3, {"n": 21})
    assert not (run / "data").exists()  # read from the folder, nothing generated in the run
    proc = _cli("train", "--out", str(tmp_path / "r2"), "--data", str(data),
                "--instances", "12")
    assert proc.returncode == 2 and "num_instances: 3 in the folder, 12 given" in proc.stderr
    # a data folder that a training generated is read the same way
    second = tmp_path / "second"
    assert main(["train", "--out", str(tmp_path / "r3"), "--data", str(second), *DATA,
                 "--epochs", "1", "--mesh-sizes", "2", "--latent", "8", "--quiet"]) == 0
    assert main(["train", "--out", str(tmp_path / "r4"), "--data", str(second), "--epochs",
                 "1", "--mesh-sizes", "2", "--latent", "8", "--quiet"]) == 0
    capsys.readouterr()
    saved = json.loads((tmp_path / "r4" / "config.json").read_text())["metadata"]["data"]
    assert saved["num_instances"] == 3


def test_a_moved_run_folder_finds_its_data(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--epochs", "1", *TINY]) == 0
    moved = tmp_path / "elsewhere" / "run"
    moved.parent.mkdir()
    run.rename(moved)
    files = sorted(p.name for p in (moved / "data").rglob("*"))
    assert main(["evaluate", str(moved), "--mesh-sizes", "2"]) == 0
    err = capsys.readouterr().err
    assert "missing" not in err  # found, not regenerated
    assert sorted(p.name for p in (moved / "data").rglob("*")) == files


def test_run_folder_surprises_are_one_line_errors(tmp_path: Path) -> None:
    from torch_geometric.data import Data

    from gen_pyg.mesh import grid
    from gen_pyg.nn import GEN
    from gen_pyg.training import TrainConfig, Trainer

    # a run folder written by a user's own Trainer call has no experiment to rebuild
    own = tmp_path / "own"
    examples = [Data(input_pos=p, input_x=p.sum(1, keepdim=True), query_pos=p,
                     y=p.prod(1, keepdim=True)) for p in torch.rand(4, 5, 2)]
    Trainer(GEN.paper(latent_channels=4), examples, meshes=grid(2), run_dir=own,
            config=TrainConfig(epochs=1, progress=False)).fit()
    proc = _cli("evaluate", str(own))
    assert proc.returncode == 2 and "load_model_weights" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    # a damaged config.json, a file given as a run folder, files given as folders
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for args, needle in ((["evaluate", str(bad)], "damaged"),
                         (["evaluate", str(a_file)], "is a file"),
                         (["train", "--out", str(a_file), *DATA], "--out"),
                         (["train", "--out", str(tmp_path / "r"), "--data", str(a_file), *DATA],
                          "--data"),
                         (["generate", "--out", str(a_file), *DATA], "--out")):
        proc = _cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_tensorboard_without_the_extra_fails_before_any_work(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("tensorboard is installed here")
    run = tmp_path / "run"
    proc = _cli("train", "--out", str(run), "--tensorboard", *TINY)
    assert proc.returncode == 2 and "pip install 'gen_pyg[tensorboard]'" in proc.stderr
    assert not run.exists()  # no config.json, no dataset


def test_quick_demo_uses_its_own_folder(tmp_path: Path) -> None:
    from gen_pyg.cli import build_parser

    args = build_parser().parse_args(["demo", "--quick"])
    assert args.out is None  # resolved to runs/demo-quick by the command, runs/demo without
    proc = _cli("demo", "--help")
    assert "runs/demo-quick" in proc.stdout
