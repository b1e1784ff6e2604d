"""Training and evaluation: one engine for every task (regression, one answer per example,
classification, retrieval) with multi-mesh training, node-position optimisation, checkpoints
and exact resume, torchrun/DDP, mixed precision and metrics. The engine names no task: a
:class:`Task` is registered by name (:mod:`gen_pyg.tasks` registers the built-in ones)."""

from gen_pyg.training.adaptation import adapt_positions
from gen_pyg.training.augment import AUGMENTATIONS, MeshJitter, RandomRounds, SquareSymmetry
from gen_pyg.training.checkpoint import load_checkpoint, load_model_weights
from gen_pyg.training.config import ModelConfig, TrainConfig
from gen_pyg.training.distributed import cleanup_distributed, init_distributed
from gen_pyg.training.experiment import (
    DataConfig,
    ExperimentConfig,
    build_datasets,
    build_meshes,
    build_model,
    build_trainer,
)
from gen_pyg.training.objectives import OBJECTIVES, EveryLevel, Objective, get_objective
from gen_pyg.training.signals import TrainingInterrupted
from gen_pyg.training.task import TASKS, Task, get_task, register_task
from gen_pyg.training.trainer import Trainer

__all__ = [
    "AUGMENTATIONS",
    "OBJECTIVES",
    "TASKS",
    "DataConfig",
    "EveryLevel",
    "ExperimentConfig",
    "MeshJitter",
    "ModelConfig",
    "Objective",
    "RandomRounds",
    "SquareSymmetry",
    "Task",
    "TrainConfig",
    "Trainer",
    "TrainingInterrupted",
    "adapt_positions",
    "build_datasets",
    "build_meshes",
    "build_model",
    "build_trainer",
    "cleanup_distributed",
    "get_objective",
    "get_task",
    "init_distributed",
    "load_checkpoint",
    "load_model_weights",
    "register_task",
]
