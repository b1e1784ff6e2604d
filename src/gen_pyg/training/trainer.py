"""The training engine: one loop for every task (regression, one answer per example,
classification, retrieval), over one or several meshes with one set of weights."""

from __future__ import annotations

import copy
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from tqdm.auto import tqdm

from gen_pyg.mesh.batching import replicate_mesh
from gen_pyg.mesh.learnable import LearnableMesh
from gen_pyg.training import distributed as gdist
from gen_pyg.training.augment import (
    Augmentation,
    Compose,
    MeshJitter,
    RandomRounds,
    get_augmentation,
)
from gen_pyg.training.batching import prepare_groups
from gen_pyg.training.config import TrainConfig
from gen_pyg.training.meshes import MeshLike, as_meshes, meshes_on
from gen_pyg.training.objectives import Objective, get_objective
from gen_pyg.training.plan import EpochPlanner
from gen_pyg.training.resume import Resumable
from gen_pyg.training.run_folder import RunFolder
from gen_pyg.training.schedule import build_schedulers
from gen_pyg.training.signals import TrainingInterrupted, catch_stop_signals

#: ``callback(trainer, info)`` called after every optimiser step; ``info`` holds ``epoch``
#: (counted from 1, as in the metrics), ``step`` (steps done in this epoch), ``global_step``,
#: ``loss`` (the step's mean loss) and, with ``config.grad_clip``, ``grad_norm`` (before
#: clipping).
StepCallback = Callable[["Trainer", dict[str, Any]], None]
_PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Trainer(Resumable):
    r"""Trains any model called as ``model(batch)`` on a dataset of
    :class:`~torch_geometric.data.Data` examples, over one or several meshes with one set of
    weights (the GEN paper's multi-mesh protocol), with the task given as data: a
    :obj:`loss`, :obj:`metrics`, an :obj:`augment`\ ation and the grouping of examples
    (``config.group_by``).

    The examples of each group (all scenarios of a house, all pushes of an object, or plain
    chunks of ``config.group_size`` examples when they have no ``group_by`` attribute) are
    collated into one batch **once**; every optimiser step draws one mesh for all of its groups
    and puts it on the pre-collated batches (:func:`~gen_pyg.mesh.batching.replicate_mesh`). Meshes
    may be fixed :class:`~torch_geometric.data.Data` meshes or
    :class:`~gen_pyg.mesh.LearnableMesh` modules (positions trained with ``config.mesh_lr``,
    projected and re-meshed after every step); with :obj:`meshes=None` the examples carry
    their own meshes (or the model needs none).

    With a :obj:`run_dir` the run is a folder (:class:`~gen_pyg.training.run_folder.RunFolder`):
    ``config.json``, ``metrics.jsonl``, ``metrics.csv`` and ``checkpoint.pt`` (written
    atomically after every epoch and on SIGINT/SIGTERM); calling :meth:`fit` again resumes
    exactly where it stopped, and a checkpoint of another configuration or model is refused
    with the differing fields named. Under ``torchrun``
    (:func:`~gen_pyg.training.init_distributed`) the model is wrapped in
    :class:`~torch.nn.parallel.DistributedDataParallel` and each process trains on its share of
    the groups.

    Args:
        model (torch.nn.Module): the model, e.g. :class:`~gen_pyg.nn.GEN`.
        train_dataset (sequence of Data): training examples.
        meshes (Data, LearnableMesh, dict or list, optional): the meshes; a dict names them,
            a list is named by :func:`mesh_name`. (default: :obj:`None`)
        config (TrainConfig, optional): settings. (default: :obj:`TrainConfig()`)
        val_dataset (sequence of Data, optional): validation examples (early stopping, the
            plateau schedule, per-epoch metrics). (default: :obj:`None`)
        run_dir (str or Path, optional): the run folder; :obj:`None` keeps everything in
            memory. (default: :obj:`None`)
        metadata (dict, optional): JSON-serialisable description of the experiment, saved with
            the config and compared on resume. (default: :obj:`None`)
        device (str or torch.device, optional): where to train; :obj:`None` uses the model's
            device. (default: :obj:`None`)
        callbacks (list of callables, optional): :obj:`callback(trainer, info)` after every
            step. (default: :obj:`()`)
        loss (str, Objective or callable, optional): what training minimises: a name of
            :data:`~gen_pyg.training.OBJECTIVES` (``"mse"``, ``"cross_entropy"``,
            ``"retrieval_cross_entropy"``, ...), an :class:`~gen_pyg.training.Objective`, or
            ``fn(pred, batch) -> mean over the batch's examples``. (default: :obj:`"mse"`)
        metrics (list, optional): what evaluation reports, the first one watched by early
            stopping and the plateau schedule; names, objectives or callables as for
            :obj:`loss`. (default: :obj:`[loss]`)
        augment (callable, optional): ``augment(batch, generator) -> batch`` applied to every
            group of every step (:mod:`gen_pyg.training.augment`); :obj:`None` uses
            ``config.augment`` by name. (default: :obj:`None`)

    Example:
        >>> from gen_pyg.mesh import grid
        >>> from gen_pyg.nn import GEN
        >>> data = [Data(input_pos=torch.rand(8, 2), input_x=torch.rand(8, 1),
        ...              query_pos=torch.rand(4, 2), y=torch.rand(4, 1)) for _ in range(6)]
        >>> trainer = Trainer(GEN(), data, meshes=[grid(2), grid(3)], metrics=["mse", "mae"],
        ...                   config=TrainConfig(epochs=2, group_size=3, progress=False))
        >>> history = trainer.fit()
        >>> len(history), sorted(trainer.evaluate(data)), sorted(trainer.evaluate_all(data)["2x2"])
        (2, ['2x2', '3x3'], ['mae', 'mse'])
    """

    def __init__(
        self,
        model: torch.nn.Module,
        train_dataset: Sequence[Data],
        *,
        meshes: MeshLike | Mapping[str, MeshLike] | Sequence[MeshLike] | None = None,
        config: TrainConfig | None = None,
        val_dataset: Sequence[Data] | None = None,
        run_dir: str | Path | None = None,
        metadata: dict[str, Any] | None = None,
        device: str | torch.device | None = None,
        callbacks: Sequence[StepCallback] = (),
        loss: str | Objective | Callable[[Any, Any], Tensor] = "mse",
        metrics: Sequence[str | Objective | Callable[[Any, Any], Tensor]] | None = None,
        augment: Augmentation | None = None,
    ) -> None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        cfg = self.config = config if config is not None else TrainConfig()
        if not isinstance(cfg, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(cfg).__name__}")
        if cfg.schedule == "plateau" and val_dataset is None:
            raise ValueError("config.schedule='plateau' needs a val_dataset to watch")
        if cfg.schedule == "plateau" and cfg.warmup_steps:
            raise ValueError("config.warmup_steps is not supported with schedule='plateau'")
        if cfg.early_stopping_patience is not None and val_dataset is None:
            raise ValueError("config.early_stopping_patience needs a val_dataset")
        if augment is not None and cfg.augment != "none":
            raise ValueError(f"augment was given and config.augment={cfg.augment!r} too; pass "
                             "one of them")
        if augment is not None and not callable(augment):
            raise TypeError(f"augment must be callable, got {type(augment).__name__}")
        self.loss = get_objective(loss, "loss")
        self.metrics = [get_objective(m, "metrics") for m in
                        (metrics if metrics is not None else [self.loss])]
        if not self.metrics:
            raise ValueError("metrics must name at least one metric (or be None)")
        # the named augmentation, then the random rounds and the mesh jitter, one generator
        chain = [a for a in (augment if augment is not None else get_augmentation(cfg.augment),
                             RandomRounds(cfg.extra_rounds) if cfg.extra_rounds else None,
                             MeshJitter(cfg.mesh_jitter) if cfg.mesh_jitter else None)
                 if a is not None]
        self.augment = (None if not chain else chain[0] if len(chain) == 1
                        else Compose(chain))
        self.dist = gdist.current()
        params = list(model.parameters())
        self.device = torch.device(device if device is not None else
                                   params[0].device if params else "cpu")
        self.model = model.to(self.device)
        self.meshes = meshes_on(as_meshes(meshes), self.device)
        self.run = (RunFolder(run_dir, self.dist.is_main, cfg.tensorboard)
                    if run_dir is not None else None)
        self.run_dir = self.run.path if self.run is not None else None
        self.metadata = json.loads(json.dumps(metadata or {}))
        self.callbacks = list(callbacks)
        self._train_groups = self._prepare(train_dataset, "train_dataset")
        self._val_groups = (self._prepare(val_dataset, "val_dataset")
                            if val_dataset is not None else None)
        self._mesh_cache: dict[Any, Any] = {}
        self.ddp_model: torch.nn.Module = self.model
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp_model = DistributedDataParallel(self.model, device_ids=ids)
        groups: list[dict[str, Any]] = [
            {"params": [p for p in self.model.parameters() if p.requires_grad],
             "lr": cfg.lr, "name": "weights"}]
        if self._mesh_parameters():
            groups.append({"params": self._mesh_parameters(), "lr": cfg.mesh_lr,
                           "name": "meshes"})
        self.optimizer = torch.optim.Adam(groups, lr=cfg.lr, betas=(0.9, cfg.beta2),
                                          weight_decay=cfg.weight_decay)
        self.planner = EpochPlanner(
            [self.loss.terms(g) for g in self._train_groups],
            list(self.meshes) if self.meshes is not None else [None], cfg.groups_per_step,
            cfg.seed, self.dist.rank, self.dist.world_size, self.augment is not None)
        self.steps_per_epoch = self.planner.steps_per_epoch
        self.scheduler, self.plateau = build_schedulers(
            self.optimizer, cfg, self.steps_per_epoch, self.metrics[0].higher_is_better)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=cfg.precision == "fp16")
        self.epoch = self.step_in_epoch = self.global_step = 0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self._epoch_sums = [0.0, 0.0, 0.0]  # loss sum, loss terms, examples
        self._train_seconds = 0.0
        self._stop_signal: int | None = None
        self._last_grad_norm: float | None = None
        #: epochs the latest :meth:`fit` finished (0: the run folder's run was complete)
        self.fit_epochs = 0

    # ------------------------------------------------------------------ data
    def _prepare(self, dataset: Sequence[Data] | None, name: str) -> list[Batch]:
        return prepare_groups(dataset, name, self.config.group_by, self.config.group_size,
                              self.meshes is None, self.device, (self.loss, *self.metrics))

    def _mesh_parameters(self) -> list[torch.nn.Parameter]:
        return [m.pos for m in (self.meshes or {}).values() if isinstance(m, LearnableMesh)]

    def batch(self, group: Batch, mesh: MeshLike | None,
              cache: dict[Any, Any] | None = None) -> Batch:
        """The group's pre-collated batch on :obj:`mesh` (or as it is, without meshes)."""
        if mesh is None:
            return group
        data = mesh.data() if isinstance(mesh, LearnableMesh) else mesh
        return replicate_mesh(group, data, self._mesh_cache if cache is None else cache)

    def epoch_plan(self, epoch: int) -> list[dict[str, Any]]:
        """The steps of :obj:`epoch` (:class:`~gen_pyg.training.plan.EpochPlanner`)."""
        return self.planner(epoch)

    @property
    def train_seconds(self) -> float:
        """Wall-clock seconds spent in training steps so far, over all runs of the folder."""
        return self._train_seconds

    @property
    def lr(self) -> float:
        """Current learning rate of the weights."""
        return float(self.optimizer.param_groups[0]["lr"])

    def _autocast(self) -> Any:
        dtype = _PRECISIONS.get(self.config.precision)
        return (torch.autocast(self.device.type, dtype=dtype) if dtype is not None
                else nullcontext())

    # ------------------------------------------------------------------ steps
    def _train_step(self, step: dict[str, Any]) -> float:
        mesh = self.meshes[step["mesh"]] if self.meshes is not None else None
        self.optimizer.zero_grad(set_to_none=True)
        scale = self.dist.world_size / step["targets"]
        groups = step["groups"]
        total, count, examples = 0.0, 0, 0
        for i, (g, seed) in enumerate(zip(groups, step["augment"], strict=True)):
            batch = self.batch(self._train_groups[g], mesh)
            if seed is not None and self.augment is not None:
                batch = self.augment(batch, torch.Generator().manual_seed(seed))
            last = i == len(groups) - 1
            sync = (self.ddp_model.no_sync() if self.dist.enabled and not last  # type: ignore[operator]
                    else nullcontext())
            with sync:
                with self._autocast():
                    value, n = self.loss(self.ddp_model(batch), batch)
                self.scaler.scale(value * scale).backward()
            total += float(value.detach())
            count += int(n)
            examples += int(batch.num_graphs)
        if not math.isfinite(total):
            raise FloatingPointError(
                f"the training loss is {total} at epoch {self.epoch + 1}, step "
                f"{self.step_in_epoch + 1}; lower config.lr or set config.grad_clip")
        mesh_params = [p for p in self._mesh_parameters() if p.grad is not None]
        if self.dist.enabled:
            for p in mesh_params:
                assert p.grad is not None
                torch.distributed.all_reduce(p.grad)
                p.grad /= self.dist.world_size
        if self.config.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            params = [p for grp in self.optimizer.param_groups for p in grp["params"]]
            norm = torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
            self._last_grad_norm = float(norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
        if isinstance(mesh, LearnableMesh):
            mesh.post_step()
        self._epoch_sums[0] += total
        self._epoch_sums[1] += count
        self._epoch_sums[2] += examples
        return total / max(count, 1)

    # -------------------------------------------------------------- evaluate
    @torch.no_grad()
    def evaluate_all(self, dataset: Sequence[Data] | None = None,
                     meshes: MeshLike | Mapping[str, MeshLike] | Sequence[MeshLike] | None = None,
                     model: torch.nn.Module | None = None) -> dict[str, dict[str, float]]:
        """Every metric per mesh, ``{mesh name: {metric name: value}}``, each the mean over
        all terms of :obj:`dataset` (then finished, e.g. the square root of the RMSE).

        Args:
            dataset (sequence of Data, optional): examples; :obj:`None` uses the validation
                set. (default: :obj:`None`)
            meshes (optional): meshes to evaluate on (any size, not only the trained ones);
                :obj:`None` uses the trainer's. (default: :obj:`None`)
            model (torch.nn.Module, optional): evaluate this model in place of the trained one,
                e.g. ``SymmetryAverage(trainer.model)``. (default: :obj:`None`)
        """
        if dataset is None:
            if self._val_groups is None:
                raise ValueError("evaluate() needs a dataset (the trainer has no val_dataset)")
            groups = self._val_groups
        else:
            groups = self._prepare(dataset, "dataset")
        chosen = meshes_on(as_meshes(meshes), self.device) if meshes is not None else self.meshes
        named: dict[str, MeshLike | None] = dict(chosen) if chosen is not None else {
            "own mesh": None}
        cache = self._mesh_cache if meshes is None else {}
        if model is not None and not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        evaluated = self.model if model is None else model
        was_training = evaluated.training
        evaluated.eval()
        out = {}
        try:
            for name, mesh in named.items():
                sums = [0.0] * (2 * len(self.metrics))
                for g in groups[self.dist.rank::self.dist.world_size]:
                    batch = self.batch(g, mesh, cache)
                    with self._autocast():
                        pred = evaluated(batch)
                    for i, metric in enumerate(self.metrics):
                        value, n = metric(pred, batch)
                        sums[2 * i] += float(value)
                        sums[2 * i + 1] += float(n)
                sums = gdist.all_reduce_sum(sums, self.device)
                out[name] = {m.name: m.finish(sums[2 * i] / sums[2 * i + 1])
                             for i, m in enumerate(self.metrics)}
        finally:
            evaluated.train(was_training)
        return out

    def evaluate(self, dataset: Sequence[Data] | None = None,
                 meshes: MeshLike | Mapping[str, MeshLike] | Sequence[MeshLike] | None = None,
                 model: torch.nn.Module | None = None) -> dict[str, float]:
        """The first metric per mesh, ``{mesh name: value}`` (the test MSE by default;
        ``{"own mesh": ...}`` when the examples carry meshes); arguments as
        :meth:`evaluate_all`."""
        first = self.metrics[0].name
        return {k: v[first] for k, v in self.evaluate_all(dataset, meshes, model).items()}

    # ------------------------------------------------------------------- fit
    def _on_signal(self, signum: int) -> None:
        self._stop_signal = signum

    def _should_stop(self) -> int | None:
        flag = self._stop_signal or 0
        if self.dist.enabled:
            t = torch.tensor([flag], device=self.device)
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            flag = int(t.item())
        return flag or None

    def fit(self) -> list[dict[str, Any]]:
        """Train for ``config.epochs`` epochs (resuming from the run folder's checkpoint) and
        return the per-epoch metrics.

        Raises:
            TrainingInterrupted: after SIGINT/SIGTERM, once the checkpoint is written.
        """
        resumed = self._resume()
        start = self.epoch
        if resumed and self.dist.is_main and self.config.progress:
            if self.complete:
                print(f"{self.checkpoint_path} holds a complete run ({self.epoch} of "
                      f"{self.config.epochs} epochs"
                      + (", stopped early" if self.epoch < self.config.epochs else "")
                      + "): nothing to train; raise epochs to train longer",
                      file=sys.stderr)
            else:
                print(f"resuming from {self.checkpoint_path} at epoch {self.epoch + 1}, step "
                      f"{self.step_in_epoch}", file=sys.stderr)
        show = self.config.progress and self.dist.is_main and sys.stdout.isatty()
        if self.run is not None:
            self.run.open()
        try:
            with catch_stop_signals(self._on_signal):
                while not self.complete:
                    self._run_epoch(show)
        finally:
            if self.run is not None:
                self.run.close()
        if self.best is not None and self.config.early_stopping_patience is not None:
            self.model.load_state_dict(self.best["model"])
        self.fit_epochs = self.epoch - start
        return self.history

    @property
    def complete(self) -> bool:
        """Whether the run has trained all of ``config.epochs`` (or stopped early): a
        :meth:`fit` would train nothing."""
        return self.epoch >= self.config.epochs or self._stopped_early()

    def _stopped_early(self) -> bool:
        patience = self.config.early_stopping_patience
        if patience is None or self.best is None or not self.history:
            return False
        return int(self.history[-1]["epoch"]) - int(self.best["epoch"]) >= patience

    def _run_epoch(self, show: bool) -> None:
        plan = self.epoch_plan(self.epoch)
        if self.step_in_epoch == 0:
            self._epoch_sums = [0.0, 0.0, 0.0]
        bar = tqdm(total=len(plan), initial=self.step_in_epoch, disable=not show,
                   desc=f"epoch {self.epoch + 1}/{self.config.epochs}", leave=False)
        t0 = time.perf_counter()
        seen0 = self._epoch_sums[2]
        self.model.train()
        for s in range(self.step_in_epoch, len(plan)):
            loss = self._train_step(plan[s])
            self.step_in_epoch = s + 1
            self.global_step += 1
            if show:
                rate = (self._epoch_sums[2] - seen0) / max(time.perf_counter() - t0, 1e-9)
                bar.set_postfix(loss=f"{loss:.4f}", lr=f"{self.lr:.2e}", ex_s=f"{rate:.0f}")
                bar.update(1)
            info: dict[str, Any] = {"epoch": self.epoch + 1, "step": s + 1,
                                    "global_step": self.global_step, "loss": loss}
            if self._last_grad_norm is not None:
                info["grad_norm"] = self._last_grad_norm
            for cb in self.callbacks:
                cb(self, info)
            signum = self._should_stop()
            if signum is not None:
                self._train_seconds += time.perf_counter() - t0
                bar.close()
                raise TrainingInterrupted(signum, self.save_checkpoint())
        bar.close()
        seconds = time.perf_counter() - t0
        self._train_seconds += seconds
        total, count, examples = gdist.all_reduce_sum(self._epoch_sums, self.device)
        record: dict[str, Any] = {
            "epoch": self.epoch + 1, "step": self.global_step,
            f"train_{self.loss.name}": self.loss.finish(total / count), "lr": self.lr,
            "examples_per_s": examples / max(seconds, 1e-9),
            "train_seconds": self._train_seconds,
        }
        if self._val_groups is not None and (self.epoch + 1) % self.config.eval_every == 0:
            self._validate(record)
        self.history.append(record)
        self.epoch += 1
        self.step_in_epoch = 0
        self._epoch_sums = [0.0, 0.0, 0.0]
        self.save_checkpoint()
        if self.run is not None:
            self.run.write_metrics(self.history)
        if self.config.progress and self.dist.is_main:
            # one line per epoch: above the bars in a terminal, alone in a log file or a pipe
            key = f"val_{self.metrics[0].name}"
            shown = f", {key} {record[key]:.4f}" if key in record else ""
            line = (f"epoch {record['epoch']}/{self.config.epochs}: train {self.loss.name} "
                    f"{record[f'train_{self.loss.name}']:.4f}{shown} ({seconds:.1f} s)")
            if show:
                tqdm.write(line)
            else:
                print(line, flush=True)

    def _validate(self, record: dict[str, Any]) -> None:
        """Evaluate every metric on the validation set into :obj:`record`; keep the best
        weights by the first metric and step the plateau schedule."""
        values = self.evaluate_all()
        for m in self.metrics:
            per_mesh = {k: v[m.name] for k, v in values.items()}
            record.update({f"val_{m.name}/{k}": v for k, v in per_mesh.items()})
            record[f"val_{m.name}"] = sum(per_mesh.values()) / len(per_mesh)
        watched = self.metrics[0]
        value = record[f"val_{watched.name}"]
        if self.plateau is not None:
            self.plateau.step(value)
        better = (self.best is None or (value > self.best["value"] if watched.higher_is_better
                                        else value < self.best["value"]))
        if better:
            self.best = {"epoch": self.epoch + 1, "metric": watched.name, "value": value,
                         "model": copy.deepcopy(self.model.state_dict())}
