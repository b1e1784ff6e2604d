"""`gen-pyg spring` runs the whole workflow and writes figures and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gen_pyg.cli import main


def test_cli_spring_writes_metrics_and_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(["spring", "--epochs", "2", "--num-train", "128", "--num-test", "32",
                 "--steps", "30", "--chains", "2", "--quiet", "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["rollout"]) == {"3", "10", "100"}
    for name in ("positions.png", "positions_10.png", "positions_100.png", "errors.png"):
        assert (out / name).stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "RMSE vs Euler" in printed and str(out) in printed
    assert metrics["rollout"]["3"]["integrator_rmse"] > 0
