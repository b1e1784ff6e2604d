"""Typed configuration of a training run and of the model it trains, round-tripping to JSON
and stored in checkpoints: every option declared once (:func:`~gen_pyg._options.option`: type,
default, check, help, flag, stage), from which the ``gen-pyg`` command line is derived."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from gen_pyg._options import (
    at_least,
    boolean,
    check_options,
    defaults,
    finite_float,
    length,
    non_negative_float,
    non_negative_int,
    option,
    optional,
    positive_float,
    positive_int,
    unit_fraction,
)
from gen_pyg.nn import (
    GEN,
    ElementProcessor,
    GaussianKernel,
    GraphBuilder,
    PairDecoder,
    PairEncoder,
    PointDecoder,
    PointEncoder,
    RadiusGraph,
    Representation,
    StencilGraph,
    SumReadout,
    get_representation,
)
from gen_pyg.nn._checks import MAX_STEPS
from gen_pyg.training.augment import AUGMENTATIONS
from gen_pyg.training.objectives import check_level_weight

#: :attr:`TrainConfig.schedule` values
SCHEDULES = ("constant", "cosine", "plateau")
#: :attr:`TrainConfig.precision` values
PRECISIONS = ("fp32", "bf16", "fp16")
#: :attr:`ModelConfig.kind` values
MODELS = ("gen", "neural_process")
#: :attr:`ModelConfig.representation` values (the registry's built-in names)
REPRESENTATIONS = ("soft_nearest", "bilinear", "barycentric")
#: :attr:`ModelConfig.aggr` values (the message passing's aggregation)
AGGRS = ("sum", "mean", "max")
#: :attr:`ModelConfig.encoder_aggr` values (the samples' aggregation onto the nodes)
ENCODER_AGGRS = ("sum", "mean", "max", "min")
#: :attr:`ModelConfig.norm` values (:class:`~gen_pyg.nn.GEN`'s ``norm``)
NORMS = ("post", "pre", "none")
#: :attr:`ModelConfig.geometry` values (:class:`~gen_pyg.nn.GEN`'s ``geometry``)
GEOMETRIES = ("absolute", "local")
#: :attr:`ModelConfig.multilevel_encode` values (:class:`~gen_pyg.nn.MultilevelGEN`'s ``encode``)
MULTILEVEL_ENCODES = ("every", "coarsest")
#: Fields a resumed run may change: they do not alter the steps already taken.
RESUMABLE_FIELDS = ("epochs", "progress", "tensorboard", "early_stopping_patience")


def _ratio(value: Any, name: str) -> float:
    if non_negative_float(value, name) > 1:
        raise ValueError(f"{name} must be at most 1, got {value!r}")
    return float(value)


def _beta(value: Any, name: str) -> float:
    if non_negative_float(value, name) >= 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def _group_by(value: Any, name: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{name} must be an attribute name or None, got {value!r}")
    return value


def _steps(value: Any, name: str) -> int | None:
    if value is not None and at_least(0)(value, name) > MAX_STEPS:
        raise ValueError(f"{name} must be at most {MAX_STEPS}, got {value}")
    return value  # type: ignore[no-any-return]


@dataclass
class TrainConfig:
    """Settings of :class:`~gen_pyg.training.Trainer`, each declared once (its help line is
    ``gen-pyg train --help``'s).

    Every field is checked at construction (a :class:`TypeError` for a wrong type, a
    :class:`ValueError` for a bad value, naming the field). A run folder holds them as
    ``config.json`` and every checkpoint stores them; resuming with different values is
    refused, except for the fields in :data:`RESUMABLE_FIELDS` (``epochs`` may grow to train
    longer).

    Grouping: with ``group_by`` the examples sharing the value of that attribute form one
    pre-collated batch (all scenarios of a house, all pushes of an object; examples that lack
    the attribute are an error); with :obj:`None` (the default), consecutive chunks of
    ``group_size`` examples (plain mini-batches). A task's own grouping is its
    :attr:`Task.group_by <gen_pyg.training.Task.group_by>`.

    Example:
        >>> TrainConfig(epochs=0)
        Traceback (most recent call last):
        ...
        ValueError: epochs must be at least 1, got 0
    """

    epochs: int = option(60, "passes over the training groups", check=positive_int)
    lr: float = option(3e-3, "learning rate of the weights (Adam)", check=positive_float)
    mesh_lr: float = option(3e-4, "learning rate of learnable node positions (the paper's)",
                            check=positive_float)
    weight_decay: float = option(0.0, "Adam's weight decay", check=non_negative_float)
    beta2: float = option(0.999, "Adam's decay rate of the squared gradients' average",
                          check=_beta)
    groups_per_step: int = option(
        1, "groups per optimiser step and process (the global batch is groups_per_step x "
        "world size)", check=positive_int)
    group_by: str | None = option(
        None, "the example attribute whose value groups examples into one batch (house, "
        "object); none: plain mini-batches of group_size examples (gen-pyg train: the task's "
        "grouping)", check=_group_by)
    group_size: int = option(32, "examples per plain mini-batch (without group_by)",
                             check=positive_int)
    schedule: str = option("constant", "learning-rate schedule: constant, cosine (to lr x "
                           "min_lr_ratio over the run, per step) or plateau (halve on a "
                           "validation plateau)", choices=SCHEDULES)
    warmup_steps: int = option(0, "linear warm-up steps before the schedule",
                               check=non_negative_int)
    min_lr_ratio: float = option(0.01, "final learning rate of the cosine schedule relative "
                                 "to lr", check=_ratio)
    grad_clip: float | None = option(None, "clip the global gradient norm to this value",
                                     check=optional(positive_float))
    early_stopping_patience: int | None = option(
        None, "stop after this many epochs without a better validation metric and restore "
        "the best weights (needs validation instances)", check=optional(positive_int),
        flag="--patience")
    augment: str = option(
        "none", "an augmentation by name: square applies a random symmetry of the unit "
        "square to the points of every group and step (tasks on the square, grid meshes)",
        choices=lambda: tuple(AUGMENTATIONS))
    extra_rounds: int = option(
        0, "train with 0..N random message-passing rounds more than the mesh diameter per "
        "group and step (models with a fixed num_steps ignore it)", check=non_negative_int)
    mesh_jitter: float = option(
        0.0, "move every interior grid node at random by up to half this fraction of its cell "
        "per axis, a new draw per example, group and step (0: off; at most 1), so that the "
        "weights cannot fit one grid's discretisation", check=unit_fraction)
    precision: str = option("fp32", "fp32, or mixed precision under torch.autocast: bf16 "
                            "(CPU or GPU) or fp16 (GPU, with a gradient scaler)",
                            choices=PRECISIONS)
    seed: int = option(0, "seed of the order of groups, the mesh drawn per step and the "
                       "augmentation", check=non_negative_int)
    eval_every: int = option(1, "epochs between validation evaluations", check=positive_int)
    progress: bool = option(True, "report progress (tqdm bars in a terminal, a line per "
                            "epoch)", check=boolean, flag="--quiet", negate=True)
    tensorboard: bool = option(False, "also log to TensorBoard (the tensorboard extra)",
                               check=boolean)

    def __post_init__(self) -> None:
        check_options(self)

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


@dataclass
class ModelConfig:
    """Which model to build, each option declared once with its stage: ``"model"`` (the kind
    and the node state), ``"representation"`` (shared by the encoder and the decoder, as in
    the paper), ``"encoder"``, ``"processor"`` and ``"decoder"``, the stages
    :meth:`build_gen` composes into ``GEN(encoder, processor, decoder)``. ``gen-pyg train
    --help`` lists them by stage; a task builds its model from them
    (:meth:`~gen_pyg.training.Task.model`).

    Example:
        >>> ModelConfig(processor_stencil=8)
        Traceback (most recent call last):
        ...
        ValueError: processor_stencil needs processor_radius (the stencil's radius)
    """

    kind: str = option("gen", "the model: a GEN, or the Neural Process baseline (no mesh)",
                       choices=MODELS, flag="--model", stage="model")
    representation: str = option(
        "soft_nearest", "representation function of a GEN, the weights of points on nodes",
        choices=REPRESENTATIONS, stage="representation")
    k: int | None = option(None, "sparse soft nearest neighbours over the k nearest nodes; "
                           "none: dense, the paper's", check=optional(positive_int),
                           stage="representation")
    log_temperature: float = option(2.0, "initial log-temperature of soft nearest neighbours",
                                    check=finite_float, stage="representation")
    relative_pos: bool = option(
        False, "encode and decode every (point, node) pair with the point's offset from the "
        "node (a pair encoder and decoder)", check=boolean, stage="representation")
    latent_channels: int = option(32, "node state size", check=positive_int, flag="--latent",
                                  stage="model")
    encoder_hidden_channels: int = option(48, "hidden width of the encoders",
                                          check=positive_int, flag="--encoder-hidden",
                                          stage="encoder")
    encoder_aggr: str = option("sum", "aggregation of the samples onto the nodes (sum: the "
                               "paper's)", choices=ENCODER_AGGRS, stage="encoder")
    encoder_kernel: float | None = option(
        None, "encode the samples onto the nodes with a Gaussian kernel of this bandwidth (a "
        "node's encoding does not depend on the mesh's other nodes); none: with the "
        "representation", check=length, stage="encoder")
    num_steps: int | None = option(
        None, "message-passing rounds; none: the mesh diameter, 2(k-1) on a k x k grid",
        check=_steps, flag="--steps", stage="processor")
    aggr: str = option("sum", "aggregation of the message passing", choices=AGGRS,
                       stage="processor")
    norm: str = option("post", "layer normalisation of the message passing: post (the "
                       "paper's), pre (keeps training on fine meshes, which need many rounds) "
                       "or none", choices=NORMS, stage="processor")
    recall: bool = option(False, "feed the encoded inputs back at every message-passing round",
                          check=boolean, stage="processor")
    geometry: str = option("absolute", "edge geometry of the message passing: absolute (the "
                           "paper's) or local (divided by the node's shortest edge: the same "
                           "on every grid size)", choices=GEOMETRIES, stage="processor")
    processor_radius: float | None = option(
        None, "pass messages between every pair of nodes closer than this (needs --steps): a "
        "round reaches as far on every mesh; none: along the mesh's edges", check=length,
        stage="processor")
    processor_stencil: int | None = option(
        None, "with --processor-radius: each node reads this many stencil points within the "
        "radius, snapped to the nearest nodes (StencilGraph: a linear number of edges) "
        "instead of every node within it (RadiusGraph)", check=optional(positive_int),
        stage="processor")
    multilevel_rounds: int | None = option(
        None, "solve coarse to fine over grids k -> ceil(k/2) (MultilevelGEN), this many "
        "rounds on each grid finer than the coarsest (grid meshes only); none: a plain GEN",
        check=optional(positive_int), stage="processor")
    multilevel_coarsest: int = option(4, "the coarsest grid of --multilevel-rounds",
                                      check=at_least(2), stage="processor")
    multilevel_encode: str = option("every", "encode the inputs on every grid of "
                                    "--multilevel-rounds, or on the coarsest only",
                                    choices=MULTILEVEL_ENCODES, stage="processor")
    multilevel_share_processor: bool = option(
        True, "the grids finer than the coarsest run the GEN's own processor; the flag gives "
        "them one of their own", check=boolean, flag="--multilevel-refiner", negate=True,
        stage="processor")
    multilevel_supervise: bool = option(
        False, "train every grid of --multilevel-rounds to predict (a loss on each level's "
        "prediction)", check=boolean, stage="processor")
    multilevel_supervise_finest: float | None = option(
        None, "with --multilevel-supervise, the weight in (0, 1] of the finest grid in the "
        "loss (the coarser ones share the rest); none: all equal", check=check_level_weight,
        stage="processor")
    decoder_hidden_channels: int = option(32, "hidden width of the decoders",
                                          check=positive_int, flag="--decoder-hidden",
                                          stage="decoder")
    decoder_kernel: float | None = option(
        None, "decode with a Gaussian kernel of this bandwidth, normalised over the nodes; "
        "none: with the representation", check=length, stage="decoder")

    def __post_init__(self) -> None:
        check_options(self)
        if self.processor_radius is not None and self.num_steps is None:
            raise ValueError("processor_radius needs num_steps (the rounds no longer follow "
                             "the mesh's diameter)")
        if self.processor_stencil is not None and self.processor_radius is None:
            raise ValueError("processor_stencil needs processor_radius (the stencil's radius)")
        if self.processor_radius is not None and self.multilevel_rounds is not None:
            raise ValueError("processor_radius and multilevel_rounds do not go together (a "
                             "MultilevelGEN runs on the grids' edges)")
        if self.kind == "gen":
            return
        # the Neural Process has no mesh and no message passing
        for name in _GEN_ONLY:
            if getattr(self, name) != _MODEL_DEFAULTS[name]:
                raise ValueError(f"{name}={getattr(self, name)!r} needs kind='gen': it does "
                                 "not apply to the Neural Process (it has no mesh and no "
                                 f"message passing); leave it at {_MODEL_DEFAULTS[name]!r}")

    def build_representation(self) -> Representation:
        """The :class:`~gen_pyg.nn.Representation` named by :attr:`representation` (with
        :attr:`k` and :attr:`log_temperature` for soft nearest neighbours)."""
        rep_kwargs: dict[str, Any] = {}
        if self.representation == "soft_nearest":
            rep_kwargs = {"k": self.k, "log_temperature": self.log_temperature}
        return get_representation(self.representation, **rep_kwargs)

    def _graph(self) -> GraphBuilder | None:
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


_MODEL_DEFAULTS = defaults(ModelConfig)
#: options a Neural Process must leave at their defaults
_GEN_ONLY = ("num_steps", "k", "log_temperature", "aggr", "encoder_aggr", "relative_pos", "norm",
             "recall", "geometry", "multilevel_rounds", "encoder_kernel", "processor_radius",
             "decoder_kernel")


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
    """The default of every field of a run folder's ``"train"`` (:class:`TrainConfig`) and
    ``"model"`` (:class:`ModelConfig`) settings, for :func:`config_differences`."""
    return {"train": defaults(TrainConfig), "model": defaults(ModelConfig)}
