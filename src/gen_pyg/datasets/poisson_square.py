"""The GEN paper's Poisson-in-a-square dataset (heaters in houses), generated or read."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from gen_pyg.datasets._cached import _HouseSplitDataset
from gen_pyg.datasets._house_split import check_int
from gen_pyg.datasets.poisson_house import (
    SAMPLES_PER_BOX,
    PoissonHouse,
    generate_poisson_houses,
)
from gen_pyg.datasets.poisson_paper_format import (
    count_paper_houses,
    poisson_paper_file_names,
    read_poisson_paper_format,
)

SOURCES = ("generate", "paper")
#: Bumped whenever the stored data would change for the same parameters.
_FORMAT_VERSION = 1


class PoissonSquare(_HouseSplitDataset):
    r"""Heat in square houses with box heaters and coolers, from the
    `"Graph Element Networks: adaptive, structured computation and memory"
    <https://arxiv.org/abs/1904.09019>`_ paper (section 4.1, appendix A.2).

    In each house :math:`[0, 1]^2` the temperature :math:`\varphi` solves

    .. math::
        -\Delta \varphi = h_k \ \text{strictly inside box } k, \qquad
        -\Delta \varphi = 0 \ \text{elsewhere}, \qquad \varphi = T \ \text{on the walls},

    where the box listed last wins on overlaps. Each house has 32 scenarios that share its box
    positions and draw new heats :math:`h_k` and wall temperature :math:`T`
    (:func:`~gen_pyg.datasets.sample_poisson_house`). One scenario is one
    :class:`~torch_geometric.data.Data` with

    - ``input_pos`` ``[P, 2]``, ``input_x`` ``[P, 1]``, ``input_fn`` ``[P]``: the paper's two
      input functions, heater samples (``input_fn = 0``, value :math:`h_k / 768`) and wall
      samples (``input_fn = 1``, value :math:`T`), :math:`P = 64`
      (:meth:`~gen_pyg.datasets.PoissonHouse.inputs`);
    - ``query_pos`` ``[Q, 2]`` and ``y`` ``[Q, 1]``: :math:`\varphi` at 256 points of the
      0.01 grid;
    - ``house`` and ``scenario`` ``[1]``: integer ids.

    There is no mesh (``pos``/``edge_index``): attach one with a transform. Batch with
    ``DataLoader(dataset, follow_batch=["input_pos", "query_pos"])``.

    With ``source="generate"`` (default) the data are drawn and solved offline by
    :func:`~gen_pyg.datasets.generate_poisson_houses` (finite differences on an
    :math:`n \times n` grid, one solve per box and house by superposition). With
    ``source="paper"`` they are read from ``root/raw`` in the authors' file format
    (:func:`~gen_pyg.datasets.read_poisson_paper_format`; values from a finite-element
    solver); files can be written with :func:`~gen_pyg.datasets.write_poisson_paper_format`.
    The processed file name holds a hash of the parameters, so changing them regenerates.

    Splits are by house: a permutation drawn from ``split_seed`` gives ``num_test_houses``
    test houses, then ``num_val_houses`` validation houses, and the rest for training; or pass
    explicit ``houses`` (with ``split="all"``).

    **STATS** (defaults, all houses):

    .. list-table::
        :widths: 10 10 10 10 10
        :header-rows: 1

        * - #houses
          - #scenarios
          - #inputs per scenario
          - #queries per scenario
          - #boxes per house
        * - 250
          - 8,000
          - 64
          - 256
          - 1 to 4

    Args:
        root (str or Path): Root folder (``raw/`` and ``processed/`` below it).
        split (str, optional): ``"train"``, ``"val"``, ``"test"`` or ``"all"``.
            (default: ``"train"``)
        source (str, optional): ``"generate"`` or ``"paper"``. (default: ``"generate"``)
        num_houses (int, optional): Houses in total, split included; :obj:`None` means 250
            when generating and, with ``source="paper"``, as many as ``root/raw`` holds
            (``desc_0.json`` to ``desc_{N-1}.json``; 250, the authors' count, when the folder
            is empty and ``allow_download=True``). (default: :obj:`None`)
        num_scenarios (int, optional): Scenarios per house (generated). (default: ``32``)
        num_queries (int, optional): Queries per scenario (generated). (default: ``256``)
        num_inputs (int, optional): Input samples per scenario, at least 37.
            (default: ``64``)
        n (int, optional): Solver grid nodes per axis (generated). (default: ``101``)
        supersample (int, optional): Source averaging per cell, see
            :func:`~gen_pyg.solvers.box_coverage` (generated). (default: ``4``)
        seed (int, optional): Seed of the house generator. (default: ``0``)
        houses (list of int, optional): Explicit house indices, instead of ``split``.
            (default: ``None``)
        num_test_houses (int, optional): Houses in the test split; ``None`` takes a fifth
            of the houses (the paper's 50 of 250). (default: ``None``)
        num_val_houses (int, optional): Houses in the validation split. (default: ``0``)
        split_seed (int, optional): Seed of the house permutation. (default: ``0``)
        allow_download (bool, optional): With ``source="paper"``, download missing files from
            the authors' repository instead of raising. (default: ``False``)
        transform (callable, optional): Applied to every access. (default: ``None``)
        pre_transform (callable, optional): Applied before saving. (default: ``None``)
        pre_filter (callable, optional): Keeps a scenario when it returns ``True``.
            (default: ``None``)
        force_reload (bool, optional): Regenerate even if cached. (default: ``False``)
        log (bool, optional): Print PyG's processing messages. (default: ``True``)

    Example:
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> ds = PoissonSquare(root, split="all", num_houses=2, num_scenarios=3, n=21, log=False)
        >>> len(ds), ds[0].input_pos.shape, ds[0].y.shape
        (6, torch.Size([64, 2]), torch.Size([256, 1]))
    """

    cache_name = "poisson_square"
    url = (
        "https://raw.githubusercontent.com/FerranAlet/graph_element_networks/master/"
        "data/poisson_inp"
    )

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        *,
        source: str = "generate",
        num_houses: int | None = None,
        num_scenarios: int = 32,
        num_queries: int = 256,
        num_inputs: int = 64,
        n: int = 101,
        supersample: int = 4,
        seed: int = 0,
        houses: Sequence[int] | None = None,
        num_test_houses: int | None = None,
        num_val_houses: int = 0,
        split_seed: int = 0,
        allow_download: bool = False,
        transform: Callable[[Data], Data] | None = None,
        pre_transform: Callable[[Data], Data] | None = None,
        pre_filter: Callable[[Data], bool] | None = None,
        force_reload: bool = False,
        log: bool = True,
    ) -> None:
        if source not in SOURCES:
            raise ValueError(f"'source' must be one of {SOURCES} (got {source!r})")
        self.source = source
        if num_houses is None:
            num_houses = _paper_house_count(root, allow_download) if source == "paper" else 250
        self.num_houses = check_int("num_houses", num_houses, 1)
        self.num_scenarios = check_int("num_scenarios", num_scenarios, 1)
        self.num_queries = check_int("num_queries", num_queries, 1)
        self.num_inputs = check_int("num_inputs", num_inputs, 4 * SAMPLES_PER_BOX + 1)
        self.n = check_int("n", n, 3)
        self.supersample = check_int("supersample", supersample, 1)
        self.seed = check_int("seed", seed, 0)
        self.allow_download = bool(allow_download)
        super().__init__(root, split, houses, num_test_houses, num_val_houses, split_seed,
                         transform, pre_transform, pre_filter, log, force_reload)

    def _cache_params(self) -> dict[str, object]:
        params: dict[str, object] = {
            "version": _FORMAT_VERSION,
            "source": self.source,
            "num_houses": self.num_houses,
            "num_inputs": self.num_inputs,
        }
        if self.source == "generate":
            params.update(
                num_scenarios=self.num_scenarios,
                num_queries=self.num_queries,
                n=self.n,
                supersample=self.supersample,
                seed=self.seed,
            )
        return params

    @property
    def raw_file_names(self) -> list[str]:
        if self.source == "generate":
            return []
        return [name for i in range(self.num_houses) for name in poisson_paper_file_names(i)]

    def _cache_tag(self) -> str:
        return self.source

    def download(self) -> None:
        """Nothing for generated data; the authors' files for ``source="paper"``."""
        if self.source == "generate":
            return
        missing = [p for p in self.raw_paths if not Path(p).is_file()]
        if not self.allow_download:
            raise FileNotFoundError(
                f"missing file {missing[0]} ({len(missing)} missing in {self.raw_dir}); write "
                "houses with gen_pyg.datasets.write_poisson_paper_format, copy the authors' "
                f"files from {self.url}, or pass allow_download=True"
            )
        from torch_geometric.data import download_url

        for path in missing:
            download_url(f"{self.url}/{Path(path).name}", self.raw_dir, log=self.log)

    def _generate(self) -> list[Data]:
        if self.source == "generate":
            houses = generate_poisson_houses(
                self.num_houses,
                seed=self.seed,
                num_scenarios=self.num_scenarios,
                num_queries=self.num_queries,
                n=self.n,
                supersample=self.supersample,
                progress=True,
            )
        else:
            houses = read_poisson_paper_format(self.raw_dir, range(self.num_houses))
        return [
            data
            for index, house in enumerate(houses)
            for data in _house_to_data(house, index, self.num_inputs)
        ]

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({len(self)}, split={self.split!r}, "
            f"source={self.source!r}, houses={len(self.houses)})"
        )


def _paper_house_count(root: str | os.PathLike[str], allow_download: bool) -> int:
    """The houses in ``root/raw`` (the authors' 250 when it holds none and downloading is
    allowed)."""
    raw = Path(root) / "raw"
    try:
        return count_paper_houses(raw)
    except FileNotFoundError:
        if allow_download:
            return 250
        raise


def _house_to_data(house: PoissonHouse, index: int, num_inputs: int = 64) -> list[Data]:
    """One :class:`~torch_geometric.data.Data` per scenario of a solved house.

    Args:
        house (PoissonHouse): A house with ``y`` filled in.
        index (int): The house id stored in ``data.house``.
        num_inputs (int, optional): Input samples per scenario. (default: ``64``)

    Returns:
        A list of ``house.num_scenarios`` data objects (see :class:`PoissonSquare`).
    """
    if house.y is None:
        raise ValueError("'house' has no solution 'y'; solve it first")
    pos, value, fn = house.inputs(num_inputs)
    input_fn = torch.from_numpy(fn)
    out = []
    for s in range(house.num_scenarios):
        out.append(
            Data(
                input_pos=torch.from_numpy(pos[s].astype(np.float32)),
                input_x=torch.from_numpy(value[s, :, None].astype(np.float32)),
                input_fn=input_fn.clone(),
                query_pos=torch.from_numpy(house.query_pos[s].astype(np.float32)),
                y=torch.from_numpy(house.y[s, :, None].astype(np.float32)),
                house=torch.tensor([index], dtype=torch.long),
                scenario=torch.tensor([s], dtype=torch.long),
            )
        )
    return out
