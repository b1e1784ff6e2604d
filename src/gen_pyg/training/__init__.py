"""Training and evaluation: the engine for spatial function transformations (multi-mesh
training, node-position optimisation, checkpoints and exact resume, torchrun/DDP, metrics),
the experiment configs the ``gen-pyg`` command uses, and the spring-mass loops."""

from gen_pyg.training.adaptation import adapt_positions, mse_on_mesh
from gen_pyg.training.batching import (
    collate_group,
    group_examples,
    replicate_mesh,
    square_symmetry,
)
from gen_pyg.training.checkpoint import atomic_save, load_checkpoint
from gen_pyg.training.config import TrainConfig
from gen_pyg.training.distributed import cleanup_distributed, init_distributed
from gen_pyg.training.experiment import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    build_datasets,
    build_meshes,
    build_model,
)
from gen_pyg.training.spring import (
    evaluate_spring_model,
    rollout_spring_model,
    train_spring_model,
)
from gen_pyg.training.spring_experiment import run_spring_experiment
from gen_pyg.training.trainer import Trainer, TrainingInterrupted, mesh_name

__all__: list[str] = []
__all__ += ["TrainConfig", "Trainer", "TrainingInterrupted", "mesh_name"]
__all__ += ["DataConfig", "ExperimentConfig", "ModelConfig", "build_datasets", "build_meshes",
            "build_model"]
__all__ += ["adapt_positions", "mse_on_mesh"]
__all__ += ["collate_group", "group_examples", "replicate_mesh", "square_symmetry"]
__all__ += ["atomic_save", "cleanup_distributed", "init_distributed", "load_checkpoint"]
__all__ += ["evaluate_spring_model", "rollout_spring_model", "train_spring_model"]
__all__ += ["run_spring_experiment"]
