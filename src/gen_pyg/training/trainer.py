"""The training engine for spatial function transformations (GEN, NeuralProcess, user models)."""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import Any, TypeAlias

import torch
from torch import Tensor
from torch.utils.data import DistributedSampler
from torch_geometric.data import Batch, Data
from tqdm.auto import tqdm

from gen_pyg.mesh.learnable import LearnableMesh
from gen_pyg.training import distributed as gdist
from gen_pyg.training.batching import (
    collate_group,
    group_examples,
    has_mesh,
    replicate_mesh,
    square_symmetry,
)
from gen_pyg.training.checkpoint import (
    atomic_save,
    atomic_write_text,
    load_checkpoint,
    model_signature,
    rng_state,
    set_rng_state,
    signature_differences,
)
from gen_pyg.training.config import TrainConfig, config_differences

MeshLike: TypeAlias = "Data | LearnableMesh"
#: ``callback(trainer, info)`` called after every optimiser step; ``info`` holds ``epoch``
#: (counted from 1, as in the metrics), ``step`` (steps done in this epoch), ``global_step``,
#: ``loss`` (the step's MSE) and, with ``config.grad_clip``, ``grad_norm`` (before clipping).
StepCallback = Callable[["Trainer", dict[str, Any]], None]


class TrainingInterrupted(Exception):
    """Raised by :meth:`Trainer.fit` after SIGINT/SIGTERM, once the checkpoint of the last
    completed step is written; running the same training again resumes from it."""

    def __init__(self, signum: int, checkpoint: Path | None) -> None:
        self.signum = signum
        self.checkpoint = checkpoint
        where = f"; checkpoint {checkpoint}" if checkpoint is not None else ""
        super().__init__(f"training interrupted by {signal.Signals(signum).name}{where}")


def mesh_name(mesh: MeshLike) -> str:
    """A readable name of a mesh: ``"5x5"`` for a grid, else ``"<N> nodes"``."""
    data = mesh.data() if isinstance(mesh, LearnableMesh) else mesh
    shape = data.get("grid_shape")
    if isinstance(shape, Tensor) and shape.numel():
        return "x".join(str(int(s)) for s in shape.view(-1))
    prefix = "learnable " if isinstance(mesh, LearnableMesh) else ""
    return f"{prefix}{int(data.num_nodes)} nodes"


def _as_meshes(meshes: MeshLike | Mapping[str, MeshLike] | Sequence[MeshLike] | None,
               ) -> dict[str, MeshLike] | None:
    if meshes is None:
        return None
    if isinstance(meshes, (Data, LearnableMesh)):
        meshes = [meshes]
    if isinstance(meshes, Mapping):
        out = dict(meshes)
    else:
        out = {}
        for m in meshes:
            name = mesh_name(m)
            if name in out:
                raise ValueError(f"meshes: two meshes are both named {name!r}; pass a dict")
            out[name] = m
    if not out:
        raise ValueError("meshes must hold at least one mesh (or be None)")
    for name, m in out.items():
        if not isinstance(m, (Data, LearnableMesh)):
            raise TypeError(f"meshes[{name!r}] must be a Data mesh or a LearnableMesh, got "
                            f"{type(m).__name__}")
        if isinstance(m, Data) and (m.get("pos") is None or m.get("edge_index") is None):
            raise ValueError(f"meshes[{name!r}] needs 'pos' and 'edge_index'")
    return out


class Trainer:
    r"""Trains a model of the GEN call signature (``model(batch) -> predictions`` at
    ``batch.query_pos``, compared with ``batch.y`` by mean squared error) on a dataset of
    spatial function transformation examples, over one or several meshes with one set of
    weights (the GEN paper's multi-mesh protocol).

    The examples of each group (all scenarios of a house: attribute ``config.group_by``) are
    collated into one batch **once**; every optimiser step draws one mesh for all of its
    groups and puts it on the pre-collated batches (:func:`~gen_pyg.training.replicate_mesh`).
    Meshes may be fixed :class:`~torch_geometric.data.Data` meshes or
    :class:`~gen_pyg.mesh.LearnableMesh` modules, whose positions are trained with
    ``config.mesh_lr`` and projected and re-meshed after every step; with :obj:`meshes=None`
    the examples carry their own meshes.

    With a :obj:`run_dir`, the run is a folder: ``config.json``, ``metrics.jsonl``,
    ``metrics.csv`` and ``checkpoint.pt`` (written atomically after every epoch and on
    SIGINT/SIGTERM). Calling :meth:`fit` on a folder that holds a checkpoint resumes exactly
    where it stopped; a checkpoint of another configuration or model is refused with the
    differing fields named. Under ``torchrun`` (:func:`~gen_pyg.training.init_distributed`)
    the model is wrapped in :class:`~torch.nn.parallel.DistributedDataParallel` and each process
    trains on its share of the groups.

    Args:
        model (torch.nn.Module): the model, e.g. :class:`~gen_pyg.nn.GEN`.
        train_dataset (sequence of Data): training examples.
        meshes (Data, LearnableMesh, dict or list, optional): the meshes; a dict names them,
            a list is named by :func:`mesh_name`. (default: :obj:`None`)
        config (TrainConfig, optional): settings. (default: :obj:`TrainConfig()`)
        val_dataset (sequence of Data, optional): validation examples (early stopping, the
            plateau schedule). (default: :obj:`None`)
        run_dir (str or Path, optional): the run folder; :obj:`None` keeps everything in
            memory (no checkpoints). (default: :obj:`None`)
        metadata (dict, optional): JSON-serialisable description of the experiment (model and
            data settings), saved with the config and compared on resume. (default: :obj:`None`)
        device (str or torch.device, optional): where to train; :obj:`None` uses the model's
            device. (default: :obj:`None`)
        callbacks (list of callables, optional): :obj:`callback(trainer, info)` after every
            step. (default: :obj:`()`)

    Example:
        >>> from gen_pyg.mesh import grid
        >>> from gen_pyg.nn import GEN
        >>> data = [Data(input_pos=torch.rand(8, 2), input_x=torch.rand(8, 1),
        ...              query_pos=torch.rand(4, 2), y=torch.rand(4, 1)) for _ in range(6)]
        >>> trainer = Trainer(GEN(), data, meshes=[grid(2), grid(3)],
        ...                   config=TrainConfig(epochs=2, group_size=3, progress=False))
        >>> history = trainer.fit()
        >>> len(history), sorted(trainer.evaluate(data))
        (2, ['2x2', '3x3'])
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
    ) -> None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.config = config if config is not None else TrainConfig()
        if not isinstance(self.config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(self.config).__name__}")
        if self.config.schedule == "plateau" and val_dataset is None:
            raise ValueError("config.schedule='plateau' needs a val_dataset to watch")
        if self.config.schedule == "plateau" and self.config.warmup_steps:
            raise ValueError("config.warmup_steps is not supported with schedule='plateau'")
        if self.config.early_stopping_patience is not None and val_dataset is None:
            raise ValueError("config.early_stopping_patience needs a val_dataset")
        self.dist = gdist.current()
        params = list(model.parameters())
        if device is None:
            device = params[0].device if params else torch.device("cpu")
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.meshes = self._on_device(_as_meshes(meshes))
        self.run_dir = Path(run_dir) if run_dir is not None else None
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
             "lr": self.config.lr, "name": "weights"}
        ]
        mesh_params = self._mesh_parameters()
        if mesh_params:
            groups.append({"params": mesh_params, "lr": self.config.mesh_lr, "name": "meshes"})
        self.optimizer = torch.optim.Adam(groups, lr=self.config.lr,
                                          weight_decay=self.config.weight_decay)
        self.steps_per_epoch = self._steps_per_epoch()
        self.scheduler, self.plateau = self._schedulers()

        self.epoch = 0
        self.step_in_epoch = 0
        self.global_step = 0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self._epoch_sums = [0.0, 0.0, 0.0]  # squared error, targets, examples
        self._train_seconds = 0.0
        self._stop_signal: int | None = None
        self._writer: Any = None
        self._last_grad_norm: float | None = None

    # ------------------------------------------------------------------ data
    def _prepare(self, dataset: Sequence[Data] | None, name: str) -> list[Batch]:
        if dataset is None or len(dataset) == 0:
            raise ValueError(f"{name} is empty: there is nothing to train or evaluate on")
        first = dataset[0]
        if not isinstance(first, Data):
            raise TypeError(f"{name} must hold torch_geometric Data examples, got "
                            f"{type(first).__name__}")
        with_mesh = self.meshes is None
        if with_mesh and not has_mesh(first):
            raise ValueError(f"{name}: the examples have no mesh ('pos', 'edge_index') and no "
                             "meshes were given; pass meshes=... (e.g. gen_pyg.mesh.grid(5))")
        for key in ("input_pos", "input_x", "query_pos", "y"):
            if first.get(key) is None:
                raise ValueError(f"{name}: the examples need '{key}' (got keys "
                                 f"{sorted(first.keys())})")
        examples = [dataset[i] for i in range(len(dataset))]  # one pass over the dataset
        index = group_examples(examples, self.config.group_by, self.config.group_size)
        return [collate_group([examples[i] for i in g], with_mesh).to(self.device) for g in index]

    def _on_device(self, meshes: dict[str, MeshLike] | None) -> dict[str, MeshLike] | None:
        """The meshes on the training device (learnable ones moved, fixed ones copied: the
        caller's Data objects are left as they are)."""
        if meshes is None:
            return None
        out: dict[str, MeshLike] = {}
        for name, m in meshes.items():
            if isinstance(m, LearnableMesh):
                out[name] = m.to(self.device)
            elif m.pos.device != self.device:
                out[name] = m.clone().to(self.device)
            else:
                out[name] = m
        return out

    def _mesh_parameters(self) -> list[torch.nn.Parameter]:
        return [m.pos for m in (self.meshes or {}).values() if isinstance(m, LearnableMesh)]

    def _mesh_data(self, mesh: MeshLike) -> Data:
        return mesh.data() if isinstance(mesh, LearnableMesh) else mesh

    def batch(self, group: Batch, mesh: MeshLike | None) -> Batch:
        """The group's pre-collated batch on :obj:`mesh` (or as it is, without meshes)."""
        if mesh is None:
            return group
        return replicate_mesh(group, self._mesh_data(mesh), self._mesh_cache)

    # -------------------------------------------------------------- schedule
    def _sampler(self, rank: int, num_groups: int) -> DistributedSampler[int]:
        indices: Any = range(num_groups)  # any sized sequence works as the sampler's dataset
        return DistributedSampler(indices, num_replicas=self.dist.world_size,
                                  rank=rank, shuffle=True, seed=self.config.seed)

    def _steps_per_epoch(self) -> int:
        local = len(self._sampler(0, len(self._train_groups)))
        return math.ceil(local / self.config.groups_per_step)

    def epoch_plan(self, epoch: int) -> list[dict[str, Any]]:
        """The steps of :obj:`epoch`: for each, the mesh, this process's groups with their
        augmentation, and the number of targets of the whole (all-process) step. A function
        of the seed and the epoch only, so that every process and every resume agrees."""
        w, per = self.dist.world_size, self.config.groups_per_step
        n = len(self._train_groups)
        orders = []
        for r in range(w):
            sampler = self._sampler(r, n)
            sampler.set_epoch(epoch)
            orders.append(list(sampler))
        gen = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        names = list(self.meshes) if self.meshes is not None else [None]
        mesh_idx = torch.randint(len(names), (self.steps_per_epoch,), generator=gen).tolist()
        augs = torch.randint(8, (self.steps_per_epoch, w * per), generator=gen).tolist()
        plan = []
        for s in range(self.steps_per_epoch):
            chunks = [order[s * per:(s + 1) * per] for order in orders]
            targets = sum(self._train_groups[g].y.numel() for c in chunks for g in c)
            mine = chunks[self.dist.rank]
            aug = [augs[s][i * w + self.dist.rank] if self.config.augment == "square" else 0
                   for i in range(len(mine))]
            plan.append({"mesh": names[mesh_idx[s]], "groups": mine, "augment": aug,
                         "targets": targets})
        return plan

    def _schedulers(self) -> tuple[torch.optim.lr_scheduler.LRScheduler | None,
                                   torch.optim.lr_scheduler.ReduceLROnPlateau | None]:
        cfg = self.config
        if cfg.schedule == "plateau":
            return None, torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, mode="min", factor=0.5, patience=2)
        total = max(1, cfg.epochs * self.steps_per_epoch - cfg.warmup_steps)
        warm, ratio, cosine = cfg.warmup_steps, cfg.min_lr_ratio, cfg.schedule == "cosine"

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / (warm + 1)
            if not cosine:
                return 1.0
            t = min(1.0, (step - warm) / total)
            return ratio + (1 - ratio) * 0.5 * (1 + math.cos(math.pi * t))

        if not warm and not cosine:
            return None, None
        return torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor), None

    @property
    def train_seconds(self) -> float:
        """Wall-clock seconds spent in training steps so far, over all runs of the folder."""
        return self._train_seconds

    @property
    def lr(self) -> float:
        """Current learning rate of the weights."""
        return float(self.optimizer.param_groups[0]["lr"])

    # ------------------------------------------------------------------ steps
    def _loss_sum(self, batch: Batch) -> tuple[Tensor, int]:
        pred = self.ddp_model(batch)
        y = batch.y
        if not isinstance(pred, Tensor) or pred.shape != y.shape:
            shape = tuple(pred.shape) if isinstance(pred, Tensor) else type(pred).__name__
            raise ValueError(f"the model returned {shape} but the targets 'y' have shape "
                             f"{tuple(y.shape)}")
        return ((pred - y) ** 2).sum(), y.numel()

    def _train_step(self, step: dict[str, Any]) -> float:
        mesh = self.meshes[step["mesh"]] if self.meshes is not None else None
        self.optimizer.zero_grad(set_to_none=True)
        scale = self.dist.world_size / step["targets"]
        groups = step["groups"]
        sq_total, count, examples = 0.0, 0, 0
        for i, (g, aug) in enumerate(zip(groups, step["augment"], strict=True)):
            batch = self.batch(self._train_groups[g], mesh)
            if aug:
                batch = square_symmetry(batch, aug)
            last = i == len(groups) - 1
            sync = (self.ddp_model.no_sync() if self.dist.enabled and not last  # type: ignore[operator]
                    else nullcontext())
            with sync:
                sq, n = self._loss_sum(batch)
                torch.autograd.backward(sq * scale)
            sq_total += float(sq.detach())
            count += n
            examples += int(batch.num_graphs)
        if not math.isfinite(sq_total):
            raise FloatingPointError(
                f"the training loss is {sq_total} at epoch {self.epoch + 1}, step "
                f"{self.step_in_epoch + 1}; lower config.lr or set config.grad_clip")
        mesh_params = [p for p in self._mesh_parameters() if p.grad is not None]
        if self.dist.enabled and mesh_params:
            for p in mesh_params:
                assert p.grad is not None
                torch.distributed.all_reduce(p.grad)
                p.grad /= self.dist.world_size
        if self.config.grad_clip is not None:
            params = [p for grp in self.optimizer.param_groups for p in grp["params"]]
            norm = torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
            self._last_grad_norm = float(norm)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        if isinstance(mesh, LearnableMesh):
            mesh.post_step()
        self._epoch_sums[0] += sq_total
        self._epoch_sums[1] += count
        self._epoch_sums[2] += examples
        return sq_total / max(count, 1)

    # -------------------------------------------------------------- evaluate
    @torch.no_grad()
    def evaluate(self, dataset: Sequence[Data] | None = None,
                 meshes: MeshLike | Mapping[str, MeshLike] | Sequence[MeshLike] | None = None,
                 model: torch.nn.Module | None = None) -> dict[str, float]:
        """Test MSE of the model per mesh (all targets of :obj:`dataset` weighed equally).

        Args:
            dataset (sequence of Data, optional): examples; :obj:`None` uses the validation
                set. (default: :obj:`None`)
            meshes (optional): meshes to evaluate on (any size, not only the trained ones);
                :obj:`None` uses the trainer's meshes. (default: :obj:`None`)
            model (torch.nn.Module, optional): evaluate this model in place of the trained one,
                on the same batches; typically a wrapper of it, e.g.
                ``SymmetryAverage(trainer.model)`` (:class:`~gen_pyg.nn.SymmetryAverage`).
                (default: :obj:`None`)

        Returns:
            ``{mesh name: MSE}`` (``{"own mesh": MSE}`` when the examples carry meshes).
        """
        if dataset is None:
            if self._val_groups is None:
                raise ValueError("evaluate() needs a dataset (the trainer has no val_dataset)")
            groups = self._val_groups
        else:
            groups = self._prepare(dataset, "dataset")
        chosen = self._on_device(_as_meshes(meshes)) if meshes is not None else self.meshes
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
                sq, count = 0.0, 0
                data = self._mesh_data(mesh) if mesh is not None else None
                for g in groups[self.dist.rank::self.dist.world_size]:
                    batch = replicate_mesh(g, data, cache) if data is not None else g
                    s, n = self._loss_sum_eval(batch, evaluated)
                    sq += s
                    count += n
                sq, count_f = gdist.all_reduce_sum([sq, float(count)], self.device)
                out[name] = sq / count_f
        finally:
            evaluated.train(was_training)
        return out

    def _loss_sum_eval(self, batch: Batch, model: torch.nn.Module | None = None,
                       ) -> tuple[float, int]:
        pred = (self.model if model is None else model)(batch)
        if pred.shape != batch.y.shape:
            raise ValueError(f"the model returned {tuple(pred.shape)} but the targets 'y' have "
                             f"shape {tuple(batch.y.shape)}")
        return float(((pred - batch.y) ** 2).sum()), batch.y.numel()

    # ------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Path | None:
        return self.run_dir / "checkpoint.pt" if self.run_dir is not None else None

    def state_dict(self) -> dict[str, Any]:
        """Everything a resume needs (what :meth:`save_checkpoint` writes)."""
        return {
            "format": "gen_pyg.trainer",
            "config": self.config.to_dict(),
            "metadata": self.metadata,
            "model_signature": model_signature(self.model),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "plateau": self.plateau.state_dict() if self.plateau is not None else None,
            "meshes": {name: m.state_dict() for name, m in (self.meshes or {}).items()
                       if isinstance(m, LearnableMesh)},
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "global_step": self.global_step,
            "epoch_sums": list(self._epoch_sums),
            "train_seconds": self._train_seconds,
            "history": self.history,
            "best": self.best,
            "world_size": self.dist.world_size,
            "rng": rng_state(),
        }

    def save_checkpoint(self) -> Path | None:
        """Write ``checkpoint.pt`` atomically (rank 0 only; other ranks wait for it)."""
        path = self.checkpoint_path
        if path is not None and self.dist.is_main:
            atomic_save(self.state_dict(), path)
        gdist.barrier()
        return path

    def check_compatible(self, state: dict[str, Any], source: str = "checkpoint") -> None:
        """Raise a :class:`ValueError` naming every field in which :obj:`state` (a checkpoint)
        differs from this trainer's configuration, metadata or model."""
        diffs = config_differences(state.get("config", {}), self.config.to_dict())
        diffs += config_differences(state.get("metadata", {}), self.metadata, ignore=())
        model_diffs = signature_differences(state.get("model_signature", {}),
                                            model_signature(self.model))
        if model_diffs and self._loads_strictly(state.get("model")):
            # the same model with another state-dict layout (e.g. shared tensors once listed
            # under every owner): its weights load, so only a class change counts
            model_diffs = [d for d in model_diffs if d.startswith("model class")]
        diffs += model_diffs
        if diffs:
            shown = "; ".join(diffs[:8]) + (f"; and {len(diffs) - 8} more" if len(diffs) > 8
                                            else "")
            raise ValueError(f"{source} was written with another configuration or model "
                             f"({shown}); use another run folder or the same settings")

    def _loads_strictly(self, weights: object) -> bool:
        """Whether :obj:`weights` load into (a copy of) the model with ``strict=True``."""
        if not isinstance(weights, dict):
            return False
        try:
            copy.deepcopy(self.model).load_state_dict(weights)
        except (RuntimeError, ValueError, KeyError):
            return False
        return True

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (after :meth:`check_compatible`)."""
        self.check_compatible(state)
        if state.get("world_size", 1) != self.dist.world_size and state["step_in_epoch"]:
            raise ValueError(
                f"the checkpoint stopped mid-epoch with {state['world_size']} process(es); "
                f"resume it with the same number, not {self.dist.world_size}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.plateau is not None and state["plateau"] is not None:
            self.plateau.load_state_dict(state["plateau"])
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

    def _setup_run_dir(self) -> bool:
        """Write or check ``config.json``; load the checkpoint when there is one. Returns
        whether the run resumed."""
        if self.run_dir is None:
            return False
        config_file = self.run_dir / "config.json"
        record = {"train": self.config.to_dict(), "metadata": self.metadata}
        if config_file.exists():
            saved = json.loads(config_file.read_text())
            diffs = config_differences(saved.get("train", {}), record["train"])
            diffs += config_differences(saved.get("metadata", {}), self.metadata, ignore=())
            if diffs:
                raise ValueError(f"{config_file} holds another configuration "
                                 f"({'; '.join(diffs[:8])}); use another run folder")
        gdist.barrier()
        if self.dist.is_main:
            atomic_write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", config_file)
        path = self.checkpoint_path
        assert path is not None
        if not path.exists():
            return False
        self.load_state_dict(load_checkpoint(path))
        return True

    # ------------------------------------------------------------------ logs
    def _write_metrics(self) -> None:
        if self.run_dir is None or not self.dist.is_main:
            return
        lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.history)
        atomic_write_text(lines, self.run_dir / "metrics.jsonl")
        columns: list[str] = []
        for r in self.history:
            columns += [k for k in r if k not in columns]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns)
        writer.writeheader()
        writer.writerows(self.history)
        atomic_write_text(buf.getvalue(), self.run_dir / "metrics.csv")
        if self._writer is not None and self.history:
            last = self.history[-1]
            for k, v in last.items():
                if isinstance(v, (int, float)) and k != "epoch":
                    self._writer.add_scalar(k, v, last["epoch"])
            self._writer.flush()

    def _open_tensorboard(self) -> None:
        if not self.config.tensorboard or self.run_dir is None or not self.dist.is_main:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise ImportError("config.tensorboard=True needs the tensorboard package: "
                              "pip install 'gen_pyg[tensorboard]'") from exc
        self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))

    # ------------------------------------------------------------------- fit
    @contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self._stop_signal = signum

        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in previous.items():
                signal.signal(s, h)

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
        resumed = self._setup_run_dir()
        if resumed and self.dist.is_main and self.config.progress:
            print(f"resuming from {self.checkpoint_path} at epoch {self.epoch + 1}, step "
                  f"{self.step_in_epoch}", file=sys.stderr)
        self._open_tensorboard()
        show = self.config.progress and self.dist.is_main and sys.stdout.isatty()
        try:
            with self._signals():
                while self.epoch < self.config.epochs:
                    if self._stopped_early():
                        break
                    self._run_epoch(show)
        finally:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        if self.best is not None and self.config.early_stopping_patience is not None:
            self.model.load_state_dict(self.best["model"])
        return self.history

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
            elapsed = time.perf_counter() - t0
            if show:
                rate = (self._epoch_sums[2] - seen0) / max(elapsed, 1e-9)
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
                path = self.save_checkpoint()
                raise TrainingInterrupted(signum, path)
        bar.close()
        seconds = time.perf_counter() - t0
        self._train_seconds += seconds
        sq, count, examples = gdist.all_reduce_sum(self._epoch_sums, self.device)
        record: dict[str, Any] = {
            "epoch": self.epoch + 1, "step": self.global_step, "train_mse": sq / count,
            "lr": self.lr, "examples_per_s": examples / max(seconds, 1e-9),
            "train_seconds": self._train_seconds,
        }
        if self._val_groups is not None and (self.epoch + 1) % self.config.eval_every == 0:
            val = self.evaluate()
            record.update({f"val_mse/{k}": v for k, v in val.items()})
            mean = sum(val.values()) / len(val)
            record["val_mse"] = mean
            if self.plateau is not None:
                self.plateau.step(mean)
            if self.best is None or mean < self.best["val_mse"]:
                self.best = {"epoch": self.epoch + 1, "val_mse": mean,
                             "model": copy.deepcopy(self.model.state_dict())}
        self.history.append(record)
        self.epoch += 1
        self.step_in_epoch = 0
        self._epoch_sums = [0.0, 0.0, 0.0]
        self.save_checkpoint()
        self._write_metrics()
        if show:
            shown = f", val {record['val_mse']:.4f}" if "val_mse" in record else ""
            tqdm.write(f"epoch {record['epoch']}: train {record['train_mse']:.4f}{shown}")
