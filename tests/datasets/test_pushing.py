"""The pushing dataset: example layout, splits by object, noise, raw round trip, GEN smoke."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from gen_pyg.datasets import (
    Pushing,
    generate_pushing_record,
    read_pushing_raw,
    write_pushing_raw,
)
from gen_pyg.solvers import PushingPhysics

FAST = PushingPhysics(resolution=40, step=0.1)
SIZES = {"num_objects": 4, "pushes_per_object": 5, "num_test_objects": 1, "physics": FAST,
         "log": False}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pushing")


def test_examples_hold_picture_samples_and_the_push(root: Path) -> None:
    ds = Pushing(root, split="all", **SIZES)  # type: ignore[arg-type]
    assert len(ds) == 20
    data = ds[7]
    assert data.input_pos.shape == (65, 2) and data.input_x.shape == (65, 4)
    assert data.input_fn.tolist() == [0] * 64 + [1]
    assert data.y.shape == (1, 3) and data.object.tolist() == [1] and data.push.tolist() == [2]
    rec = ds.record(1)
    # the samples' one-hot classes are the picture's pixels under them
    assert torch.all(data.input_x[:64].sum(1) == 1)
    col = (data.input_pos[:64, 0].double() * 40).long().clamp(max=39)
    row = (data.input_pos[:64, 1].double() * 40).long().clamp(max=39)
    assert data.input_x[:64].argmax(1).tolist() == rec.picture[row, col].tolist()
    # the push: start mapped from the 20 cm box to [0, 1], displacement in cm
    box_start = (rec.push_start[2] + 10.0) / 20.0
    assert data.input_pos[64].tolist() == pytest.approx(box_start.tolist(), abs=1e-6)
    assert data.input_x[64, :2].tolist() == pytest.approx(rec.push_displacement[2].tolist())
    assert data.input_x[64, 2:].tolist() == [0.0, 0.0]
    assert float(data.input_x[64, :2].norm()) == pytest.approx(5.0)
    # noise-free targets are the simulator's, and simulate() reproduces them
    assert data.y[0].tolist() == pytest.approx(rec.pose_change[2].tolist(), abs=1e-6)
    assert ds.simulate(7)[0].tolist() == pytest.approx(data.y[0].tolist(), abs=1e-6)


def test_splits_are_by_object(root: Path) -> None:
    train = Pushing(root, split="train", **SIZES)  # type: ignore[arg-type]
    test = Pushing(root, split="test", **SIZES)  # type: ignore[arg-type]
    train_ids = {int(d.object) for d in train}
    test_ids = {int(d.object) for d in test}
    assert train_ids == set(train.objects) and test_ids == set(test.objects)
    assert len(test_ids) == 1 and not train_ids & test_ids
    assert len(train) == 15 and len(test) == 5


def test_noise_has_the_stated_std(root: Path) -> None:
    clean = Pushing(root, split="all", **{**SIZES, "pushes_per_object": 40})  # type: ignore[arg-type]
    noisy = Pushing(root, split="all", noise=(0.1, 0.02),
                    **{**SIZES, "pushes_per_object": 40})  # type: ignore[arg-type]
    diff = (noisy.y - clean.y).double()
    assert diff[:, :2].std().item() == pytest.approx(0.1, rel=0.15)
    assert diff[:, 2].std().item() == pytest.approx(0.02, rel=0.15)
    # the picture samples do not depend on the noise
    assert torch.equal(noisy[3].input_pos, clean[3].input_pos)


def test_raw_round_trip_and_user_records(tmp_path: Path) -> None:
    rec = generate_pushing_record(np.random.default_rng(5), 6, FAST)
    write_pushing_raw(rec, tmp_path / "sim" / "object_000.npz")
    back = read_pushing_raw(tmp_path / "sim" / "object_000.npz")
    for name in ("picture", "box", "push_start", "push_displacement", "pose_change"):
        assert np.array_equal(getattr(back, name), getattr(rec, name))
    assert back.obj is not None and rec.obj is not None
    assert np.array_equal(back.obj.polygon, rec.obj.polygon)
    assert back.obj.physics == FAST
    # real data: pictures and pushes only, no shape to re-simulate
    real = tmp_path / "real"
    for i in range(2):
        write_pushing_raw(dataclasses.replace(rec.select([i, i + 2]), obj=None),
                          real / f"object_{i:03d}.npz")
    ds = Pushing(tmp_path / "root", split="all", raw_dir=real, num_test_objects=1, log=False)
    assert len(ds) == 4 and ds[3].y[0].tolist() == pytest.approx(
        rec.pose_change[3].tolist(), abs=1e-6)
    with pytest.raises(ValueError, match="no shape description"):
        ds.simulate(0)


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'split'"):
        Pushing(tmp_path, split="dev", **SIZES)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'noise'"):
        Pushing(tmp_path, noise=-1.0, **SIZES)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'num_test_objects'"):
        Pushing(tmp_path, **{**SIZES, "num_test_objects": 5})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'num_samples'"):
        Pushing(tmp_path, num_samples=0, **SIZES)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="'raw_dir'"):
        Pushing(tmp_path, raw_dir=tmp_path, log=False)


def test_gen_reads_a_batch_of_pushes(root: Path) -> None:
    from gen_pyg.mesh import AttachMesh, grid
    from gen_pyg.nn import GEN

    ds = Pushing(root, split="all", transform=AttachMesh(grid(2)), **SIZES)  # type: ignore[arg-type]
    batch = next(iter(DataLoader(ds, batch_size=4, follow_batch=["input_pos"])))
    model = GEN.paper(in_channels=[4, 2], out_channels=3, readout="sum")
    assert model(batch).shape == (4, 3)


def test_split_errors_name_the_object_arguments(tmp_path: Path) -> None:
    # the object split is the house split's code, its messages in the dataset's own words
    with pytest.raises(ValueError, match=r"split='train' would select no object: "
                                         r"'num_test_objects' \+ 'num_val_objects' = 3 takes "
                                         r"all 'num_objects' = 3"):
        Pushing(str(tmp_path), "train", num_objects=3, num_test_objects=3, log=False)
    with pytest.raises(ValueError, match=r"'num_test_objects' \+ 'num_val_objects' = 5 exceeds "
                                         r"'num_objects' = 3"):
        Pushing(str(tmp_path), "test", num_objects=3, num_test_objects=4, num_val_objects=1,
                log=False)
    assert not any(tmp_path.iterdir())  # refused before any generation
