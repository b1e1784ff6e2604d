"""Typed configuration of a training run, round-tripping to JSON and stored in checkpoints."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

SCHEDULES = ("constant", "cosine", "plateau")
PRECISIONS = ("fp32", "bf16", "fp16")
#: Fields a resumed run may change: they do not alter the steps already taken.
RESUMABLE_FIELDS = ("epochs", "progress", "tensorboard", "early_stopping_patience")


@dataclass
class TrainConfig:
    """Settings of :class:`~gen_pyg.training.Trainer`.

    Every field is checked at construction (a :class:`ValueError` names the field). A run
    folder holds them as ``config.json`` and every checkpoint stores them; resuming with
    different values is refused, except for the fields in :data:`RESUMABLE_FIELDS`
    (``epochs`` may grow to train longer).

    Args:
        epochs (int): passes over the training groups. (default: :obj:`60`)
        lr (float): learning rate of the weights (Adam). (default: :obj:`3e-3`)
        mesh_lr (float): learning rate of learnable node positions (the paper's 3e-4).
            (default: :obj:`3e-4`)
        weight_decay (float): Adam's weight decay. (default: :obj:`0.0`)
        groups_per_step (int): groups (houses) per optimiser step on each process; the
            global batch is ``groups_per_step * world_size``. (default: :obj:`1`)
        group_by (str or None): example attribute whose value groups examples into one
            pre-collated batch (all scenarios of a house, all pushes of an object); with
            :obj:`None`, or when the examples lack the attribute, examples are grouped in
            consecutive chunks of ``group_size`` (plain mini-batches). (default: :obj:`"house"`)
        group_size (int): chunk size of plain mini-batches. (default: :obj:`32`)
        schedule (str): learning-rate schedule: ``"constant"``, ``"cosine"`` (to
            ``lr * min_lr_ratio`` over the run, per step) or ``"plateau"`` (halve on a
            validation plateau). (default: :obj:`"constant"`)
        warmup_steps (int): linear warm-up steps before the schedule. (default: :obj:`0`)
        min_lr_ratio (float): final learning rate of ``"cosine"`` relative to ``lr``.
            (default: :obj:`0.01`)
        grad_clip (float or None): clip the global gradient norm to this value.
            (default: :obj:`None`)
        early_stopping_patience (int or None): stop after this many epochs without a better
            validation MSE, and restore the best weights. (default: :obj:`None`)
        augment (str): an augmentation by name (:data:`~gen_pyg.training.AUGMENTATIONS`):
            ``"square"`` applies a random symmetry of the unit square (one of 8
            rotations/reflections, :class:`~gen_pyg.training.SquareSymmetry`) to the points of
            every group at every step; the mesh is kept, so use it with meshes that share the
            symmetry (grids). Other augmentations are passed to the
            :class:`~gen_pyg.training.Trainer` as callables. (default: :obj:`"none"`)
        extra_rounds (int): run 0..``extra_rounds`` message-passing rounds more than the
            batch's mesh diameter, drawn per group and step with the augmentation's generator
            (:class:`~gen_pyg.training.RandomRounds`), so that a GEN learns rounds that converge
            rather than a fixed count; models with a fixed ``num_steps`` ignore it.
            (default: :obj:`0`)
        precision (str): ``"fp32"``, or mixed precision under :func:`torch.autocast`:
            ``"bf16"`` (CPU and GPU) or ``"fp16"`` (GPU, with a gradient scaler).
            (default: :obj:`"fp32"`)
        seed (int): seed of the order of groups, the mesh drawn per step and augmentation.
            (default: :obj:`0`)
        eval_every (int): epochs between validation evaluations. (default: :obj:`1`)
        progress (bool): report progress: tqdm bars and a line per epoch when stdout is a
            terminal, the line per epoch alone otherwise (a log file, a pipe).
            (default: :obj:`True`)
        tensorboard (bool): also log to TensorBoard (needs the ``tensorboard`` extra).
            (default: :obj:`False`)
    """

    epochs: int = 60
    lr: float = 3e-3
    mesh_lr: float = 3e-4
    weight_decay: float = 0.0
    groups_per_step: int = 1
    group_by: str | None = "house"
    group_size: int = 32
    schedule: str = "constant"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.01
    grad_clip: float | None = None
    early_stopping_patience: int | None = None
    augment: str = "none"
    extra_rounds: int = 0
    precision: str = "fp32"
    seed: int = 0
    eval_every: int = 1
    progress: bool = True
    tensorboard: bool = False

    def __post_init__(self) -> None:
        for name in ("epochs", "groups_per_step", "group_size", "eval_every"):
            _check_int(getattr(self, name), name, 1)
        _check_int(self.warmup_steps, "warmup_steps", 0)
        _check_int(self.extra_rounds, "extra_rounds", 0)
        _check_int(self.seed, "seed", 0)
        for name in ("lr", "mesh_lr"):
            _check_float(getattr(self, name), name, positive=True)
        _check_float(self.weight_decay, "weight_decay", positive=False)
        _check_float(self.min_lr_ratio, "min_lr_ratio", positive=True)
        if self.min_lr_ratio > 1:
            raise ValueError(f"min_lr_ratio must be at most 1, got {self.min_lr_ratio!r}")
        if self.grad_clip is not None:
            _check_float(self.grad_clip, "grad_clip", positive=True)
        if self.early_stopping_patience is not None:
            _check_int(self.early_stopping_patience, "early_stopping_patience", 1)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        from gen_pyg.training.augment import AUGMENTATIONS

        if self.augment not in AUGMENTATIONS:
            raise ValueError(f"augment must be one of {tuple(AUGMENTATIONS)}, got "
                             f"{self.augment!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.group_by is not None and (not isinstance(self.group_by, str)
                                          or not self.group_by):
            raise ValueError(f"group_by must be an attribute name or None, got "
                             f"{self.group_by!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict (e.g. read from ``config.json``); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s): {', '.join(unknown)}")
        return cls(**values)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


def config_differences(
    saved: dict[str, Any], current: dict[str, Any], ignore: tuple[str, ...] = RESUMABLE_FIELDS,
    prefix: str = "", defaults: dict[str, Any] | None = None,
) -> list[str]:
    """Human-readable differences ``"name: saved -> current"`` between two (nested) config
    dicts, skipping the top-level fields in ``ignore``.

    A field missing from :obj:`saved` whose current value is its entry in :obj:`defaults` (a
    dict of the same nesting) is no difference: the saved run was written before the field
    existed, and ran as its default does."""
    out = []
    defaults = defaults if isinstance(defaults, dict) else {}
    for key in sorted(set(saved) | set(current)):
        if not prefix and key in ignore:
            continue
        a, b = saved.get(key, "<missing>"), current.get(key, "<missing>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += config_differences(a, b, ignore, prefix=f"{prefix}{key}.",
                                      defaults=defaults.get(key))
        elif key not in saved and key in defaults and b == defaults[key]:
            continue
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return out


def config_defaults() -> dict[str, Any]:
    """The default of every field a run folder stores: ``"train"`` (:class:`TrainConfig`)
    and the experiment's ``"model"`` and ``"data"`` settings, for :func:`config_differences`."""
    from dataclasses import asdict

    from gen_pyg.training.experiment import DataConfig, ModelConfig

    return {"train": TrainConfig().to_dict(), "model": asdict(ModelConfig()),
            "data": asdict(DataConfig())}


def _check_int(value: object, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_float(value: object, name: str, positive: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (positive and value <= 0) or (not positive and value < 0):  # type: ignore[operator]
        what = "a positive finite number" if positive else "a non-negative finite number"
        raise ValueError(f"{name} must be {what}, got {value!r}")
