"""Experiments described by data: which task, which model, which data and meshes, which
training settings.

The ``gen-pyg`` command, the demo and the benchmarks describe a run with an
:class:`ExperimentConfig`; the task it names (:data:`~gen_pyg.training.TASKS`) builds the
datasets, meshes and model and gives the loss, the metrics and the grouping the
:class:`~gen_pyg.training.Trainer` takes (:func:`build_trainer`). The config is stored with the
run (``config.json``, checkpoints), so ``gen-pyg evaluate RUN`` rebuilds exactly what was trained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch_geometric.data import Data

from gen_pyg._validation import check_length
from gen_pyg.training.config import TrainConfig
from gen_pyg.training.objectives import EveryLevel, check_level_weight
from gen_pyg.training.run_folder import read_run_config

if TYPE_CHECKING:
    from gen_pyg.nn import GEN

MODELS = ("gen", "neural_process")
#: :attr:`ModelConfig.norm` values (:class:`~gen_pyg.nn.GEN`'s ``norm``)
NORMS = ("post", "pre", "none")
#: :attr:`ModelConfig.geometry` values (:class:`~gen_pyg.nn.GEN`'s ``geometry``)
GEOMETRIES = ("absolute", "local")
#: :attr:`ModelConfig.multilevel_encode` values (:class:`~gen_pyg.nn.MultilevelGEN`'s ``encode``)
MULTILEVEL_ENCODES = ("every", "coarsest")


def _positive_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass
class ModelConfig:
    """Which model to build (the task's :meth:`~gen_pyg.training.Task.build_model`).

    Args:
        kind (str): ``"gen"`` or ``"neural_process"``. (default: :obj:`"gen"`)
        representation (str): representation function of a GEN (``"soft_nearest"``,
            ``"bilinear"``, ``"barycentric"``). (default: :obj:`"soft_nearest"`)
        k (int or None): nearest nodes of a sparse soft-nearest representation; :obj:`None`
            is dense, the paper's. (default: :obj:`None`)
        log_temperature (float): initial log-temperature of soft nearest neighbours.
            (default: :obj:`2.0`)
        latent_channels (int): node state size. (default: :obj:`32`)
        num_steps (int or None): message-passing rounds; :obj:`None` is the mesh diameter,
            :math:`2(k-1)` on a :math:`k \\times k` grid. (default: :obj:`None`)
        aggr (str): aggregation of the message passing. (default: :obj:`"sum"`)
        encoder_aggr (str): aggregation of the samples onto the nodes (``"sum"``, the
            paper's, or ``"mean"``, ``"max"``, ``"min"``). (default: :obj:`"sum"`)
        relative_pos (bool): encode and decode per (point, node) pair with the point's offset
            from the node (:class:`~gen_pyg.nn.GEN`'s ``relative_pos``). (default: :obj:`False`)
        encoder_hidden_channels (int): hidden width of the encoders. (default: :obj:`48`)
        decoder_hidden_channels (int): hidden width of the decoders. (default: :obj:`32`)
        norm (str): layer normalisation of the message passing: ``"post"`` (the paper's),
            ``"pre"`` or ``"none"``. (default: :obj:`"post"`)
        recall (bool): feed the encoded inputs back at every round (:class:`~gen_pyg.nn.GEN`'s
            ``recall``). (default: :obj:`False`)
        geometry (str): edge geometry of the message passing, ``"absolute"`` or ``"local"``
            (:class:`~gen_pyg.nn.GEN`'s ``geometry``). (default: :obj:`"absolute"`)
        multilevel_rounds (int or None): wrap the GEN in a :class:`~gen_pyg.nn.MultilevelGEN`
            running this many rounds on each grid finer than the coarsest (grid meshes only);
            :obj:`None`: a plain GEN. (default: :obj:`None`)
        multilevel_coarsest (int): the coarsest grid of the :class:`~gen_pyg.nn.MultilevelGEN`
            (:func:`~gen_pyg.nn.grid_levels`). (default: :obj:`4`)
        multilevel_encode (str): where the :class:`~gen_pyg.nn.MultilevelGEN` encodes the
            inputs, ``"every"`` level or the ``"coarsest"`` only. (default: :obj:`"every"`)
        multilevel_share_processor (bool): whether the finer levels of the
            :class:`~gen_pyg.nn.MultilevelGEN` run the GEN's own processor, or one of their
            own (``share_processor``). (default: :obj:`True`)
        multilevel_supervise (bool): train every level of the
            :class:`~gen_pyg.nn.MultilevelGEN` to predict (``supervise``; the loss becomes
            :class:`~gen_pyg.training.EveryLevel` of the task's). (default: :obj:`False`)
        multilevel_supervise_finest (float or None): with ``multilevel_supervise``, the
            weight of the finest level in the loss (:class:`~gen_pyg.training.EveryLevel`'s
            ``finest``); :obj:`None` weighs every level equally. (default: :obj:`None`)
        encoder_kernel (float or None): encode the samples with a Gaussian kernel of this
            bandwidth (:class:`~gen_pyg.nn.GEN`'s ``encoder_kernel``); :obj:`None`: with the
            representation. (default: :obj:`None`)
        processor_radius (float or None): pass messages between all nodes closer than this
            (:class:`~gen_pyg.nn.GEN`'s ``processor_radius``; needs ``num_steps``);
            :obj:`None`: along the mesh's edges. (default: :obj:`None`)
        processor_stencil (int or None): with ``processor_radius``, each node reads this many
            points of a fixed stencil within the radius, snapped to the nearest nodes
            (:class:`~gen_pyg.nn.StencilGraph`: a linear number of edges), instead of every
            node within it (:class:`~gen_pyg.nn.RadiusGraph`). (default: :obj:`None`)
        decoder_kernel (float or None): decode with a Gaussian kernel of this bandwidth
            (:class:`~gen_pyg.nn.GEN`'s ``decoder_kernel``); :obj:`None`: with the
            representation. (default: :obj:`None`)
    """

    kind: str = "gen"
    representation: str = "soft_nearest"
    k: int | None = None
    log_temperature: float = 2.0
    latent_channels: int = 32
    num_steps: int | None = None
    aggr: str = "sum"
    encoder_aggr: str = "sum"
    relative_pos: bool = False
    encoder_hidden_channels: int = 48
    decoder_hidden_channels: int = 32
    norm: str = "post"
    recall: bool = False
    geometry: str = "absolute"
    multilevel_rounds: int | None = None
    multilevel_coarsest: int = 4
    multilevel_encode: str = "every"
    multilevel_share_processor: bool = True
    multilevel_supervise: bool = False
    multilevel_supervise_finest: float | None = None
    encoder_kernel: float | None = None
    processor_radius: float | None = None
    processor_stencil: int | None = None
    decoder_kernel: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in MODELS:
            raise ValueError(f"model kind must be one of {MODELS}, got {self.kind!r}")
        for name in ("latent_channels", "encoder_hidden_channels", "decoder_hidden_channels"):
            _positive_int(getattr(self, name), name)
        if not isinstance(self.relative_pos, bool):
            raise ValueError(f"relative_pos must be a bool, got {self.relative_pos!r}")
        if self.relative_pos and self.kind != "gen":
            raise ValueError("relative_pos=True needs kind='gen' (the Neural Process has no "
                             "mesh nodes to be relative to)")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")
        if not isinstance(self.recall, bool):
            raise ValueError(f"recall must be a bool, got {self.recall!r}")
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES}, got {self.geometry!r}")
        if self.multilevel_rounds is not None:
            _positive_int(self.multilevel_rounds, "multilevel_rounds")
        _positive_int(self.multilevel_coarsest, "multilevel_coarsest", 2)
        if self.multilevel_encode not in MULTILEVEL_ENCODES:
            raise ValueError(f"multilevel_encode must be one of {MULTILEVEL_ENCODES}, got "
                             f"{self.multilevel_encode!r}")
        if not isinstance(self.multilevel_supervise, bool):
            raise ValueError(f"multilevel_supervise must be a bool, got "
                             f"{self.multilevel_supervise!r}")
        check_level_weight(self.multilevel_supervise_finest, "multilevel_supervise_finest")
        if not isinstance(self.multilevel_share_processor, bool):
            raise ValueError(f"multilevel_share_processor must be a bool, got "
                             f"{self.multilevel_share_processor!r}")
        for name in ("encoder_kernel", "processor_radius", "decoder_kernel"):
            check_length(getattr(self, name), name)
        if self.processor_radius is not None and self.num_steps is None:
            raise ValueError("processor_radius needs num_steps (the rounds no longer follow "
                             "the mesh's diameter)")
        if self.processor_stencil is not None:
            _positive_int(self.processor_stencil, "processor_stencil")
            if self.processor_radius is None:
                raise ValueError("processor_stencil needs processor_radius (the stencil's "
                                 "radius)")
        if self.processor_radius is not None and self.multilevel_rounds is not None:
            raise ValueError("processor_radius and multilevel_rounds do not go together (a "
                             "MultilevelGEN runs on the grids' edges)")
        for name, on in (("recall", self.recall), ("geometry", self.geometry != "absolute"),
                         ("multilevel_rounds", self.multilevel_rounds is not None),
                         ("encoder_kernel", self.encoder_kernel is not None),
                         ("processor_radius", self.processor_radius is not None),
                         ("decoder_kernel", self.decoder_kernel is not None)):
            if on and self.kind != "gen":
                raise ValueError(f"{name}={getattr(self, name)!r} needs kind='gen' (the "
                                 "Neural Process has no message passing)")
        if self.norm != "post" and self.kind != "gen":
            raise ValueError(f"norm={self.norm!r} needs kind='gen' (the Neural Process has no "
                             "message passing to normalise)")

    def build_representation(self) -> Any:
        """The :class:`~gen_pyg.nn.Representation` named by :attr:`representation` (with
        :attr:`k` and :attr:`log_temperature` for soft nearest neighbours)."""
        from gen_pyg.nn import get_representation

        rep_kwargs: dict[str, Any] = {}
        if self.representation == "soft_nearest":
            rep_kwargs = {"k": self.k, "log_temperature": self.log_temperature}
        return get_representation(self.representation, **rep_kwargs)

    def _graph(self) -> Any:
        from gen_pyg.nn import RadiusGraph, StencilGraph

        if self.processor_radius is None:
            return None
        if self.processor_stencil is None:
            return RadiusGraph(self.processor_radius)
        return StencilGraph(self.processor_radius, self.processor_stencil)

    def build_gen(self, in_channels: int | list[int] = 1, out_channels: int | list[int] = 1,
                  pos_dim: int = 2, readout: str = "interpolate",
                  representation: Any = None) -> GEN:
        """The :class:`~gen_pyg.nn.GEN` of this config, composed of its stages (a task gives
        its channels, dimension and readout, and :obj:`representation` where the config's
        name is not enough, e.g. a geodesic metric): a pair encoder and decoder with
        ``relative_pos``, Gaussian kernels for the ``*_kernel`` bandwidths, a radius graph
        for ``processor_radius``. The representation is shared by the encoder and the
        decoder, as in the paper."""
        from gen_pyg.nn import (
            GEN,
            ElementProcessor,
            GaussianKernel,
            PairDecoder,
            PairEncoder,
            PointDecoder,
            PointEncoder,
            SumReadout,
        )

        if representation is None:
            representation = self.build_representation()
        latent = self.latent_channels
        encoder_rep = (representation if self.encoder_kernel is None
                       else GaussianKernel(self.encoder_kernel))
        encoder = (PairEncoder if self.relative_pos else PointEncoder)(
            in_channels, latent, encoder_rep, pos_dim,
            hidden_channels=self.encoder_hidden_channels, aggr=self.encoder_aggr)
        processor = ElementProcessor(
            latent, pos_dim, self.num_steps, recall=self.recall, geometry=self.geometry,
            graph=self._graph(),
            aggr=self.aggr, norm=self.norm)
        if readout == "sum":
            if self.decoder_kernel is not None:
                raise ValueError(f"decoder_kernel={self.decoder_kernel} needs a decoder at "
                                 "query points; this task reads out one answer per example")
            if not isinstance(out_channels, int):
                raise ValueError(f"a readout answers one function, got {out_channels}")
            return GEN(encoder, processor, SumReadout(latent, out_channels,
                                                      self.decoder_hidden_channels))
        decoder_rep = (representation if self.decoder_kernel is None
                       else GaussianKernel(self.decoder_kernel, normalize=True))
        decoder = (PairDecoder if self.relative_pos else PointDecoder)(
            latent, out_channels, decoder_rep, pos_dim,
            hidden_channels=self.decoder_hidden_channels)
        return GEN(encoder, processor, decoder)

    def np_kwargs(self) -> dict[str, Any]:
        """The :class:`~gen_pyg.nn.NeuralProcess` arguments of this config."""
        return {"latent_channels": self.latent_channels,
                "encoder_hidden_channels": self.encoder_hidden_channels,
                "decoder_hidden_channels": self.decoder_hidden_channels}


@dataclass
class DataConfig:
    """Which data and meshes; :obj:`None` fields take the task's defaults when the config is
    made, so that a stored config is explicit.

    Args:
        task (str): a task of :data:`~gen_pyg.training.TASKS`. (default: :obj:`"poisson_square"`)
        root (str or None): dataset folder (generated there once, then read).
            (default: ``"data/<task>"``)
        num_instances (int or None): instances in all: houses, objects, mazes; the splits
            never share one. (default: the task's)
        num_test_instances (int or None): test instances. (default: the task's)
        num_val_instances (int): validation instances, taken from the others. (default: :obj:`0`)
        seed (int): seed of the data generator. (default: :obj:`0`)
        mesh_sizes (list of int or None): the meshes trained on, one set of weights for all
            (grid sizes :math:`k` for :math:`k \\times k` grids; latitude-longitude orders on
            the sphere). (default: the task's)
        options (dict): the task's own data settings (e.g. ``{"n": 101}``, the Poisson
            solver's grid); unknown keys are an error. (default: the task's)
    """

    task: str = "poisson_square"
    root: str | None = None
    num_instances: int | None = None
    num_test_instances: int | None = None
    num_val_instances: int = 0
    seed: int = 0
    mesh_sizes: list[int] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from gen_pyg.training.tasks import get_task

        task = get_task(self.task)
        if self.root is None:
            self.root = f"data/{self.task}"
        if self.num_instances is None:
            self.num_instances = task.num_instances
        if self.num_test_instances is None:
            self.num_test_instances = task.num_test_instances
        if self.mesh_sizes is None:
            self.mesh_sizes = list(task.mesh_sizes)
        unknown = sorted(set(self.options) - set(task.options))
        if unknown:
            raise ValueError(f"options: the task {self.task!r} has no data option(s) "
                             f"{', '.join(unknown)} (it has {sorted(task.options) or 'none'})")
        self.options = {**task.options, **self.options}
        if task.check_options is not None:
            task.check_options(self.options)
        _positive_int(self.num_instances, "num_instances")
        _positive_int(self.num_test_instances, "num_test_instances")
        _positive_int(self.num_val_instances, "num_val_instances", 0)
        _positive_int(self.seed, "seed", 0)
        if self.num_test_instances + self.num_val_instances >= self.num_instances:
            raise ValueError(
                f"num_test_instances + num_val_instances ({self.num_test_instances} + "
                f"{self.num_val_instances}) must leave training instances out of "
                f"num_instances={self.num_instances}")
        if not isinstance(self.mesh_sizes, list) or any(
                isinstance(k, bool) or not isinstance(k, int) or k < task.min_mesh_size
                for k in self.mesh_sizes):
            raise ValueError(f"mesh_sizes must be a list of integers >= {task.min_mesh_size}, "
                             f"got {self.mesh_sizes!r}")
        if task.mesh_sizes and not self.mesh_sizes:
            raise ValueError(f"mesh_sizes must name at least one mesh for {self.task!r}")
        if not task.mesh_sizes and self.mesh_sizes:
            raise ValueError(f"mesh_sizes={self.mesh_sizes!r} does not apply to the task "
                             f"{self.task!r}: its examples carry their own meshes; leave it "
                             "empty")


@dataclass
class ExperimentConfig:
    """A whole run: model, data and training settings.

    ``train.group_by`` at :class:`TrainConfig`'s default, ``"house"`` (the Poisson tasks'
    grouping), becomes the task's own grouping (:attr:`Task.group_by
    <gen_pyg.training.Task.group_by>`: ``"object"`` for ``pushing``, plain mini-batches for
    ``scenes``); the stored config holds the grouping used."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        from gen_pyg.training.tasks import get_task

        task = get_task(self.data.task)
        if self.train.group_by == "house" and task.group_by != "house":
            # TrainConfig's default grouping is the Poisson tasks'; other tasks group their own
            self.train = replace(self.train, group_by=task.group_by)
        task.check(self)

    @property
    def task(self) -> Any:
        """The :class:`~gen_pyg.training.Task` named by ``data.task``."""
        from gen_pyg.training.tasks import get_task

        return get_task(self.data.task)

    def metadata(self) -> dict[str, Any]:
        """The model and data parts, as the trainer stores them next to its config."""
        return {"model": asdict(self.model), "data": asdict(self.data)}

    def to_dict(self) -> dict[str, Any]:
        return {**self.metadata(), "train": self.train.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExperimentConfig:
        parts = {"model": ModelConfig, "data": DataConfig}
        kwargs: dict[str, Any] = {}
        for name, klass in parts.items():
            given = values.get(name, {})
            if not isinstance(given, dict):
                raise ValueError(f"{name} settings must be a dict, got {type(given).__name__}")
            unknown = set(given) - {f.name for f in fields(klass)}
            if unknown:
                raise ValueError(f"unknown {name} setting(s): {', '.join(sorted(unknown))}")
            kwargs[name] = klass(**given)
        kwargs["train"] = TrainConfig.from_dict(values.get("train", {}))
        return cls(**kwargs)

    @classmethod
    def from_run(cls, run_dir: str | Path) -> ExperimentConfig:
        """The experiment of a run folder (its ``config.json``); a data root stored relative
        to the run folder is made absolute."""
        saved = read_run_config(run_dir)
        meta = saved.get("metadata", {})
        if "model" not in meta or "data" not in meta:
            raise ValueError(f"{run_dir} was not written by an experiment (its config.json has "
                             "no model and data settings: a Trainer run of your own); load "
                             "its checkpoint.pt into your model with "
                             "gen_pyg.training.load_model_weights")
        exp = cls.from_dict({**meta, "train": saved.get("train", {})})
        root = Path(str(exp.data.root))
        if not root.is_absolute():
            exp.data.root = str((Path(run_dir) / root).resolve())
        return exp


def build_model(cfg: ModelConfig, task: str = "poisson_square") -> torch.nn.Module:
    """The model of :obj:`cfg` for :obj:`task` (its channels, space and readout)."""
    from gen_pyg.training.tasks import get_task

    return get_task(task).build_model(cfg)


def build_meshes(cfg: DataConfig, sizes: list[int] | None = None) -> dict[str, Data] | None:
    """The named meshes of :obj:`cfg` (or of :obj:`sizes`), :obj:`None` when the task's
    examples carry their own."""
    from gen_pyg.training.tasks import get_task

    return get_task(cfg.task).build_meshes(cfg if sizes is None else replace(cfg, mesh_sizes=sizes))


def build_datasets(cfg: DataConfig, log: bool = True) -> dict[str, Any]:
    """The ``"train"``, ``"test"`` (and ``"val"`` when :obj:`cfg.num_val_instances` > 0)
    splits, generated into :obj:`cfg.root` on first use."""
    from gen_pyg.training.tasks import get_task

    return get_task(cfg.task).build_datasets(cfg, log)


def build_trainer(exp: ExperimentConfig, model: torch.nn.Module, splits: dict[str, Any],
                  **kwargs: Any) -> Any:
    """A :class:`~gen_pyg.training.Trainer` of :obj:`model` on :obj:`splits` with the task's
    loss, metrics and meshes and :obj:`exp`'s settings (``kwargs``: ``run_dir``, ``device``,
    ``callbacks``...)."""
    from gen_pyg.training.trainer import Trainer

    task = exp.task
    return Trainer(model, splits["train"], meshes=build_meshes(exp.data),
                   config=exp.train, val_dataset=splits.get("val"), metadata=exp.metadata(),
                   loss=training_loss(exp.model, task.loss), metrics=list(task.metrics),
                   **kwargs)


def training_loss(cfg: ModelConfig, loss: Any = "mse") -> Any:
    """The loss a model of :obj:`cfg` trains on: :obj:`loss`, on every level of a
    :class:`~gen_pyg.nn.MultilevelGEN` built with ``multilevel_supervise``
    (:class:`~gen_pyg.training.EveryLevel`)."""
    supervised = cfg.multilevel_supervise and cfg.multilevel_rounds is not None
    return EveryLevel(loss, cfg.multilevel_supervise_finest) if supervised else loss
