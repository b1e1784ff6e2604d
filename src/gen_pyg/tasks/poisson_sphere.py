"""The ``poisson_sphere`` task (the GEN paper's figure 4, appendix A.3): Poisson's equation on
the sphere (:class:`~gen_pyg.datasets.PoissonSphere`), on latitude-longitude meshes with a
geodesic soft-nearest representation, the scenarios of one house in one step."""

from __future__ import annotations

from typing import Any

import torch
from torch_geometric.data import Data

from gen_pyg._validation import check_int
from gen_pyg.datasets import PoissonSphere
from gen_pyg.mesh import sphere_latlong
from gen_pyg.nn import NeuralProcess, SoftNearest
from gen_pyg.training import DataConfig, ModelConfig, Task

__all__ = ["POISSON_SPHERE"]


def _sphere_splits(cfg: DataConfig, log: bool) -> dict[str, Any]:
    common: dict[str, Any] = {
        "num_houses": cfg.num_instances, "num_test_houses": cfg.num_test_instances,
        "num_val_houses": cfg.num_val_instances, "seed": cfg.seed, "log": log,
        "num_scenarios": cfg.options["scenarios"]}
    splits = ["train", "test"] + (["val"] if cfg.num_val_instances else [])
    return {s: PoissonSphere(str(cfg.root), split=s, **common) for s in splits}


def _sphere_model(cfg: ModelConfig) -> torch.nn.Module:
    if cfg.kind == "neural_process":
        return NeuralProcess(in_channels=1, out_channels=1, pos_dim=3, **cfg.np_kwargs())
    return cfg.build_gen(in_channels=1, out_channels=1, pos_dim=3, representation=SoftNearest(
        metric="geodesic", k=cfg.k, log_temperature=cfg.log_temperature))


def _latlong(cfg: DataConfig) -> dict[str, Data]:
    return {f"latlong {k}": sphere_latlong(k) for k in cfg.mesh_sizes or ()}


def _check_options(options: dict[str, Any]) -> None:
    check_int(options["scenarios"], "options['scenarios']", 1)


#: Poisson on the sphere: 100 houses (20 for testing), latitude-longitude meshes 2..7.
POISSON_SPHERE = Task(
    "poisson_sphere", "Poisson's equation on the sphere (the paper's figure 4, appendix A.3)",
    _sphere_splits, _sphere_model, _latlong, group_by="house", instance="house",
    num_instances=100, num_test_instances=20, mesh_sizes=(2, 3, 4, 5, 6, 7),
    options={"scenarios": 32}, option_help={"scenarios": "source scenarios per house (instance)"},
    check_options=_check_options, representations=("soft_nearest",))
