"""Training and evaluation: one engine for every task (regression, one answer per example,
classification, retrieval) with multi-mesh training, node-position optimisation, checkpoints
and exact resume, torchrun/DDP, mixed precision and metrics; tasks by name; the spring-mass
loops."""

from gen_pyg.ops.symmetry import square_symmetry
from gen_pyg.training.adaptation import adapt_positions, mse_on_mesh
from gen_pyg.training.augment import (
    AUGMENTATIONS,
    Compose,
    RandomRounds,
    SquareSymmetry,
    get_augmentation,
)
from gen_pyg.training.batching import collate_group, group_examples, replicate_mesh
from gen_pyg.training.checkpoint import atomic_save, load_checkpoint, load_model_weights
from gen_pyg.training.config import TrainConfig
from gen_pyg.training.distributed import cleanup_distributed, init_distributed
from gen_pyg.training.experiment import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    build_datasets,
    build_meshes,
    build_model,
    build_trainer,
    training_loss,
)
from gen_pyg.training.meshes import mesh_name
from gen_pyg.training.objectives import (
    OBJECTIVES,
    Accuracy,
    CrossEntropy,
    EveryLevel,
    FunctionObjective,
    MeanAbsoluteError,
    MeanSquaredError,
    Objective,
    RetrievalAccuracy,
    RetrievalCrossEntropy,
    RootMeanSquaredError,
    get_objective,
)
from gen_pyg.training.plan import EpochPlanner
from gen_pyg.training.run_folder import RunFolder, read_run_config
from gen_pyg.training.signals import TrainingInterrupted
from gen_pyg.training.spring import (
    evaluate_spring_model,
    rollout_spring_model,
    train_spring_model,
)
from gen_pyg.training.spring_experiment import run_spring_experiment
from gen_pyg.training.tasks import TASKS, Task, get_task, register_task
from gen_pyg.training.trainer import Trainer

__all__ = [
    "AUGMENTATIONS",
    "OBJECTIVES",
    "TASKS",
    "Accuracy",
    "Compose",
    "CrossEntropy",
    "DataConfig",
    "EpochPlanner",
    "EveryLevel",
    "ExperimentConfig",
    "FunctionObjective",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "ModelConfig",
    "Objective",
    "RandomRounds",
    "RetrievalAccuracy",
    "RetrievalCrossEntropy",
    "RootMeanSquaredError",
    "RunFolder",
    "SquareSymmetry",
    "Task",
    "TrainConfig",
    "Trainer",
    "TrainingInterrupted",
    "adapt_positions",
    "atomic_save",
    "build_datasets",
    "build_meshes",
    "build_model",
    "build_trainer",
    "cleanup_distributed",
    "collate_group",
    "evaluate_spring_model",
    "get_augmentation",
    "get_objective",
    "get_task",
    "group_examples",
    "init_distributed",
    "load_checkpoint",
    "load_model_weights",
    "mesh_name",
    "mse_on_mesh",
    "read_run_config",
    "register_task",
    "replicate_mesh",
    "rollout_spring_model",
    "run_spring_experiment",
    "square_symmetry",
    "train_spring_model",
    "training_loss",
]
