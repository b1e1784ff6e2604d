"""The package imports, reports its environment, and its compiled dependencies work."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch

import gen_pyg
from gen_pyg.cli import main


def test_version_is_semver() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", gen_pyg.__version__)


def test_installed_metadata_matches_version() -> None:
    from importlib import metadata

    assert metadata.version("gen_pyg") == gen_pyg.__version__


def test_environment_report_names_dependencies() -> None:
    report = gen_pyg.environment_report()
    for key in ("gen_pyg", "python", "torch", "torch_geometric", "torch_scatter", "torch_cluster"):
        assert key in report
    assert report["torch"] == torch.__version__
    assert report["torch_cluster"] != "not installed"


def test_torch_cluster_knn_matches_brute_force() -> None:
    import torch_cluster

    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    y = torch.tensor([[0.9, 0.1], [4.0, 4.0]])
    assign = torch_cluster.knn(x, y, k=1)
    # y[0] is closest to x[1]; y[1] is closest to x[3].
    assert assign.tolist() == [[0, 1], [1, 3]]


def test_torch_scatter_sum() -> None:
    import torch_scatter

    src = torch.tensor([1.0, 2.0, 3.0, 4.0])
    index = torch.tensor([0, 1, 0, 1])
    assert torch_scatter.scatter(src, index, reduce="sum").tolist() == [4.0, 6.0]


def test_cuda_absence_is_reported_not_raised() -> None:
    report = gen_pyg.environment_report()
    if torch.cuda.is_available():
        assert "device" in report["cuda"]
    else:
        assert report["cuda"].startswith("not available")


def test_cli_env_prints_versions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert "torch_geometric" in out and gen_pyg.__version__ in out


def test_cli_rejects_unknown_command() -> None:
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gen_pyg.cli", "env"], capture_output=True, text=True, check=True
    )
    assert "gen_pyg" in proc.stdout
