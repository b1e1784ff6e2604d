"""What a task is, and the registry of tasks by name.

A :class:`Task` is data: how to build its datasets, meshes and model, what to optimise and
report, how its examples group into steps. The engine (:class:`~gen_pyg.training.Trainer`,
:class:`~gen_pyg.training.ExperimentConfig`) takes a task by name from :data:`TASKS` and knows
none itself; :mod:`gen_pyg.tasks` declares the built-in ones and registers them when it is
imported (the ``gen-pyg`` command, the demo and :mod:`gen_pyg.pretrained` import it), and
:func:`register_task` adds a user's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch_geometric.data import Data

if TYPE_CHECKING:
    from gen_pyg.training.config import ModelConfig
    from gen_pyg.training.experiment import DataConfig
    from gen_pyg.training.objectives import Objective

__all__ = ["TASKS", "Task", "get_task", "register_task"]


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
        loss (str or Objective): what training minimises (a name of
            :data:`~gen_pyg.training.OBJECTIVES` or an objective).
        metrics (tuple): what evaluation reports (names or objectives), the first one watched.
        group_by (str or None): the example attribute grouping examples into steps, which the
            command line and :meth:`train_settings` pass as ``TrainConfig.group_by``;
            :obj:`None`: plain mini-batches.
        instance (str): what one instance is called (``"house"``, ``"object"``, ...).
        num_instances (int): default instances in all. num_test_instances (int): default test
            instances.
        mesh_sizes (tuple of int): default meshes trained on (empty when the examples carry
            their own). min_mesh_size (int): the smallest allowed.
        options (dict): the task's own data settings and their defaults.
        option_help (dict): one line per option of :obj:`options`, what it sets (``gen-pyg
            tasks`` lists them).
        check_options (callable or None): ``check_options(options)`` raises naming an option
            whose value does not fit (called when a :class:`~gen_pyg.training.DataConfig` is
            made, before any work).
        augmentations (tuple of str): the augmentations that keep the task's answers valid.
        representations (tuple of str): the GEN representation functions the task supports.
        evaluate (callable or None): ``evaluate(trainer, dataset) -> rows`` of a test table
            (one dict per row: ``"mesh"``, ``"nodes"``, ``"steps"`` and ``test_*`` values)
            when the task reports other rows than one per mesh.
        figures (callable or None): ``figures(trainer, splits, folder) -> [paths]``, the
            figures ``gen-pyg train`` writes into the run folder after training.
    """

    name: str
    description: str
    datasets: Callable[[DataConfig, bool], dict[str, Any]]
    model: Callable[[ModelConfig], torch.nn.Module]
    meshes: Callable[[DataConfig], dict[str, Data] | None]
    loss: str | Objective = "mse"
    metrics: tuple[str | Objective, ...] = ("mse",)
    group_by: str | None = None
    instance: str = "instance"
    num_instances: int = 250
    num_test_instances: int = 50
    mesh_sizes: tuple[int, ...] = ()
    min_mesh_size: int = 2
    options: dict[str, Any] = field(default_factory=dict)
    option_help: dict[str, str] = field(default_factory=dict)
    check_options: Callable[[dict[str, Any]], None] | None = None
    augmentations: tuple[str, ...] = ("none",)
    representations: tuple[str, ...] = ("soft_nearest", "bilinear", "barycentric")
    evaluate: Callable[[Any, Sequence[Data]], list[dict[str, Any]]] | None = None
    figures: Callable[[Any, dict[str, Any], Any], list[Any]] | None = None

    def train_settings(self) -> dict[str, Any]:
        """The :class:`~gen_pyg.training.TrainConfig` settings the task asks for (its
        grouping): ``TrainConfig(**task.train_settings(), epochs=...)``."""
        return {"group_by": self.group_by}

    def metric_names(self) -> list[str]:
        """The names of :attr:`metrics`."""
        return [m if isinstance(m, str) else m.name for m in self.metrics]


#: The registered tasks, by name (:mod:`gen_pyg.tasks` registers the built-in ones).
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
        hint = ("" if TASKS else "; no task is registered: import gen_pyg.tasks (the built-in "
                "tasks) or register_task(...) your own")
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {name!r}{hint}")
    return TASKS[name]
