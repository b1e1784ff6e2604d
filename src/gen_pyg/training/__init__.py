"""Training and evaluation loops."""

from gen_pyg.training.spring import (
    evaluate_spring_model,
    rollout_spring_model,
    train_spring_model,
)
from gen_pyg.training.spring_experiment import run_spring_experiment

__all__: list[str] = []
__all__ += ["evaluate_spring_model", "rollout_spring_model", "train_spring_model"]
__all__ += ["run_spring_experiment"]
