"""PoissonSquare: contents, batching, caching, splits by house, the paper's files."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from gen_pyg.datasets import PoissonSquare, generate_poisson_houses, write_poisson_paper_format

SMALL: dict[str, Any] = {"num_houses": 4, "num_scenarios": 3, "num_queries": 10, "n": 21}


def _make(root: Path, split: str = "all", **kwargs: Any) -> PoissonSquare:
    return PoissonSquare(root, split, **{**SMALL, "log": False, **kwargs})


def test_contents_match_the_generator(tmp_path: Path) -> None:
    ds = _make(tmp_path)
    assert len(ds) == 12
    houses = generate_poisson_houses(4, num_scenarios=3, num_queries=10, n=21)
    data = ds[5]  # house 1, scenario 2
    assert int(data.house) == 1 and int(data.scenario) == 2
    house = houses[1]
    assert data.input_pos.shape == (64, 2) and data.input_pos.dtype == torch.float32
    assert data.input_x.shape == (64, 1) and data.input_x.dtype == torch.float32
    assert data.input_fn.dtype == torch.long
    assert data.query_pos.shape == (10, 2) and data.y.shape == (10, 1)
    assert data.y.dtype == torch.float32
    assert "pos" not in data and "edge_index" not in data
    k = house.num_boxes
    assert int((data.input_fn == 0).sum()) == 9 * k
    heater_values = np.repeat(house.heat[2] / 768, 9)
    np.testing.assert_allclose(data.input_x[: 9 * k, 0], heater_values, rtol=1e-6)
    np.testing.assert_allclose(data.input_x[9 * k :, 0], house.exterior_temp[2], rtol=1e-6)
    np.testing.assert_allclose(data.query_pos, house.query_pos[2], rtol=1e-6)
    assert house.y is not None
    np.testing.assert_allclose(data.y[:, 0], house.y[2], rtol=1e-5, atol=1e-6)


def test_dataloader_batches_without_warnings(tmp_path: Path) -> None:
    ds = _make(tmp_path)
    loader = DataLoader(ds, batch_size=5, follow_batch=["input_pos", "query_pos"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = next(iter(loader))
    assert batch.num_graphs == 5
    assert batch.input_pos.shape == (5 * 64, 2) and batch.y.shape == (50, 1)
    torch.testing.assert_close(batch.input_pos_batch, torch.arange(5).repeat_interleave(64))
    torch.testing.assert_close(batch.query_pos_batch, torch.arange(5).repeat_interleave(10))
    assert batch.house.tolist() == [0, 0, 0, 1, 1] and batch.scenario.tolist() == [0, 1, 2, 0, 1]
    assert batch.input_fn.shape == (320,) and set(batch.input_fn.tolist()) == {0, 1}


def test_processed_files_are_cached_and_keyed_by_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _make(tmp_path)

    def fail(self: PoissonSquare) -> None:
        raise RuntimeError("process called")

    monkeypatch.setattr(PoissonSquare, "process", fail)
    again = _make(tmp_path)  # same parameters: read from the cache
    torch.testing.assert_close(again[3].y, first[3].y)
    _make(tmp_path, split="test", num_test_houses=1)  # a split does not regenerate
    with pytest.raises(RuntimeError, match="process called"):
        _make(tmp_path, seed=1)
    with pytest.raises(RuntimeError, match="process called"):
        _make(tmp_path, n=31)
    monkeypatch.undo()
    other = _make(tmp_path, seed=1)
    assert not torch.equal(other[0].y, first[0].y)
    assert len(list((tmp_path / "processed").glob("poisson_square_generate_*.pt"))) == 2


def test_splits_are_by_house(tmp_path: Path) -> None:
    params: dict[str, Any] = {"num_test_houses": 1, "num_val_houses": 1, "split_seed": 3}
    parts = {s: _make(tmp_path, s, **params) for s in ("train", "val", "test")}
    houses = {s: {int(d.house) for d in ds} for s, ds in parts.items()}
    assert [len(houses[s]) for s in ("train", "val", "test")] == [2, 1, 1]
    assert set.union(*houses.values()) == {0, 1, 2, 3}
    assert not houses["train"] & houses["test"] and not houses["train"] & houses["val"]
    assert houses["test"] == set(parts["test"].houses)
    assert len(parts["train"]) == 6
    again = _make(tmp_path, "test", **params)
    assert {int(d.house) for d in again} == houses["test"]
    explicit = _make(tmp_path, houses=[3, 0])
    assert sorted({int(d.house) for d in explicit}) == [0, 3] and len(explicit) == 6


def test_transforms_and_filter(tmp_path: Path) -> None:
    def mark(data: Data) -> Data:
        data.marked = torch.ones(1)
        return data

    ds = _make(
        tmp_path,
        pre_transform=mark,
        pre_filter=lambda d: int(d.scenario) == 0,
        transform=lambda d: Data(**{**d.to_dict(), "seen": torch.zeros(1)}),
    )
    assert len(ds) == 4
    assert all(int(d.scenario) == 0 and "marked" in d and "seen" in d for d in ds)
    test = _make(
        tmp_path,
        "test",
        num_test_houses=2,
        pre_transform=mark,
        pre_filter=lambda d: int(d.scenario) == 0,
    )
    assert len(test) == 2 and all("marked" in d for d in test)


def test_reads_the_paper_format(tmp_path: Path) -> None:
    houses = generate_poisson_houses(3, seed=2, num_scenarios=2, num_queries=7, n=21)
    write_poisson_paper_format(houses, tmp_path / "raw")
    ds = PoissonSquare(tmp_path, "all", source="paper", num_houses=3, log=False)
    assert len(ds) == 6
    for data in ds:
        house = houses[int(data.house)]
        assert house.y is not None
        np.testing.assert_allclose(data.y[:, 0], house.y[int(data.scenario)], rtol=1e-6)
        np.testing.assert_allclose(data.query_pos, house.query_pos[int(data.scenario)])
    assert data.query_pos.shape == (7, 2)


def test_missing_paper_files_are_named_and_not_downloaded(tmp_path: Path) -> None:
    houses = generate_poisson_houses(2, num_scenarios=2, num_queries=3, n=21)
    write_poisson_paper_format(houses, tmp_path / "raw")
    (tmp_path / "raw" / "1-X.npy").unlink()
    with pytest.raises(FileNotFoundError, match=r"1-X\.npy"):
        PoissonSquare(tmp_path, "all", source="paper", num_houses=2, log=False)


def test_truncated_paper_file_is_named(tmp_path: Path) -> None:
    houses = generate_poisson_houses(2, num_scenarios=2, num_queries=3, n=21)
    write_poisson_paper_format(houses, tmp_path / "raw")
    path = tmp_path / "raw" / "0-y.npy"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(ValueError, match=r"0-y\.npy is truncated"):
        PoissonSquare(tmp_path, "all", source="paper", num_houses=2, log=False)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_houses": -1}, "'num_houses'"),
        ({"num_scenarios": 0}, "'num_scenarios'"),
        ({"n": 2}, "'n'"),
        ({"num_inputs": 36}, "'num_inputs'"),
        ({"seed": -1}, "'seed'"),
        ({"source": "web"}, "'source'"),
        ({"split": "dev"}, "'split'"),
        ({"num_test_houses": 5}, "exceeds 'num_houses'"),
        ({"houses": [0, 4]}, "'houses'"),
        ({"split": "train", "houses": [0]}, "either 'houses' or 'split'"),
    ],
)
def test_bad_parameters(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    args = {**SMALL, "split": "all", "log": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        PoissonSquare(tmp_path, **args)


def test_repr(tmp_path: Path) -> None:
    ds = _make(tmp_path, "test", num_test_houses=1)
    assert repr(ds) == "PoissonSquare(3, split='test', source='generate', houses=1)"
