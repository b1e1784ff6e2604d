"""Trained models shipped inside the package, loadable offline.

Each model is two small files in this folder: ``NAME.pt`` (the weights, a state dict read with
``weights_only=True``) and ``NAME.json`` (the :class:`~gen_pyg.training.ExperimentConfig` it was
trained with, the command that trained it and its recorded test metrics on the data that
config generates). :func:`load` rebuilds the model from the config and loads the weights;
``gen-pyg evaluate --pretrained NAME`` prints its test table on freshly generated data.

Example:
    >>> from gen_pyg import pretrained
    >>> "poisson_square" in pretrained.available()
    True
    >>> model = pretrained.load("poisson_square")
    >>> type(model).__name__, model.training
    ('GEN', False)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, overload

import torch

import gen_pyg.tasks  # noqa: F401  (registers the built-in tasks the records name)
from gen_pyg.training import (
    ExperimentConfig,
    build_datasets,
    build_meshes,
    build_model,
    build_trainer,
    load_checkpoint,
    load_model_weights,
)

__all__ = ["available", "export", "info", "load"]

_HERE = Path(__file__).resolve().parent


def available(folder: str | Path | None = None) -> list[str]:
    """The names of the models in :obj:`folder` (default: the shipped ones)."""
    where = _HERE if folder is None else Path(folder)
    return sorted(p.stem for p in where.glob("*.json") if (where / f"{p.stem}.pt").is_file())


def info(name: str, folder: str | Path | None = None) -> dict[str, Any]:
    """The record of model :obj:`name`: ``experiment`` (its config), ``command`` (how it was
    trained), ``test`` (its test metrics per mesh on the data its config generates),
    ``parameters``."""
    names = available(folder)
    if name not in names:
        raise ValueError(f"name must be one of the models {names}, got {name!r}")
    where = _HERE if folder is None else Path(folder)
    record: dict[str, Any] = json.loads((where / f"{name}.json").read_text())
    return record


@overload
def load(name: str, with_config: Literal[False] = ...,
         folder: str | Path | None = ...) -> torch.nn.Module: ...
@overload
def load(name: str, with_config: Literal[True],
         folder: str | Path | None = ...) -> tuple[torch.nn.Module, Any]: ...


def load(name: str, with_config: bool = False, folder: str | Path | None = None) -> Any:
    """The model :obj:`name` (shipped, or in :obj:`folder`), built from its config with its
    weights loaded, in evaluation mode (with :obj:`with_config=True`, also its
    :class:`~gen_pyg.training.ExperimentConfig`)."""
    record = info(name, folder)
    exp = ExperimentConfig.from_dict(record["experiment"])
    model = build_model(exp.model, exp.task)
    where = _HERE if folder is None else Path(folder)
    state = torch.load(where / f"{name}.pt", map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    model.eval()
    return (model, exp) if with_config else model


def export(run_dir: str | Path, name: str, folder: str | Path, command: str = "",
           mesh_sizes: list[int] | None = None) -> dict[str, Any]:
    """Write the trained model of a run folder (``gen-pyg train``) as ``NAME.pt`` (its weights)
    and ``NAME.json`` (its experiment, :obj:`command`, parameter count and its test metrics per
    mesh, or per row of the task's own evaluation where it has one, measured here on the test
    split its config generates, also on :obj:`mesh_sizes`) into :obj:`folder`, the form
    :func:`load` reads. Returns the record."""
    from dataclasses import replace

    if not name.isidentifier():
        raise ValueError(f"name must be a plain identifier (a file name), got {name!r}")
    exp = ExperimentConfig.from_run(run_dir)
    model = load_model_weights(build_model(exp.model, exp.task), run_dir).eval()
    data = exp.data if mesh_sizes is None else replace(exp.data, mesh_sizes=mesh_sizes)
    splits = build_datasets(data, log=False)
    trainer = build_trainer(replace(exp, data=data), model, splits)
    if exp.task.evaluate is not None:  # the task's own rows, as gen-pyg evaluate prints them
        test = {str(row["mesh"]): {k[5:]: v for k, v in row.items() if k.startswith("test_")}
                for row in exp.task.evaluate(trainer, splits["test"])}
    else:
        test = trainer.evaluate_all(splits["test"], build_meshes(data))
    stored = replace(exp.data, root=f"data/{exp.data.task}")
    state = load_checkpoint(Path(run_dir) / "checkpoint.pt")
    record = {"experiment": {**ExperimentConfig(exp.model, stored, exp.train).to_dict()},
              "command": command, "test": test,
              "parameters": sum(p.numel() for p in model.parameters()),
              "epochs_trained": int(state["epoch"])}
    if exp.train.early_stopping_patience is not None and state.get("best") is not None:
        record["best_epoch"] = int(state["best"]["epoch"])  # the weights shipped
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / f"{name}.pt")
    (out / f"{name}.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record
