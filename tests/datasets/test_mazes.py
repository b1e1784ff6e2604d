"""Mazes: the perfect-maze generator, the ray caster against the pinhole model, and the
dataset's supermazes, draws, cache and checks."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gen_pyg.datasets import Mazes
from gen_pyg.datasets._maze_render import (
    FLOOR,
    SKY,
    WALL,
    Scene,
    focal_length,
    free_blocks,
    generate_maze,
    render,
    supermaze,
)

SMALL: dict[str, Any] = {"num_mazes": 3, "views_per_maze": 12, "log": False}


def _corridor(length: int = 9) -> Scene:
    """A straight corridor along x: free blocks (1..length-2, 1), walls everywhere else."""
    walls = np.ones((length, 3), dtype=bool)
    walls[1:-1, 1] = False
    shape = walls.shape
    return Scene(walls, np.tile([1.0, 0.0, 0.0], (*shape, 1)),
                 np.tile([0.0, 1.0, 0.0], (*shape, 1)), np.ones(shape))


def _labels(scene: Scene, x: float, y: float, yaw: float, pitch: float = 0.0,
            z: float = 0.5) -> np.ndarray:
    out = render(scene, np.array([x]), np.array([y]), np.array([yaw]), np.array([pitch]), z=z,
                 return_labels=True)
    assert isinstance(out, tuple)
    labels: np.ndarray = out[1][0]
    return labels


@pytest.mark.parametrize("cells", [1, 2, 3, 6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generator_makes_a_perfect_maze(cells: int, seed: int) -> None:
    walls, edges = generate_maze(cells, np.random.default_rng(seed))
    n = cells * cells
    assert walls.shape == (2 * cells + 1,) * 2
    assert walls[0].all() and walls[-1].all() and walls[:, 0].all() and walls[:, -1].all()
    # a tree: cells - 1 passages, and every cell reached from cell 0 (union-find)
    assert edges.shape == (n - 1, 2)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b in edges.tolist():
        ra, rb = root(a), root(b)
        assert ra != rb  # no cycle
        parent[ra] = rb
    assert len({root(i) for i in range(n)}) == 1
    # the blocks: every cell and one block per passage are free, nothing else
    assert (~walls).sum() == n + (n - 1)
    for a, b in edges.tolist():
        (ia, ja), (ib, jb) = divmod(a, cells), divmod(b, cells)
        assert abs(ia - ib) + abs(ja - jb) == 1
        assert not walls[ia + ib + 1, ja + jb + 1]


@pytest.mark.parametrize(("x", "z"), [(7.5, 0.5), (6.0, 0.5), (3.0, 0.5), (5.2, 0.3)])
def test_wall_height_follows_the_pinhole_model(x: float, z: float) -> None:
    # facing +x down a corridor, the end wall (face x = 8) is at depth d = 8 - x; the centre
    # column's rows with centre v in [-f (1 - z) / d, f z / d) are wall
    labels = _labels(_corridor(), x, 1.5, yaw=0.0, z=z)
    f, d = focal_length(32, math.pi / 2), 8.0 - x
    assert f == pytest.approx(16.0)
    v = np.arange(32) + 0.5 - 16
    expected = (v >= -f * (1 - z) / d) & (v < f * z / d)
    column = labels[:, 16]
    np.testing.assert_array_equal(column == WALL, expected)
    assert abs(int((column == WALL).sum()) - f / d) <= 1.0  # the wall is f H / d rows tall
    # sky above, floor below
    top, bottom = np.flatnonzero(expected)[[0, -1]]
    assert (column[:top] == SKY).all() and (column[bottom + 1:] == FLOOR).all()


def test_facing_the_other_way_sees_the_other_end() -> None:
    labels = _labels(_corridor(), 3.0, 1.5, yaw=math.pi)  # the face x = 1 at depth 2
    assert (labels[:, 16] == WALL).sum() == 8  # f H / d = 16 / 2 rows


def test_same_pose_same_image_and_a_full_turn_changes_nothing() -> None:
    rng = np.random.default_rng(3)
    scene = supermaze(2, 3, rng)
    free = free_blocks(scene.walls)
    pick = free[rng.integers(len(free), size=6)]
    x = (pick[:, 0] + rng.uniform(0.2, 0.8, 6)).astype(np.float64)
    y = (pick[:, 1] + rng.uniform(0.2, 0.8, 6)).astype(np.float64)
    yaw, pitch = rng.uniform(0, 2 * math.pi, 6), rng.uniform(-0.3, 0.3, 6)
    first = render(scene, x, y, yaw, pitch)
    assert isinstance(first, np.ndarray) and first.shape == (6, 3, 32, 32)
    assert first.dtype == np.uint8
    np.testing.assert_array_equal(first, render(scene, x, y, yaw, pitch))
    np.testing.assert_array_equal(first, render(scene, x, y, yaw + 2 * math.pi, pitch))
    np.testing.assert_array_equal(first, render(scene, x, y, yaw - 4 * math.pi, pitch))
    assert not np.array_equal(first, render(scene, x, y, yaw + 0.5, pitch))


@pytest.mark.parametrize("rows", [3, -5])
def test_pitch_moves_the_horizon_by_f_tan_pitch(rows: int) -> None:
    rng = np.random.default_rng(4)
    scene = supermaze(1, 3, rng)
    free = free_blocks(scene.walls)
    pick = free[rng.integers(len(free), size=4)]
    x, y = (pick + 0.5).T.astype(np.float64)
    yaw = rng.uniform(0, 2 * math.pi, 4)
    f = focal_length(32, math.pi / 2)
    level = render(scene, x, y, yaw, np.zeros(4), return_labels=True)
    tilted = render(scene, x, y, yaw, np.full(4, math.atan(rows / f)), return_labels=True)
    assert isinstance(level, tuple) and isinstance(tilted, tuple)
    # looking up by atan(k / f) moves everything k rows down
    keep = slice(None, 32 - rows) if rows > 0 else slice(-rows, None)
    moved = slice(rows, None) if rows > 0 else slice(None, 32 + rows)
    np.testing.assert_array_equal(tilted[1][:, moved], level[1][:, keep])
    diff = np.abs(tilted[0][:, :, moved].astype(int) - level[0][:, :, keep].astype(int))
    assert diff.max() <= 1


def test_mazes_get_their_own_colours() -> None:
    rng = np.random.default_rng(5)
    scene = supermaze(2, 2, rng)
    b = 5
    colours = {tuple(np.round(scene.floor_color[a * b:(a + 1) * b, c * b:(c + 1) * b]
                              .reshape(-1, 3).mean(0), 6)) for a in range(2) for c in range(2)}
    assert len(colours) == 4


def test_dataset_examples_and_supermaze_positions(tmp_path: Path) -> None:
    ds = Mazes(tmp_path, "test", m=[1, 2, 3], **SMALL)
    assert len(ds) == 3
    scale = 1.0 / (5 * 7)  # area 5 mazes of 7 blocks
    for i, m in enumerate([1, 2, 3]):
        data = ds[i]
        p, q = 8 * m * m, m * m
        assert data.input_img.shape == (p, 3, 32, 32) and data.input_img.dtype == torch.uint8
        assert data.query_img.shape == (q, 3, 32, 32)
        assert data.input_pose.shape == (p, 7) and data.query_pose.shape == (q, 7)
        torch.testing.assert_close(data.input_pos, data.input_pose[:, :2])
        assert int(data.m) == m and data.pos.shape == ((4 * m + 1) ** 2, 2)
        lo, hi = data.grid_lo[0], data.grid_hi[0]
        torch.testing.assert_close(hi - lo, torch.full((2,), m * 7 * scale))
        torch.testing.assert_close(lo, data.offset[0])
        # the supermaze lies in the fixed area and every camera inside its own maze
        assert (lo >= 0).all() and (hi <= 1 + 1e-6).all()
        for pos, maze in ((data.input_pos, data.input_maze), (data.query_pos, data.query_maze)):
            cell = torch.floor((pos - lo) / (7 * scale)).long()
            torch.testing.assert_close(cell[:, 0] * m + cell[:, 1], maze)
        assert torch.bincount(data.input_maze, minlength=m * m).tolist() == [8] * (m * m)
        # unit yaw and pitch vectors, camera height 0.5
        pose = data.input_pose
        torch.testing.assert_close(pose[:, 3] ** 2 + pose[:, 4] ** 2, torch.ones(p))
        torch.testing.assert_close(pose[:, 2], torch.full((p,), 0.5))


def test_draws_fixed_for_evaluation_fresh_for_training(tmp_path: Path) -> None:
    test = Mazes(tmp_path, "test", **SMALL)
    a, b = test[0], test[0]
    assert torch.equal(a.input_img, b.input_img) and torch.equal(a.query_pose, b.query_pose)
    train = Mazes(tmp_path, "train", **SMALL)
    draws = [train[0].input_pose for _ in range(3)]
    assert not all(torch.equal(draws[0], d) for d in draws[1:])
    # the query is never one of the context views
    for data in (a, train[1]):
        assert not (data.query_pose[:, None] == data.input_pose[None]).all(-1).any()
    # train and test are different mazes
    assert not torch.equal(train.get_bank(0).view_img, test.get_bank(0).view_img)


def test_cached_data_are_reloaded(tmp_path: Path) -> None:
    first = Mazes(tmp_path, "val", **SMALL)
    files = sorted((tmp_path / "processed").glob("mazes_val_m1_*.pt"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    again = Mazes(tmp_path, "val", **SMALL)
    assert files[0].stat().st_mtime_ns == mtime
    assert torch.equal(first[2].query_img, again[2].query_img)
    assert repr(again) == "Mazes(3, split='val', m=[1], views_per_maze=12)"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"split": "all"}, "'split'"),
        ({"m": 6}, "'m' = 6"),
        ({"m": []}, "'m'"),
        ({"m": [1, 0]}, "'m'"),
        ({"num_mazes": 0}, "'num_mazes'"),
        ({"num_context": 12}, "'num_context' \\+ 'num_queries'"),
        ({"image_size": 4}, "'image_size'"),
        ({"fov": 4.0}, "'fov'"),
        ({"pitch_range": -0.1}, "'pitch_range'"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Mazes(tmp_path, **{**SMALL, **kwargs})
    with pytest.raises(TypeError, match="'resample'"):
        Mazes(tmp_path, resample=1, **SMALL)  # type: ignore[arg-type]
