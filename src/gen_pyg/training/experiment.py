"""Experiments described by data: which task, which model, which data and meshes, which
training settings.

The ``gen-pyg`` command, the demo and the benchmarks describe a run with an
:class:`ExperimentConfig`; the task it names (a registered
:class:`~gen_pyg.training.Task`) builds the datasets, meshes and model and gives the loss, the
metrics and the grouping the :class:`~gen_pyg.training.Trainer` takes (:func:`build_trainer`).
The config is stored with the run (``config.json``, checkpoints), so ``gen-pyg evaluate RUN``
rebuilds exactly what was trained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Data

from gen_pyg._options import (
    at_least,
    check_options,
    list_of,
    non_negative_int,
    option,
    optional,
    positive_int,
)
from gen_pyg.nn import GEN, MultilevelGEN
from gen_pyg.training.config import ModelConfig, TrainConfig
from gen_pyg.training.objectives import EveryLevel
from gen_pyg.training.run_folder import read_run_config
from gen_pyg.training.task import Task, get_task
from gen_pyg.training.trainer import Trainer

__all__ = ["DataConfig", "ExperimentConfig", "build_datasets", "build_meshes", "build_model",
           "build_trainer", "training_loss"]


@dataclass
class DataConfig:
    """Which data and meshes, for the task :attr:`task` (a registered
    :class:`~gen_pyg.training.Task`); :obj:`None` fields take the task's defaults when the
    config is made, so that a stored config is explicit.

    Example:
        >>> DataConfig("no_such_task")
        Traceback (most recent call last):
        ...
        ValueError: task must be one of [...], got 'no_such_task'...
    """

    task: str = option(None, "the task (gen-pyg tasks lists them)", cli=False)
    root: str | None = option(None, "dataset folder, generated there once, then read "
                              "(default: data/TASK)", cli=False)
    num_instances: int | None = option(
        None, "instances in all: houses, objects, mazes; the splits never share one (default: "
        "the task's)", check=optional(positive_int), flag="--instances")
    num_test_instances: int | None = option(
        None, "test instances, never trained on (default: the task's)",
        check=optional(positive_int), flag="--test-instances")
    num_val_instances: int = option(0, "validation instances, for early stopping and the "
                                    "plateau schedule, taken from the others",
                                    check=non_negative_int, flag="--val-instances")
    seed: int = option(0, "seed of the data generator", check=non_negative_int,
                       flag="--data-seed")
    mesh_sizes: list[int] | None = option(
        None, "meshes trained on, one set of weights: grid sizes k (k x k nodes) or "
        "latitude-longitude orders on the sphere (default: the task's)",
        check=optional(list_of(at_least(2))))
    options: dict[str, Any] = option({}, "the task's own data settings (e.g. {'n': 101}, the "
                                     "Poisson solver's grid); unknown keys are an error",
                                     cli=False)

    def __post_init__(self) -> None:
        if not isinstance(self.task, str):
            raise TypeError(f"task must be a task's name, got {self.task!r}")
        task = get_task(self.task)
        if self.root is None:
            self.root = f"data/{self.task}"
        if self.num_instances is None:
            self.num_instances = task.num_instances
        if self.num_test_instances is None:
            self.num_test_instances = task.num_test_instances
        if self.mesh_sizes is None:
            self.mesh_sizes = list(task.mesh_sizes)
        unknown = sorted(set(self.options) - set(task.options))
        if unknown:
            raise ValueError(f"options: the task {self.task!r} has no data option(s) "
                             f"{', '.join(unknown)} (it has {sorted(task.options) or 'none'})")
        self.options = {**task.options, **self.options}
        if task.check_options is not None:
            task.check_options(self.options)
        check_options(self)
        if self.num_test_instances + self.num_val_instances >= self.num_instances:
            raise ValueError(
                f"num_test_instances + num_val_instances ({self.num_test_instances} + "
                f"{self.num_val_instances}) must leave training instances out of "
                f"num_instances={self.num_instances}")
        if not isinstance(self.mesh_sizes, list) or any(
                isinstance(k, bool) or not isinstance(k, int) or k < task.min_mesh_size
                for k in self.mesh_sizes):
            raise ValueError(f"mesh_sizes must be a list of integers >= {task.min_mesh_size}, "
                             f"got {self.mesh_sizes!r}")  # one message for the whole list
        if task.mesh_sizes and not self.mesh_sizes:
            raise ValueError(f"mesh_sizes must name at least one mesh for {self.task!r}")
        if not task.mesh_sizes and self.mesh_sizes:
            raise ValueError(f"mesh_sizes={self.mesh_sizes!r} does not apply to the task "
                             f"{self.task!r}: its examples carry their own meshes; leave it "
                             "empty")


@dataclass
class ExperimentConfig:
    """A whole run: model, data and training settings.

    The training settings are used as given: ``train.group_by`` is the grouping (a task's
    own is :attr:`Task.group_by <gen_pyg.training.Task.group_by>`, which the command line
    passes; build the settings with ``TrainConfig(**task.train_settings(), ...)``), and
    settings that do not fit the task (an augmentation, a representation) are an error."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = None  # type: ignore[assignment]
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.data, DataConfig):
            raise TypeError(f"data must be a DataConfig (it names the task), got "
                            f"{type(self.data).__name__}")
        task = self.task
        if self.train.augment not in task.augmentations:
            raise ValueError(f"augment={self.train.augment!r} does not keep the answers of the "
                             f"task {task.name!r} valid (choose from {task.augmentations})")
        check_representation(self.model, task)

    @property
    def task(self) -> Task:
        """The :class:`~gen_pyg.training.Task` named by ``data.task``."""
        return get_task(self.data.task)

    def metadata(self) -> dict[str, Any]:
        """The model and data parts, as the trainer stores them next to its config."""
        return {"model": asdict(self.model), "data": asdict(self.data)}

    def to_dict(self) -> dict[str, Any]:
        return {**self.metadata(), "train": self.train.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExperimentConfig:
        parts = {"model": ModelConfig, "data": DataConfig}
        kwargs: dict[str, Any] = {}
        for name, klass in parts.items():
            given = values.get(name, {})
            if not isinstance(given, dict):
                raise ValueError(f"{name} settings must be a dict, got {type(given).__name__}")
            unknown = set(given) - {f.name for f in fields(klass)}
            if unknown:
                raise ValueError(f"unknown {name} setting(s): {', '.join(sorted(unknown))}")
            kwargs[name] = klass(**given)
        kwargs["train"] = TrainConfig.from_dict(values.get("train", {}))
        return cls(**kwargs)

    @classmethod
    def from_run(cls, run_dir: str | Path) -> ExperimentConfig:
        """The experiment of a run folder (its ``config.json``); a data root stored relative
        to the run folder is made absolute."""
        saved = read_run_config(run_dir)
        meta = saved.get("metadata", {})
        if "model" not in meta or "data" not in meta:
            raise ValueError(f"{run_dir} was not written by an experiment (its config.json has "
                             "no model and data settings: a Trainer run of your own); load "
                             "its checkpoint.pt into your model with "
                             "gen_pyg.training.load_model_weights")
        exp = cls.from_dict({**meta, "train": saved.get("train", {})})
        root = Path(str(exp.data.root))
        if not root.is_absolute():
            exp.data.root = str((Path(run_dir) / root).resolve())
        return exp


def check_representation(cfg: ModelConfig, task: Task) -> None:
    """Raise a :class:`ValueError` when a GEN of :obj:`cfg` names a representation
    :obj:`task` does not support."""
    if cfg.kind == "gen" and cfg.representation not in task.representations:
        raise ValueError(f"representation={cfg.representation!r} does not work for the task "
                         f"{task.name!r} (choose from {task.representations})")


def build_model(cfg: ModelConfig, task: str | Task) -> torch.nn.Module:
    """The model of :obj:`cfg` for :obj:`task` (its channels, space and readout), wrapped in
    a :class:`~gen_pyg.nn.MultilevelGEN` with ``multilevel_rounds``."""
    task = get_task(task) if isinstance(task, str) else task
    check_representation(cfg, task)
    model = task.model(cfg)
    if cfg.multilevel_rounds is not None:
        if not isinstance(model, GEN):
            raise ValueError(f"multilevel_rounds needs the task's model to be a GEN, got "
                             f"{type(model).__name__} for the task {task.name!r}")
        model = MultilevelGEN(model, rounds=cfg.multilevel_rounds,
                              coarsest=cfg.multilevel_coarsest, encode=cfg.multilevel_encode,
                              share_processor=cfg.multilevel_share_processor,
                              supervise=cfg.multilevel_supervise)
    return model


def build_meshes(cfg: DataConfig, sizes: list[int] | None = None) -> dict[str, Data] | None:
    """The named meshes of :obj:`cfg` (or of :obj:`sizes`), :obj:`None` when the task's
    examples carry their own."""
    return get_task(cfg.task).meshes(cfg if sizes is None else replace(cfg, mesh_sizes=sizes))


def build_datasets(cfg: DataConfig, log: bool = True) -> dict[str, Any]:
    """The ``"train"``, ``"test"`` (and ``"val"`` when :obj:`cfg.num_val_instances` > 0)
    splits, generated into :obj:`cfg.root` on first use."""
    return get_task(cfg.task).datasets(cfg, log)


def build_trainer(exp: ExperimentConfig, model: torch.nn.Module, splits: dict[str, Any],
                  **kwargs: Any) -> Trainer:
    """A :class:`~gen_pyg.training.Trainer` of :obj:`model` on :obj:`splits` with the task's
    loss, metrics and meshes and :obj:`exp`'s settings (``kwargs``: ``run_dir``, ``device``,
    ``callbacks``...)."""
    task = exp.task
    return Trainer(model, splits["train"], meshes=build_meshes(exp.data),
                   config=exp.train, val_dataset=splits.get("val"), metadata=exp.metadata(),
                   loss=training_loss(exp.model, task.loss), metrics=list(task.metrics),
                   **kwargs)


def training_loss(cfg: ModelConfig, loss: Any = "mse") -> Any:
    """The loss a model of :obj:`cfg` trains on: :obj:`loss`, on every level of a
    :class:`~gen_pyg.nn.MultilevelGEN` built with ``multilevel_supervise``
    (:class:`~gen_pyg.training.EveryLevel`)."""
    supervised = cfg.multilevel_supervise and cfg.multilevel_rounds is not None
    return EveryLevel(loss, cfg.multilevel_supervise_finest) if supervised else loss
