"""Two torchrun processes (gloo, CPU) train exactly what one process does with the same
houses per step, through the real ``gen-pyg train`` entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gen_pyg.training import load_checkpoint

COMMON = ["--instances", "5", "--test-instances", "1", "--data-option", "n=21", "--mesh-sizes",
          "2", "3", "--epochs", "2", "--latent", "8", "--augment", "square", "--quiet"]


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def _torchrun_train(out: Path, data: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """``gen-pyg train`` on two gloo processes, one house per step and process."""
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "gen_pyg.cli", "train", "--out", str(out), "--data", str(data),
         "--groups-per-step", "1", "--backend", "gloo", *args],
        capture_output=True, text=True, env=_env(), timeout=600)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
def test_two_processes_equal_one_process_with_twice_the_groups(tmp_path: Path) -> None:
    data = tmp_path / "data"
    one = subprocess.run(
        [sys.executable, "-m", "gen_pyg.cli", "train", "--out", str(tmp_path / "one"),
         "--data", str(data), "--groups-per-step", "2", *COMMON],
        capture_output=True, text=True, env=_env(), timeout=600)
    assert one.returncode == 0, one.stderr
    two = _torchrun_train(tmp_path / "two", data, COMMON)
    assert two.returncode == 0, two.stderr[-3000:]
    a = load_checkpoint(tmp_path / "one" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "two" / "checkpoint.pt")
    assert b["world_size"] == 2 and a["world_size"] == 1
    assert a["global_step"] == b["global_step"] == 2 * 2  # 4 training houses, 2 per step
    assert [r["train_mse"] for r in a["history"]] == pytest.approx(
        [r["train_mse"] for r in b["history"]], rel=1e-5)
    for k, v in a["model"].items():
        torch.testing.assert_close(b["model"][k], v, atol=1e-5, rtol=1e-4, msg=k)
    # resume under torchrun: the same command with one more epoch continues the run
    more = list(COMMON)
    more[more.index("--epochs") + 1] = "3"
    again = _torchrun_train(tmp_path / "two", data, more)
    assert again.returncode == 0, again.stderr[-3000:]
    c = load_checkpoint(tmp_path / "two" / "checkpoint.pt")
    assert c["epoch"] == 3 and c["global_step"] == 3 * 2
    assert c["history"][:2] == b["history"]
    # rank 0 alone wrote the run folder
    assert (tmp_path / "two" / "test_metrics.json").is_file()
    assert two.stdout.count("test RMSE") == 1
