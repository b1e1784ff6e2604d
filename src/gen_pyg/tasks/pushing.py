"""The ``pushing`` task (the paper's section 4.2): its datasets, model, meshes and the metrics
of the parts of the pose change (:class:`PositionMSE`, :class:`AngleMSE`).

One example is one push of one object (:class:`~gen_pyg.datasets.Pushing`) and has **one
answer**, the pose change :math:`(\\Delta x, \\Delta y, \\Delta\\theta)` in cm, cm and rad: the
GEN reads it out with ``readout="sum"`` (node states summed per example, decoded once) and the
Neural Process with :class:`~gen_pyg.nn.GlobalNeuralProcess` (its pooled vector decoded
once).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import check_int
from gen_pyg.datasets import Pushing
from gen_pyg.mesh import grid
from gen_pyg.nn import GlobalNeuralProcess
from gen_pyg.training import DataConfig, ModelConfig, Task
from gen_pyg.training.objectives import MeanSquaredError

__all__ = ["PUSHING", "AngleMSE", "PositionMSE"]

#: the task's data options and their defaults (the paper's Omnipush sizes, no noise)
PUSHING_OPTIONS: dict[str, Any] = {"pushes_per_object": 250, "noise": 0.0, "num_samples": 64}
#: what each option sets
PUSHING_OPTION_HELP: dict[str, str] = {
    "pushes_per_object": "pushes simulated per object (instance)",
    "noise": "std of the Gaussian noise added to the targets: one number, or [cm, rad] for "
             "the position and the angle",
    "num_samples": "picture samples per example (the GEN's inputs, besides the push)"}


def check_pushing_options(options: dict[str, Any]) -> None:
    """Raise a :class:`ValueError` naming an option of the pushing task whose value does not
    fit (the value shown as given)."""
    for key in ("pushes_per_object", "num_samples"):
        check_int(options[key], f"options[{key!r}]", 1)
    noise = options["noise"]
    pair = isinstance(noise, (list, tuple))
    parts = list(noise) if pair else [noise]
    if len(parts) != (2 if pair else 1) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < math.inf
            for v in parts):
        raise ValueError(f"options['noise'] must be a number >= 0 or a list [cm, rad] of two, "
                         f"got {noise!r}")


class _ColumnMSE(MeanSquaredError):
    """:class:`~gen_pyg.training.objectives.MeanSquaredError` over some columns of ``[N, C]``
    targets: one term per selected entry."""

    columns: tuple[int, ...] = ()

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        pred, y = self._pair(pred, batch)
        if pred.dim() != 2 or pred.size(1) <= max(self.columns):
            raise ValueError(f"{self.__class__.__name__} needs [N, C] predictions with C > "
                             f"{max(self.columns)}, got {tuple(pred.shape)}")
        cols = list(self.columns)
        diff = pred[:, cols] - y[:, cols].to(pred.dtype)
        return (diff**2).sum(), int(diff.numel())

    def terms(self, batch: Any) -> int:
        y = self._target(batch)
        return int(y.size(0) * len(self.columns)) if y.dim() == 2 else 0


class PositionMSE(_ColumnMSE):
    r"""MSE of the position part :math:`(\Delta x, \Delta y)` of pose changes
    ``[N, 3]``: the mean over both coordinates of every example (half the mean squared distance
    between the predicted and true final positions), in cm².

    Example:
        >>> pred = torch.tensor([[1.0, 2.0, 0.5]])
        >>> PositionMSE()(pred, Data(y=torch.tensor([[0.0, 0.0, 0.0]])))
        (tensor(5.), 2)
    """

    name = "position_mse"
    columns = (0, 1)


class AngleMSE(_ColumnMSE):
    r"""MSE of the rotation :math:`\Delta\theta` (third column) of pose changes ``[N, 3]``,
    in rad².

    Example:
        >>> pred = torch.tensor([[1.0, 2.0, 0.5]])
        >>> AngleMSE()(pred, Data(y=torch.tensor([[0.0, 0.0, 0.0]])))
        (tensor(0.2500), 1)
    """

    name = "angle_mse"
    columns = (2,)


def pushing_splits(cfg: DataConfig, log: bool) -> dict[str, Any]:
    """The ``train``/``test`` (and ``val``) splits of :class:`~gen_pyg.datasets.Pushing`."""
    opts = cfg.options
    noise = opts["noise"]
    common: dict[str, Any] = {
        "num_objects": cfg.num_instances, "num_test_objects": cfg.num_test_instances,
        "num_val_objects": cfg.num_val_instances,
        "pushes_per_object": opts["pushes_per_object"], "num_samples": opts["num_samples"],
        "noise": tuple(noise) if isinstance(noise, (list, tuple)) else noise, "seed": cfg.seed,
        "log": log}
    splits = ["train", "test"] + (["val"] if cfg.num_val_instances else [])
    return {s: Pushing(str(cfg.root), split=s, **common) for s in splits}


def pushing_model(cfg: ModelConfig) -> torch.nn.Module:
    """A GEN with a sum readout (:meth:`ModelConfig.build_gen
    <gen_pyg.training.ModelConfig.build_gen>` with ``in_channels=[4, 2], out_channels=3,
    readout="sum"``), or the :class:`~gen_pyg.nn.GlobalNeuralProcess` with the same
    channels."""
    if cfg.kind == "neural_process":
        return GlobalNeuralProcess(in_channels=[4, 2], out_channels=3, **cfg.np_kwargs())
    return cfg.build_gen(in_channels=[4, 2], out_channels=3, readout="sum")


def _grids(cfg: DataConfig) -> dict[str, Data]:
    return {f"{k}x{k}": grid(k) for k in cfg.mesh_sizes or ()}


#: Pushing objects: 250 objects (50 for testing), a 2x2 grid, the pushes of one object in one
#: step, the pose change's parts as metrics.
PUSHING = Task(
    "pushing", "how a pushed object moves, from its picture (the paper's section 4.2)",
    pushing_splits, pushing_model, _grids,
    metrics=("mse", PositionMSE(), AngleMSE()), group_by="object", instance="object",
    num_instances=250, num_test_instances=50, mesh_sizes=(2,),
    options=dict(PUSHING_OPTIONS), option_help=dict(PUSHING_OPTION_HELP),
    check_options=check_pushing_options)
