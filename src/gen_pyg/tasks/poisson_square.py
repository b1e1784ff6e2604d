"""The ``poisson_square`` task (the GEN paper's section 4.1): heat in a square house from
heaters, coolers and walls (:class:`~gen_pyg.datasets.PoissonSquare`), on grid meshes, the
scenarios of one house in one step."""

from __future__ import annotations

from typing import Any

import torch
from torch_geometric.data import Data

from gen_pyg._validation import check_int
from gen_pyg.datasets import PoissonSquare
from gen_pyg.mesh import grid
from gen_pyg.nn import NeuralProcess
from gen_pyg.training import DataConfig, ModelConfig, Task

__all__ = ["POISSON_SQUARE"]


def _square_splits(cfg: DataConfig, log: bool) -> dict[str, Any]:
    common: dict[str, Any] = {
        "num_houses": cfg.num_instances, "num_test_houses": cfg.num_test_instances,
        "num_val_houses": cfg.num_val_instances, "n": cfg.options["n"], "seed": cfg.seed,
        "log": log}
    splits = ["train", "test"] + (["val"] if cfg.num_val_instances else [])
    return {s: PoissonSquare(str(cfg.root), split=s, **common) for s in splits}


def _square_model(cfg: ModelConfig) -> torch.nn.Module:
    if cfg.kind == "neural_process":
        return NeuralProcess(in_channels=[1, 1], out_channels=1, **cfg.np_kwargs())
    return cfg.build_gen(in_channels=[1, 1], out_channels=1)


def _grids(cfg: DataConfig) -> dict[str, Data]:
    return {f"{k}x{k}": grid(k) for k in cfg.mesh_sizes or ()}


def _check_options(options: dict[str, Any]) -> None:
    check_int(options["n"], "options['n']", 3)


#: Poisson on the square: 250 houses (50 for testing), grids 2x2..7x7, grouped by house.
POISSON_SQUARE = Task(
    "poisson_square", "heat in a square house from heaters and walls (the paper's section 4.1)",
    _square_splits, _square_model, _grids, group_by="house", instance="house",
    mesh_sizes=(2, 3, 4, 5, 6, 7), options={"n": 101},
    option_help={"n": "points per side of the finite-difference grid that solves each house"},
    check_options=_check_options, augmentations=("none", "square"))
