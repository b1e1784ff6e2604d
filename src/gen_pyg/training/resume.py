"""Checkpoints of the :class:`~gen_pyg.training.Trainer`: what a resume needs, written to and
read from its run folder, refused with the differing fields named when the run folder holds
another configuration or model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gen_pyg.mesh.learnable import LearnableMesh
from gen_pyg.training import distributed as gdist
from gen_pyg.training.checkpoint import (
    model_signature,
    rng_state,
    set_rng_state,
    signature_differences,
)
from gen_pyg.training.config import (
    RESUMABLE_FIELDS,
    TrainConfig,
    config_defaults,
    config_differences,
)

__all__ = ["Resumable"]


class Resumable:
    """The checkpoint half of the :class:`~gen_pyg.training.Trainer` (a mixin: it reads and
    restores the trainer's model, optimiser, schedules, scaler, learnable meshes, counters,
    history and random states)."""

    # set by the Trainer
    config: TrainConfig
    metadata: dict[str, Any]
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    plateau: Any
    scaler: Any
    meshes: Any
    run: Any
    dist: Any
    epoch: int
    step_in_epoch: int
    global_step: int
    history: list[dict[str, Any]]
    best: dict[str, Any] | None
    _epoch_sums: list[float]
    _train_seconds: float

    # ------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Path | None:
        return self.run.checkpoint if self.run is not None else None

    def state_dict(self) -> dict[str, Any]:
        """Everything a resume needs (what :meth:`save_checkpoint` writes)."""
        return {
            "format": "gen_pyg.trainer", "config": self.config.to_dict(),
            "metadata": self.metadata, "model_signature": model_signature(self.model),
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "plateau": self.plateau.state_dict() if self.plateau is not None else None,
            "scaler": self.scaler.state_dict(),
            "meshes": {name: m.state_dict() for name, m in (self.meshes or {}).items()
                       if isinstance(m, LearnableMesh)},
            "epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
            "global_step": self.global_step, "epoch_sums": list(self._epoch_sums),
            "train_seconds": self._train_seconds, "history": self.history, "best": self.best,
            "world_size": self.dist.world_size, "rng": rng_state(),
        }

    def save_checkpoint(self) -> Path | None:
        """Write ``checkpoint.pt`` atomically (rank 0 only; other ranks wait for it)."""
        if self.run is not None:
            self.run.save_checkpoint(self.state_dict())
        gdist.barrier()
        return self.checkpoint_path

    def check_compatible(self, state: dict[str, Any], source: str = "checkpoint") -> None:
        """Raise a :class:`ValueError` naming every field in which :obj:`state` (a checkpoint)
        differs from this trainer's configuration, metadata or model."""
        defaults = config_defaults()
        diffs = config_differences(state.get("config", {}), self.config.to_dict(),
                                   defaults=defaults["train"])
        diffs += config_differences(state.get("metadata", {}), self.metadata, ignore=(),
                                    defaults=defaults)
        diffs += signature_differences(state.get("model_signature", {}),
                                       model_signature(self.model))
        if diffs:
            shown = "; ".join(diffs[:8]) + (f"; and {len(diffs) - 8} more" if len(diffs) > 8
                                            else "")
            raise ValueError(f"{source} was written with another configuration or model "
                             f"({shown}); use another run folder or the same settings")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (after :meth:`check_compatible`)."""
        self.check_compatible(state)
        if state["world_size"] != self.dist.world_size and state["step_in_epoch"]:
            raise ValueError(
                f"the checkpoint stopped mid-epoch with {state['world_size']} process(es); "
                f"resume it with the same number, not {self.dist.world_size}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        for part, key in ((self.scheduler, "scheduler"), (self.plateau, "plateau"),
                          (self.scaler, "scaler")):
            if part is not None and state[key] is not None:
                part.load_state_dict(state[key])
        for name, mesh_state in state["meshes"].items():
            mesh = (self.meshes or {}).get(name)
            if not isinstance(mesh, LearnableMesh):
                raise ValueError(f"the checkpoint has a learnable mesh {name!r} this run lacks")
            mesh.load_state_dict(mesh_state)
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self.global_step = state["global_step"]
        self._epoch_sums = list(state["epoch_sums"])
        self._train_seconds = state["train_seconds"]
        self.history, self.best = state["history"], state["best"]
        set_rng_state(state["rng"])

    def _resume(self) -> bool:
        """Write or check ``config.json``; load the checkpoint when there is one."""
        if self.run is None:
            return False
        self.run.write_config({"train": self.config.to_dict(), "metadata": self.metadata},
                              RESUMABLE_FIELDS)
        gdist.barrier()
        state = self.run.load_checkpoint()
        if state is not None:
            self.load_state_dict(state)
        return state is not None

