"""Experiments described by data: which model, which data and meshes, which training settings.

The ``gen-pyg`` command, the demo and the benchmarks describe a run with an
:class:`ExperimentConfig` and build its parts with :func:`build_model`, :func:`build_datasets`
and :func:`build_meshes`; the config is stored with the run (``config.json``, checkpoints), so
``gen-pyg evaluate RUN`` rebuilds exactly what was trained.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Data

from gen_pyg.training.config import TrainConfig

MODELS = ("gen", "neural_process")
DATASETS = ("poisson_square",)
MESHES = ("grid",)


#: :attr:`ModelConfig.norm` values and what :class:`~gen_pyg.nn.GEN` gets for them
_GEN_NORM: dict[str, bool | str] = {"post": True, "pre": "pre", "none": False}
NORMS = tuple(_GEN_NORM)


@dataclass
class ModelConfig:
    """Which model to build (:func:`build_model`).

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
        offset_function (int or None): predict relative to the mean sample value of this
            input function (:class:`~gen_pyg.nn.InputOffset`; ``1``, the walls, makes the
            model learn the temperature minus the wall temperature). (default: :obj:`None`)
        relative_pos (bool): encode and decode per (point, node) pair with the point's offset
            from the node (:class:`~gen_pyg.nn.GEN`'s ``relative_pos``). (default: :obj:`False`)
        encoder_hidden_channels (int): hidden width of the encoders (GEN and Neural Process).
            (default: :obj:`48`)
        decoder_hidden_channels (int): hidden width of the decoders (GEN and Neural Process).
            (default: :obj:`32`)
        norm (str): layer normalisation of the message passing: ``"post"`` (the paper's),
            ``"pre"`` (trains where many rounds are needed, e.g. 10x10 grids and finer) or
            ``"none"`` (:class:`~gen_pyg.nn.GENConv`'s ``norm``). (default: :obj:`"post"`)
    """

    kind: str = "gen"
    representation: str = "soft_nearest"
    k: int | None = None
    log_temperature: float = 2.0
    latent_channels: int = 32
    num_steps: int | None = None
    aggr: str = "sum"
    offset_function: int | None = None
    encoder_aggr: str = "sum"
    relative_pos: bool = False
    encoder_hidden_channels: int = 48
    decoder_hidden_channels: int = 32
    norm: str = "post"

    def __post_init__(self) -> None:
        if self.kind not in MODELS:
            raise ValueError(f"model kind must be one of {MODELS}, got {self.kind!r}")
        for name in ("latent_channels", "encoder_hidden_channels", "decoder_hidden_channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.relative_pos, bool):
            raise ValueError(f"relative_pos must be a bool, got {self.relative_pos!r}")
        if self.relative_pos and self.kind != "gen":
            raise ValueError("relative_pos=True needs kind='gen' (the Neural Process has no "
                             "mesh nodes to be relative to)")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")
        if self.norm != "post" and self.kind != "gen":
            raise ValueError(f"norm={self.norm!r} needs kind='gen' (the Neural Process has no "
                             "message passing to normalise)")


@dataclass
class DataConfig:
    """Which data and meshes (:func:`build_datasets`, :func:`build_meshes`).

    Args:
        dataset (str): ``"poisson_square"``. (default: :obj:`"poisson_square"`)
        root (str): dataset folder (generated there once, then read). (default:
            :obj:`"data/poisson_square"`)
        num_houses (int): houses in all. (default: :obj:`250`)
        num_test_houses (int): test houses. (default: :obj:`50`)
        num_val_houses (int): validation houses, taken from the others. (default: :obj:`0`)
        n (int): solver grid nodes per axis. (default: :obj:`101`)
        seed (int): seed of the house generator. (default: :obj:`0`)
        mesh (str): ``"grid"``. (default: :obj:`"grid"`)
        mesh_sizes (list of int): grid sizes :math:`k` (:math:`k \\times k` nodes), one set of
            weights for all. (default: :obj:`[2, 3, 4, 5, 6, 7]`, the paper's)
    """

    dataset: str = "poisson_square"
    root: str = "data/poisson_square"
    num_houses: int = 250
    num_test_houses: int = 50
    num_val_houses: int = 0
    n: int = 101
    seed: int = 0
    mesh: str = "grid"
    mesh_sizes: list[int] = field(default_factory=lambda: [2, 3, 4, 5, 6, 7])

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.mesh not in MESHES:
            raise ValueError(f"mesh must be one of {MESHES}, got {self.mesh!r}")
        for name in ("num_houses", "num_test_houses"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.num_val_houses < 0:
            raise ValueError(f"num_val_houses must be >= 0, got {self.num_val_houses!r}")
        if self.num_test_houses + self.num_val_houses >= self.num_houses:
            raise ValueError(
                f"num_test_houses + num_val_houses ({self.num_test_houses} + "
                f"{self.num_val_houses}) must leave training houses out of num_houses="
                f"{self.num_houses}")
        if not self.mesh_sizes or any(not isinstance(k, int) or k < 2 for k in self.mesh_sizes):
            raise ValueError(f"mesh_sizes must be integers >= 2, got {self.mesh_sizes!r}")
        if not isinstance(self.n, int) or self.n < 3:
            raise ValueError(f"n must be an integer >= 3, got {self.n!r}")


@dataclass
class ExperimentConfig:
    """A whole run: model, data and training settings."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def metadata(self) -> dict[str, Any]:
        """The model and data parts, as the trainer stores them next to its config."""
        return {"model": asdict(self.model), "data": asdict(self.data)}

    def to_dict(self) -> dict[str, Any]:
        return {"model": asdict(self.model), "data": asdict(self.data),
                "train": self.train.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExperimentConfig:
        parts = {"model": ModelConfig, "data": DataConfig}
        kwargs: dict[str, Any] = {}
        for name, klass in parts.items():
            given = dict(values.get(name, {}))
            unknown = set(given) - {f.name for f in fields(klass)}
            if unknown:
                raise ValueError(f"unknown {name} setting(s): {', '.join(sorted(unknown))}")
            kwargs[name] = klass(**given)
        kwargs["train"] = TrainConfig.from_dict(values.get("train", {}))
        return cls(**kwargs)

    @classmethod
    def from_run(cls, run_dir: str | Path) -> ExperimentConfig:
        """The experiment of a run folder (its ``config.json``)."""
        path = Path(run_dir) / "config.json"
        if not path.exists():
            raise ValueError(f"{run_dir} is not a run folder (no config.json)")
        saved = json.loads(path.read_text())
        return cls.from_dict({**saved.get("metadata", {}), "train": saved.get("train", {})})


def build_model(cfg: ModelConfig, in_channels: list[int] | None = None,
                out_channels: int = 1) -> torch.nn.Module:
    """The model of :obj:`cfg` for the Poisson data (two input functions: heaters and walls)."""
    from gen_pyg.nn import GEN, InputOffset, NeuralProcess, get_representation

    ins = in_channels if in_channels is not None else [1, 1]
    model: torch.nn.Module
    if cfg.kind == "neural_process":
        model = NeuralProcess(in_channels=ins, out_channels=out_channels,
                              latent_channels=cfg.latent_channels,
                              encoder_hidden_channels=cfg.encoder_hidden_channels,
                              decoder_hidden_channels=cfg.decoder_hidden_channels)
    else:
        kwargs: dict[str, Any] = {}
        if cfg.representation == "soft_nearest":
            kwargs = {"k": cfg.k, "log_temperature": cfg.log_temperature}
        rep = get_representation(cfg.representation, **kwargs)
        model = GEN(in_channels=ins, out_channels=out_channels, representation=rep,
                    latent_channels=cfg.latent_channels, num_steps=cfg.num_steps,
                    aggr=cfg.aggr, encoder_aggr=cfg.encoder_aggr,
                    relative_pos=cfg.relative_pos, norm=_GEN_NORM[cfg.norm],
                    encoder_hidden_channels=cfg.encoder_hidden_channels,
                    decoder_hidden_channels=cfg.decoder_hidden_channels)
    if cfg.offset_function is not None:
        if not 0 <= cfg.offset_function < len(ins) or ins[cfg.offset_function] != out_channels:
            raise ValueError(f"offset_function must name an input function with "
                             f"out_channels={out_channels} channels (in_channels={ins}), got "
                             f"{cfg.offset_function!r}")
        model = InputOffset(model, function=cfg.offset_function)
    return model


def build_meshes(cfg: DataConfig) -> dict[str, Data]:
    """The meshes of :obj:`cfg`, named ``"kxk"``."""
    from gen_pyg.mesh import grid

    return {f"{k}x{k}": grid(k) for k in cfg.mesh_sizes}


def build_datasets(cfg: DataConfig, log: bool = True) -> dict[str, Any]:
    """The ``"train"``, ``"test"`` (and ``"val"`` when :obj:`cfg.num_val_houses` > 0) splits,
    generated into :obj:`cfg.root` on first use."""
    from gen_pyg.datasets import PoissonSquare

    common: dict[str, Any] = {
        "num_houses": cfg.num_houses, "num_test_houses": cfg.num_test_houses,
        "num_val_houses": cfg.num_val_houses, "n": cfg.n, "seed": cfg.seed, "log": log,
    }
    splits = ["train", "test"] + (["val"] if cfg.num_val_houses else [])
    return {s: PoissonSquare(cfg.root, split=s, **common) for s in splits}
