"""Reader and writer of the file format of the GEN authors' Poisson data.

The authors' repository (``FerranAlet/graph_element_networks``, folder ``data/poisson_inp``)
stores house ``i`` as three files:

- ``desc_i.json``: a list with one dict per scenario, ``{"boxes": [[lx, ly, Lx, Ly, h], ...],
  "unnorm_boxes": [[lx, ly, Lx, Ly, h / 768], ...], "exterior_temp": T}``;
- ``i-X.npy``: float64 query positions, shape ``[S, Q, 2]``;
- ``i-y.npy``: float64 temperatures at those positions, shape ``[S, Q, 1]``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gen_pyg.datasets.poisson_house import HEAT_SCALE, PoissonHouse

_DESC = re.compile(r"desc_(\d+)\.json")


def poisson_paper_file_names(house: int) -> tuple[str, str, str]:
    """The three file names of house ``house``: ``desc_i.json``, ``i-X.npy``, ``i-y.npy``.

    Example:
        >>> poisson_paper_file_names(7)
        ('desc_7.json', '7-X.npy', '7-y.npy')
    """
    return f"desc_{house}.json", f"{house}-X.npy", f"{house}-y.npy"


def write_poisson_paper_format(
    houses: Sequence[PoissonHouse], folder: str | os.PathLike[str], first_house: int = 0
) -> list[Path]:
    """Writes solved houses in the authors' file format (see the module docstring).

    Args:
        houses (list of PoissonHouse): Houses with ``y`` filled in.
        folder (str or Path): Target folder; created if missing.
        first_house (int, optional): File index of ``houses[0]``. (default: ``0``)

    Returns:
        The paths written, three per house.

    Example:
        >>> import tempfile
        >>> from gen_pyg.datasets import generate_poisson_houses
        >>> houses = generate_poisson_houses(2, num_scenarios=3, num_queries=4, n=21)
        >>> folder = tempfile.mkdtemp()
        >>> [p.name for p in write_poisson_paper_format(houses, folder)][:3]
        ['desc_0.json', '0-X.npy', '0-y.npy']
        >>> read_poisson_paper_format(folder)[1].y.shape
        (3, 4)
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for offset, house in enumerate(houses):
        if house.y is None:
            raise ValueError(f"'houses[{offset}]' has no solution 'y'; solve it before writing")
        desc_name, x_name, y_name = poisson_paper_file_names(first_house + offset)
        geometry = house.boxes.tolist()
        desc = [
            {
                "boxes": [[*box, float(h)] for box, h in zip(geometry, heat, strict=True)],
                "unnorm_boxes": [
                    [*box, float(h) / HEAT_SCALE] for box, h in zip(geometry, heat, strict=True)
                ],
                "exterior_temp": float(temp),
            }
            for heat, temp in zip(house.heat, house.exterior_temp, strict=True)
        ]
        (out / desc_name).write_text(json.dumps(desc))
        np.save(out / x_name, house.query_pos.astype(np.float64))
        np.save(out / y_name, house.y.astype(np.float64)[..., None])
        written += [out / desc_name, out / x_name, out / y_name]
    return written


def read_poisson_paper_format(
    folder: str | os.PathLike[str], houses: Iterable[int] | None = None
) -> list[PoissonHouse]:
    """Reads houses stored in the authors' file format.

    Args:
        folder (str or Path): Folder holding ``desc_i.json``, ``i-X.npy`` and ``i-y.npy``.
        houses (iterable of int, optional): House indices to read; ``None`` reads every
            ``desc_i.json`` of the folder in increasing ``i``. (default: ``None``)

    Returns:
        A list of :class:`~gen_pyg.datasets.PoissonHouse` with ``y`` filled in.

    Raises:
        FileNotFoundError: if the folder or a file is missing (the message names it).
        ValueError: if a file is truncated, malformed or inconsistent (the message names it).
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"'folder' {str(root)!r} is not a directory")
    if houses is None:
        found = sorted(
            int(m.group(1)) for p in root.iterdir() if (m := _DESC.fullmatch(p.name)) is not None
        )
        if not found:
            raise ValueError(
                f"folder {str(root)!r} is not in the GEN Poisson format: it holds no "
                "'desc_<i>.json' file"
            )
        houses = found
    return [_read_house(root, int(i)) for i in houses]


def count_paper_houses(folder: str | os.PathLike[str]) -> int:
    """How many houses a folder in the authors' format holds: ``desc_0.json`` up to
    ``desc_{N-1}.json`` without a gap (their ``.npy`` files are checked when read).

    Raises:
        FileNotFoundError: if the folder is missing or holds no ``desc_<i>.json`` file.
        ValueError: if the numbering has a gap (the message names the first missing file).
    """
    root = Path(folder)
    found = (
        {int(m.group(1)) for p in root.iterdir() if (m := _DESC.fullmatch(p.name)) is not None}
        if root.is_dir()
        else set()
    )
    if not found:
        raise FileNotFoundError(
            f"no 'desc_<i>.json' file in {str(root)!r} to count the houses from; write houses "
            "with gen_pyg.datasets.write_poisson_paper_format or pass 'num_houses'"
        )
    count = max(found) + 1
    if len(found) != count:
        gap = min(set(range(count)) - found)
        raise ValueError(
            f"{str(root)!r} holds desc files up to desc_{count - 1}.json but misses "
            f"desc_{gap}.json; houses must be numbered 0..N-1 (or pass 'num_houses')"
        )
    return count


def _read_house(root: Path, index: int) -> PoissonHouse:
    desc_name, x_name, y_name = poisson_paper_file_names(index)
    desc_path = root / desc_name
    desc = _load_json(desc_path)
    if not isinstance(desc, list) or not desc:
        raise ValueError(f"{desc_path}: expected a non-empty list of scenario dicts")
    boxes: list[Any] = []
    heats: list[list[float]] = []
    temps: list[float] = []
    for s, scenario in enumerate(desc):
        try:
            rows = np.asarray(scenario["boxes"], dtype=np.float64).reshape(-1, 5)
            scaled = np.asarray(scenario["unnorm_boxes"], dtype=np.float64).reshape(-1, 5)
            temps.append(float(scenario["exterior_temp"]))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(
                f"{desc_path}: scenario {s} must be a dict with 'boxes' and 'unnorm_boxes' "
                f"(lists of [lx, ly, Lx, Ly, h]) and a number 'exterior_temp' ({err!r})"
            ) from err
        if s == 0:
            boxes = rows[:, :4].tolist()
        if rows[:, :4].tolist() != boxes:
            raise ValueError(f"{desc_path}: scenario {s} has other boxes than scenario 0")
        if scaled.shape != rows.shape or not np.allclose(
            scaled[:, 4], rows[:, 4] / HEAT_SCALE, rtol=1e-6, atol=1e-12
        ):
            raise ValueError(
                f"{desc_path}: scenario {s}: 'unnorm_boxes' must repeat 'boxes' with h / 768"
            )
        heats.append(rows[:, 4].tolist())
    query_pos = _load_npy(root / x_name, (len(desc), None, 2))
    outside = ~((query_pos >= -QUERY_TOLERANCE) & (query_pos <= 1 + QUERY_TOLERANCE)).all(-1)
    if outside.any():
        s, q = (int(i) for i in np.argwhere(outside)[0])
        raise ValueError(f"{root / x_name}: query positions must lie in the unit square (the "
                         f"house), got {query_pos[s, q].tolist()} at scenario {s}, query {q}")
    y = _load_npy(root / y_name, (len(desc), query_pos.shape[1], 1))
    try:
        return PoissonHouse(
            np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
            np.asarray(heats, dtype=np.float64).reshape(len(desc), len(boxes)),
            np.asarray(temps, dtype=np.float64),
            query_pos,
            y[..., 0],
        )
    except ValueError as err:
        raise ValueError(f"house {index} in {root}: {err}") from err


#: how far outside the unit square a query position may lie (rounding of written files)
QUERY_TOLERANCE = 1e-6


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"missing file {path}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is truncated or not valid JSON ({err})") from err


def _load_npy(path: Path, shape: tuple[int | None, ...]) -> np.ndarray[Any, np.dtype[np.float64]]:
    if not path.is_file():
        raise FileNotFoundError(f"missing file {path}")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{path} is truncated or not a valid .npy file ({err})") from err
    if array.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(array.shape, shape, strict=True)
    ):
        expected = ", ".join("Q" if d is None else str(d) for d in shape)
        raise ValueError(f"{path} has shape {tuple(array.shape)}; expected [{expected}]")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{path} holds {array.dtype} values; expected float64")
    out: np.ndarray[Any, np.dtype[np.float64]] = array.astype(np.float64)
    return out
