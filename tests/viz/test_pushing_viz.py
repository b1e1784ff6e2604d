"""The pushing figure: one panel per object, true and predicted outlines, a PNG on disk."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from gen_pyg.datasets import generate_pushing_record
from gen_pyg.solvers import PushingPhysics
from gen_pyg.viz import plot_pushes

FAST = PushingPhysics(resolution=40, step=0.1)


def test_figure_has_one_axes_per_object_and_is_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    records = [generate_pushing_record(rng, 2, FAST) for _ in range(3)]
    examples = [records[0].select([0]), records[1].select([1]), records[2]]  # 4 pushes
    fig = plot_pushes(examples, torch.zeros(4, 3), path=tmp_path / "pushes.png", columns=2)
    assert len(fig.axes) == 3
    # one outline per push, true (solid) and predicted (dashed); the last panel has two pushes
    styles = [[line.get_linestyle() for line in ax.lines] for ax in fig.axes]
    assert styles == [["-", "--"], ["-", "--"], ["-", "--", "-", "--"]]
    # a zero prediction draws the outline where it started
    polygon = examples[0].obj.polygon  # type: ignore[union-attr]
    assert np.allclose(fig.axes[0].lines[1].get_xydata()[:-1], polygon)
    assert (tmp_path / "pushes.png").stat().st_size > 1000


def test_records_without_shape_use_the_picture_contour() -> None:
    rec = generate_pushing_record(np.random.default_rng(1), 1, FAST)
    fig = plot_pushes([dataclasses.replace(rec, obj=None)])
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) >= 1


def test_bad_input_is_named() -> None:
    rec = generate_pushing_record(np.random.default_rng(2), 1, FAST)
    with pytest.raises(ValueError, match="'predictions'"):
        plot_pushes([rec], np.zeros((2, 3)))
    with pytest.raises(TypeError, match="'examples'"):
        plot_pushes([])
