"""Spring rollout figures are drawn, saved, and reject mismatched curves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gen_pyg.viz import plot_spring_errors, plot_spring_positions


def test_positions_figure_draws_two_lines_per_mass(tmp_path: Path) -> None:
    t = torch.linspace(0, 5, 501)
    true = torch.stack([torch.cos(t), torch.sin(t), -torch.cos(t)])
    fig = plot_spring_positions(t, true + 0.01, true, path=tmp_path / "pos.png")
    assert len(fig.axes[0].lines) == 6
    assert (tmp_path / "pos.png").stat().st_size > 1000


def test_positions_figure_subsamples_long_chains() -> None:
    t = torch.linspace(0, 1, 11)
    fig = plot_spring_positions(t, torch.zeros(100, 11), torch.zeros(100, 11), max_masses=4)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels[::2] == ["true, mass 0", "true, mass 33", "true, mass 66", "true, mass 99"]


def test_error_figure(tmp_path: Path) -> None:
    t = torch.linspace(0, 5, 51)
    fig = plot_spring_errors(t, {"model": 1e-3 * t, "integrator": 1e-4 * t},
                             {"exact": torch.ones(51)}, path=tmp_path / "err.png")
    assert [len(ax.lines) for ax in fig.axes] == [2, 1]
    assert fig.axes[0].get_yscale() == "log"
    assert (tmp_path / "err.png").exists()


def test_mismatched_shapes_are_rejected() -> None:
    t = torch.linspace(0, 1, 11)
    with pytest.raises(ValueError, match="predicted"):
        plot_spring_positions(t, torch.zeros(3, 10), torch.zeros(3, 11))
    with pytest.raises(ValueError, match="errors"):
        plot_spring_errors(t, {"model": torch.zeros(5)}, {})
    with pytest.raises(TypeError, match="times"):
        plot_spring_positions([0.0, 1.0], torch.zeros(3, 2), torch.zeros(3, 2))  # type: ignore[arg-type]
