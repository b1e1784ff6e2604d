"""Tasks by name: what a dataset, its model, its meshes, its loss and its metrics are.

A :class:`Task` is data: the :class:`~gen_pyg.training.Trainer`, the ``gen-pyg`` command and
the benchmarks take one from :data:`TASKS` by name (``gen-pyg train --task poisson_sphere``).
:func:`register_task` adds a user's own, after which the command line knows it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch_geometric.data import Data

from gen_pyg.training import _pushing_task as _pushing
from gen_pyg.training._scenes_task import OPTION_HELP as _SCENES_OPTION_HELP
from gen_pyg.training._scenes_task import OPTIONS as _SCENES_OPTIONS
from gen_pyg.training._scenes_task import (  # the scenes task's helpers, public here
    candidates_per_batch,
    evaluate_scenes,
    scenes_model,
    scenes_splits,
    scenes_test_split,
    supermazes_per_batch,
)
from gen_pyg.training._scenes_task import check_options as _check_scenes_options

if TYPE_CHECKING:
    from gen_pyg.training.experiment import DataConfig, ExperimentConfig, ModelConfig

__all__ = ["TASKS", "Task", "candidates_per_batch", "evaluate_scenes", "get_task",
           "register_task", "scenes_test_split", "supermazes_per_batch"]


@dataclass(frozen=True)
class Task:
    """One task: how to build its datasets, meshes and model, and what to optimise and report.

    Args:
        name (str): the registry key.
        description (str): one line for ``gen-pyg train --help`` and tables.
        datasets (callable): ``datasets(data_config, log) -> {"train": ..., "test": ...,
            ["val": ...]}``.
        model (callable): ``model(model_config) -> torch.nn.Module``.
        meshes (callable): ``meshes(data_config) -> {name: mesh}``, or :obj:`None` when the
            examples carry their own meshes.
        loss (str): the :data:`~gen_pyg.training.OBJECTIVES` name training minimises.
        metrics (tuple of str): what evaluation reports, the first one watched.
        group_by (str or None): the example attribute grouping examples into steps.
        instance (str): what one instance is called (``"house"``, ``"object"``, ...).
        num_instances (int): default instances in all. num_test_instances (int): default test
            instances.
        mesh_sizes (tuple of int): default meshes trained on (empty when the examples carry
            their own). min_mesh_size (int): the smallest allowed.
        options (dict): the task's own data settings and their defaults.
        option_help (dict): one line per option of :obj:`options`, what it sets (``gen-pyg
            tasks`` lists them).
        check_options (callable or None): ``check_options(options)`` raises a
            :class:`ValueError` naming an option whose value does not fit (called when a
            :class:`~gen_pyg.training.DataConfig` is made, before any work).
        augmentations (tuple of str): the augmentations that keep the task's answers valid.
        representations (tuple of str): the GEN representation functions the task supports.
    """

    name: str
    description: str
    datasets: Callable[[DataConfig, bool], dict[str, Any]]
    model: Callable[[ModelConfig], torch.nn.Module]
    meshes: Callable[[DataConfig], dict[str, Data] | None]
    loss: str = "mse"
    metrics: tuple[str, ...] = ("mse",)
    group_by: str | None = "house"
    instance: str = "house"
    num_instances: int = 250
    num_test_instances: int = 50
    mesh_sizes: tuple[int, ...] = ()
    min_mesh_size: int = 2
    options: dict[str, Any] = field(default_factory=dict)
    option_help: dict[str, str] = field(default_factory=dict)
    check_options: Callable[[dict[str, Any]], None] | None = None
    augmentations: tuple[str, ...] = ("none",)
    representations: tuple[str, ...] = ("soft_nearest", "bilinear", "barycentric")

    def build_datasets(self, cfg: DataConfig, log: bool = True) -> dict[str, Any]:
        return self.datasets(cfg, log)

    def build_model(self, cfg: ModelConfig) -> torch.nn.Module:
        if cfg.kind == "gen" and cfg.representation not in self.representations:
            raise ValueError(f"representation={cfg.representation!r} does not work for the "
                             f"task {self.name!r} (choose from {self.representations})")
        if cfg.kind == "neural_process":
            _check_unused(cfg, NP_UNUSED, _NP)
        model = self.model(cfg)
        if cfg.multilevel_rounds is not None:
            from gen_pyg.nn import GEN, MultilevelGEN

            if not isinstance(model, GEN):
                raise ValueError(f"multilevel_rounds needs the task's model to be a GEN, got "
                                 f"{type(model).__name__} for the task {self.name!r}")
            model = MultilevelGEN(model, rounds=cfg.multilevel_rounds,
                                  coarsest=cfg.multilevel_coarsest,
                                  encode=cfg.multilevel_encode,
                                  share_processor=cfg.multilevel_share_processor,
                                  supervise=cfg.multilevel_supervise)
        return model

    def build_meshes(self, cfg: DataConfig) -> dict[str, Data] | None:
        return self.meshes(cfg)

    def check(self, exp: ExperimentConfig) -> None:
        """Raise a :class:`ValueError` for settings that do not fit this task."""
        if exp.train.augment not in self.augmentations:
            raise ValueError(f"augment={exp.train.augment!r} does not keep the answers of the "
                             f"task {self.name!r} valid (choose from {self.augmentations})")
        if exp.model.kind == "gen" and exp.model.representation not in self.representations:
            self.build_model(exp.model)  # raises, naming the representation
        if exp.model.kind == "neural_process":
            _check_unused(exp.model, NP_UNUSED, _NP)


#: ModelConfig fields the Neural Process has no use for, which must keep their defaults
#: (the fields it refuses through ModelConfig's own checks, ``norm``, ``recall``, ..., are not
#: repeated here).
NP_UNUSED = ("num_steps", "k", "log_temperature", "aggr", "encoder_aggr")
_NP = "the Neural Process (it has no mesh and no message passing)"


def _check_unused(cfg: ModelConfig, names: tuple[str, ...], what: str) -> None:
    """Refuse a field of :obj:`names` that differs from its default: :obj:`what` ignores it."""
    from gen_pyg.training.experiment import ModelConfig

    default = ModelConfig(kind=cfg.kind)
    for name in names:
        if getattr(cfg, name) != getattr(default, name):
            raise ValueError(f"{name}={getattr(cfg, name)!r} does not apply to {what}; leave "
                             f"it at {getattr(default, name)!r}")


def _int_option(options: dict[str, Any], key: str, minimum: int = 1) -> None:
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"options[{key!r}] must be an integer >= {minimum}, got {value!r}")


# ----------------------------------------------------------------- Poisson on the square
def _square_splits(cfg: DataConfig, log: bool) -> dict[str, Any]:
    from gen_pyg.datasets import PoissonSquare

    common: dict[str, Any] = {
        "num_houses": cfg.num_instances, "num_test_houses": cfg.num_test_instances,
        "num_val_houses": cfg.num_val_instances, "n": cfg.options["n"], "seed": cfg.seed,
        "log": log}
    splits = ["train", "test"] + (["val"] if cfg.num_val_instances else [])
    return {s: PoissonSquare(str(cfg.root), split=s, **common) for s in splits}


def _square_model(cfg: ModelConfig) -> torch.nn.Module:
    from gen_pyg.nn import NeuralProcess

    if cfg.kind == "neural_process":
        return NeuralProcess(in_channels=[1, 1], out_channels=1, **cfg.np_kwargs())
    return cfg.build_gen(in_channels=[1, 1], out_channels=1)


def _grids(cfg: DataConfig) -> dict[str, Data]:
    from gen_pyg.mesh import grid

    return {f"{k}x{k}": grid(k) for k in cfg.mesh_sizes or ()}


# ----------------------------------------------------------------- Poisson on the sphere
def _sphere_splits(cfg: DataConfig, log: bool) -> dict[str, Any]:
    from gen_pyg.datasets import PoissonSphere

    common: dict[str, Any] = {
        "num_houses": cfg.num_instances, "num_test_houses": cfg.num_test_instances,
        "num_val_houses": cfg.num_val_instances, "seed": cfg.seed, "log": log,
        "num_scenarios": cfg.options["scenarios"]}
    splits = ["train", "test"] + (["val"] if cfg.num_val_instances else [])
    return {s: PoissonSphere(str(cfg.root), split=s, **common) for s in splits}


def _sphere_model(cfg: ModelConfig) -> torch.nn.Module:
    from gen_pyg.nn import NeuralProcess, SoftNearest

    if cfg.kind == "neural_process":
        return NeuralProcess(in_channels=1, out_channels=1, pos_dim=3, **cfg.np_kwargs())
    return cfg.build_gen(in_channels=1, out_channels=1, pos_dim=3, representation=SoftNearest(
        metric="geodesic", k=cfg.k, log_temperature=cfg.log_temperature))


def _latlong(cfg: DataConfig) -> dict[str, Data]:
    from gen_pyg.mesh import sphere_latlong

    return {f"latlong {k}": sphere_latlong(k) for k in cfg.mesh_sizes or ()}


#: The tasks the command line and the benchmarks know, by name.
TASKS: dict[str, Task] = {}


def register_task(task: Task, replace: bool = False) -> Task:
    """Add :obj:`task` to :data:`TASKS` (a name already there is refused unless
    :obj:`replace`)."""
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task, got {type(task).__name__}")
    if task.name in TASKS and not replace:
        raise ValueError(f"a task named {task.name!r} is registered already; pass replace=True")
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    """The registered task :obj:`name`."""
    if name not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {name!r}")
    return TASKS[name]


register_task(Task(
    "poisson_square", "heat in a square house from heaters and walls (the paper's section 4.1)",
    _square_splits, _square_model, _grids, mesh_sizes=(2, 3, 4, 5, 6, 7),
    options={"n": 101},
    option_help={"n": "points per side of the finite-difference grid that solves each house"},
    check_options=lambda o: _int_option(o, "n", 3), augmentations=("none", "square")))
register_task(Task(
    "poisson_sphere", "Poisson's equation on the sphere (the paper's figure 4, appendix A.3)",
    _sphere_splits, _sphere_model, _latlong, num_instances=100, num_test_instances=20,
    mesh_sizes=(2, 3, 4, 5, 6, 7), options={"scenarios": 32},
    option_help={"scenarios": "source scenarios per house (instance)"},
    check_options=lambda o: _int_option(o, "scenarios"), representations=("soft_nearest",)))


# ----------------------------------------------------------------- scenes (mazes)
register_task(Task(
    "scenes", "choose the image a camera pose sees in 3-D supermazes (the paper's section 4.3)",
    scenes_splits, scenes_model, lambda cfg: None, loss="retrieval_cross_entropy",
    metrics=("retrieval_accuracy", "retrieval_cross_entropy"), group_by=None,
    instance="supermaze", num_instances=1000, num_test_instances=100,
    options=dict(_SCENES_OPTIONS), option_help=dict(_SCENES_OPTION_HELP),
    check_options=_check_scenes_options, representations=("bilinear", "soft_nearest")))
register_task(Task(
    "pushing", "how a pushed object moves, from its picture (the paper's section 4.2)",
    _pushing.pushing_splits, _pushing.pushing_model, _grids,
    metrics=("mse", "position_mse", "angle_mse"), group_by="object", instance="object",
    num_instances=250, num_test_instances=50, mesh_sizes=(2,),
    options=dict(_pushing.PUSHING_OPTIONS), option_help=dict(_pushing.PUSHING_OPTION_HELP),
    check_options=_pushing.check_pushing_options))
