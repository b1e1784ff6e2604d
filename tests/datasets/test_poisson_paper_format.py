"""The authors' Poisson file format: writing, reading back, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gen_pyg.datasets import (
    PoissonHouse,
    PoissonSquare,
    generate_poisson_houses,
    poisson_paper_file_names,
    read_poisson_paper_format,
    write_poisson_paper_format,
)
from gen_pyg.datasets.poisson_paper_format import count_paper_houses


@pytest.fixture(scope="module")
def houses() -> list[PoissonHouse]:
    return generate_poisson_houses(3, seed=1, num_scenarios=4, num_queries=6, n=21)


def test_round_trip(houses: list[PoissonHouse], tmp_path: Path) -> None:
    written = write_poisson_paper_format(houses, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        name for i in range(3) for name in poisson_paper_file_names(i)
    )
    back = read_poisson_paper_format(tmp_path)
    assert len(back) == 3
    for a, b in zip(houses, back, strict=True):
        for field in ("boxes", "heat", "exterior_temp", "query_pos", "y"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_files_have_the_authors_layout(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses[:1], tmp_path, first_house=5)
    desc = json.loads((tmp_path / "desc_5.json").read_text())
    assert len(desc) == 4 and set(desc[0]) == {"boxes", "unnorm_boxes", "exterior_temp"}
    box, scaled = desc[2]["boxes"][0], desc[2]["unnorm_boxes"][0]
    assert box[:4] == scaled[:4] and scaled[4] == pytest.approx(box[4] / 768)
    assert box[4] == houses[0].heat[2, 0] and desc[2]["exterior_temp"] == houses[0].exterior_temp[2]
    x, y = np.load(tmp_path / "5-X.npy"), np.load(tmp_path / "5-y.npy")
    assert x.dtype == np.float64 and x.shape == (4, 6, 2)
    assert y.dtype == np.float64 and y.shape == (4, 6, 1)


def test_reads_selected_houses(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses, tmp_path)
    (only,) = read_poisson_paper_format(tmp_path, [2])
    np.testing.assert_array_equal(only.y, houses[2].y)


def test_missing_file_is_named(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses, tmp_path)
    (tmp_path / "1-y.npy").unlink()
    with pytest.raises(FileNotFoundError, match=r"1-y\.npy"):
        read_poisson_paper_format(tmp_path)


def test_truncated_npy_is_named(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses, tmp_path)
    path = tmp_path / "2-X.npy"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match=r"2-X\.npy is truncated"):
        read_poisson_paper_format(tmp_path)


def test_truncated_json_is_named(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses, tmp_path)
    path = tmp_path / "desc_0.json"
    path.write_text(path.read_text()[:50])
    with pytest.raises(ValueError, match=r"desc_0\.json is truncated"):
        read_poisson_paper_format(tmp_path)


def test_wrong_shape_is_named(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses, tmp_path)
    np.save(tmp_path / "0-y.npy", np.zeros((4, 6)))
    with pytest.raises(ValueError, match=r"0-y\.npy has shape \(4, 6\)"):
        read_poisson_paper_format(tmp_path)


def test_query_positions_outside_the_house_are_refused(houses: list[PoissonHouse],
                                                       tmp_path: Path) -> None:
    write_poisson_paper_format(houses, tmp_path)
    x = np.load(tmp_path / "0-X.npy")
    x[1, 3] = [0.5, 7.0]  # far outside the unit square
    np.save(tmp_path / "0-X.npy", x)
    with pytest.raises(ValueError, match=r"0-X\.npy: query positions must lie in the unit "
                                         r"square.*\[0\.5, 7\.0\] at scenario 1, query 3"):
        read_poisson_paper_format(tmp_path)


def test_malformed_descriptions_are_named(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses, tmp_path)
    path = tmp_path / "desc_1.json"
    desc = json.loads(path.read_text())
    desc[3]["boxes"][0][0] += 0.01
    path.write_text(json.dumps(desc))
    with pytest.raises(ValueError, match=r"desc_1\.json: scenario 3 has other boxes"):
        read_poisson_paper_format(tmp_path)
    del desc[3]["exterior_temp"]
    path.write_text(json.dumps(desc))
    with pytest.raises(ValueError, match=r"desc_1\.json: scenario 3 must be a dict"):
        read_poisson_paper_format(tmp_path)


def test_folder_not_in_the_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not in the GEN Poisson format"):
        read_poisson_paper_format(tmp_path)
    with pytest.raises(FileNotFoundError, match="'folder'"):
        read_poisson_paper_format(tmp_path / "nowhere")


def test_unsolved_houses_cannot_be_written(tmp_path: Path) -> None:
    house = PoissonHouse(
        np.array([[0.1, 0.1, 0.2, 0.2]]), np.ones((1, 1)), np.zeros(1), np.zeros((1, 2, 2))
    )
    with pytest.raises(ValueError, match=r"'houses\[0\]' has no solution"):
        write_poisson_paper_format([house], tmp_path)


def test_poisson_square_counts_the_houses_in_the_folder(
    houses: list[PoissonHouse], tmp_path: Path
) -> None:
    write_poisson_paper_format(houses, tmp_path / "raw")
    ds = PoissonSquare(tmp_path, "all", source="paper", log=False)
    assert ds.num_houses == 3 and len(ds) == 3 * 4
    assert sorted({int(d.house) for d in ds}) == [0, 1, 2]
    test = PoissonSquare(tmp_path, "test", source="paper", num_test_houses=1, log=False)
    assert len(test.houses) == 1  # the split is drawn over the 3 houses found


def test_poisson_square_count_refuses_a_gap(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses, tmp_path / "raw")
    (tmp_path / "raw" / "desc_1.json").unlink()
    with pytest.raises(ValueError, match=r"misses desc_1\.json.*num_houses"):
        PoissonSquare(tmp_path, "all", source="paper", log=False)


def test_poisson_square_count_of_an_empty_folder_names_num_houses(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    with pytest.raises(FileNotFoundError, match=r"desc_<i>\.json.*num_houses"):
        PoissonSquare(tmp_path, "all", source="paper", log=False)
    with pytest.raises(FileNotFoundError, match="num_houses"):  # no raw folder at all
        PoissonSquare(tmp_path / "elsewhere", "all", source="paper", log=False)


def test_count_paper_houses(houses: list[PoissonHouse], tmp_path: Path) -> None:
    write_poisson_paper_format(houses[:2], tmp_path, first_house=0)
    assert count_paper_houses(tmp_path) == 2
    write_poisson_paper_format(houses[2:], tmp_path, first_house=2)
    (tmp_path / "notes.txt").write_text("not a house")
    assert count_paper_houses(tmp_path) == 3


def test_generated_poisson_square_keeps_250_houses_by_default(tmp_path: Path) -> None:
    ds = PoissonSquare(tmp_path, "all", num_scenarios=1, num_queries=2, n=5, log=False)
    assert ds.num_houses == 250 and len(ds) == 250
