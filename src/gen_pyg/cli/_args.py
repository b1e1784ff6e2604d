"""Argument types and the data/experiment settings of the ``gen-pyg`` command line: every
value is checked before any work starts."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class UsageError(ValueError):
    """A mistake in the command line (reported in one line, exit status 2)."""


# ----------------------------------------------------------------------------- helpers
def _number(text: str, kind: type[int] | type[float], ok: Callable[[float], bool],
            expected: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value: int = _number(text, int, lambda v: v >= 1, "a positive integer")
    return value


def _nonneg_int(text: str) -> int:
    value: int = _number(text, int, lambda v: v >= 0, "an integer >= 0")
    return value


def _positive_float(text: str) -> float:
    value: float = _number(text, float, lambda v: 0 < v < float("inf"),
                           "a positive finite number")
    return value


def _finite_float(text: str) -> float:
    value: float = _number(text, float, lambda v: abs(v) < float("inf"), "a finite number")
    return value


def _num_steps(text: str) -> int:
    from gen_pyg.nn._checks import MAX_STEPS

    value: int = _number(text, int, lambda v: 0 <= v <= MAX_STEPS,
                         f"an integer in [0, {MAX_STEPS}]")
    return value


def _device(text: str) -> str:
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a torch device such as cpu, cuda or "
                                         f"cuda:1, got {text!r}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index is not None and device.index >= count):
            raise argparse.ArgumentTypeError(f"{text!r} is not available here ({count} CUDA "
                                             "device(s))")
    elif device.type not in ("cpu", "mps", "xpu"):
        raise argparse.ArgumentTypeError(f"expected a torch device such as cpu, cuda or "
                                         f"cuda:1, got {text!r}")
    return text


def _mesh_size(text: str) -> int:
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"mesh sizes must be at least 2, got {text!r}")
    return value


def _run_folder(text: str) -> Path:
    from gen_pyg.training import read_run_config

    try:
        read_run_config(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return Path(text)


def _options(pairs: Sequence[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--data-option takes KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out


#: data flags and the DataConfig field each sets (None: not given on the command line)
_DATA_FLAGS = {"instances": "num_instances", "test_instances": "num_test_instances",
               "val_instances": "num_val_instances", "data_seed": "seed",
               "mesh_sizes": "mesh_sizes"}


def _data_config(args: argparse.Namespace, root: Path) -> Any:
    """The data settings of the command line; a dataset folder made by ``gen-pyg generate``
    (its ``data_config.json``) gives every setting not named on the command line, and a named
    one that differs from the folder's is refused."""
    from gen_pyg.training import DataConfig

    given = {field: getattr(args, flag) for flag, field in _DATA_FLAGS.items()
             if getattr(args, flag, None) is not None}
    options = _options(getattr(args, "data_option", None))
    if options:
        given["options"] = options
    saved_file = root / "data_config.json"
    if saved_file.is_file():
        try:
            saved = json.loads(saved_file.read_text())
        except json.JSONDecodeError as exc:
            raise UsageError(f"{saved_file} is damaged ({exc})") from None
        if saved.get("task") != args.task:
            raise UsageError(f"{root} holds data of the task {saved.get('task')!r}, not "
                             f"{args.task!r}; pass --task {saved.get('task')} or another folder")
        differs = [f"{k}: {saved.get(k)!r} in the folder, {v!r} given"
                   for k, v in given.items() if k not in ("mesh_sizes", "num_val_instances")
                   and (saved.get(k) != v if k != "options"
                        else any(saved["options"].get(o) != x for o, x in v.items()))]
        if differs:
            raise UsageError(f"the dataset in {root} was generated with other settings "
                             f"({'; '.join(differs)}); omit those flags or use another folder")
        base = {k: v for k, v in saved.items() if k not in ("root", "mesh_sizes")}
        return _checked_data_config(DataConfig, {**base, **given, "root": str(root)})
    return _checked_data_config(DataConfig, {"task": args.task, "root": str(root), **given})


def _checked_data_config(klass: Any, values: dict[str, Any]) -> Any:
    """``DataConfig(**values)``; a data option's error says that the values are JSON."""
    try:
        return klass(**values)
    except ValueError as exc:
        if str(exc).startswith("options["):
            raise UsageError(f"{exc} (values are JSON, e.g. noise=[0.1,0.01])") from None
        raise


def _stored_root(root: Path, out: Path) -> str:
    """The data root as a run folder stores it: relative to the folder when inside it (the
    folder can move), else absolute."""
    try:
        return str(root.resolve().relative_to(out.resolve()))
    except ValueError:
        return str(root.resolve())


def _check_extras(args: argparse.Namespace) -> None:
    import importlib.util

    if getattr(args, "tensorboard", False) and importlib.util.find_spec("tensorboard") is None:
        raise UsageError("--tensorboard needs the tensorboard package: pip install "
                         "'gen_pyg[tensorboard]'")


def _folder_arg(path: Path | None, flag: str) -> None:
    if path is not None and path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file; expected a folder")


def _experiment(args: argparse.Namespace) -> Any:
    from gen_pyg.training import ExperimentConfig, ModelConfig, TrainConfig

    _folder_arg(args.out, "--out")
    _folder_arg(args.data, "--data")
    _check_extras(args)
    root = args.data if args.data is not None else args.out / "data"
    model = ModelConfig(kind=args.model, representation=args.representation, k=args.k,
                        log_temperature=args.log_temperature, latent_channels=args.latent,
                        num_steps=args.steps, aggr=args.aggr, encoder_aggr=args.encoder_aggr,
                        relative_pos=args.relative_pos,
                        encoder_hidden_channels=args.encoder_hidden,
                        decoder_hidden_channels=args.decoder_hidden, norm=args.norm,
                        recall=args.recall, geometry=args.geometry,
                        multilevel_rounds=args.multilevel_rounds,
                        multilevel_coarsest=args.multilevel_coarsest,
                        multilevel_encode=args.multilevel_encode,
                        multilevel_share_processor=not args.multilevel_refiner,
                        multilevel_supervise=args.multilevel_supervise,
                        multilevel_supervise_finest=args.multilevel_supervise_finest,
                        encoder_kernel=args.encoder_kernel,
                        processor_radius=args.processor_radius,
                        processor_stencil=args.processor_stencil,
                        decoder_kernel=args.decoder_kernel)
    train = TrainConfig(epochs=args.epochs, lr=args.lr, schedule=args.schedule,
                        warmup_steps=args.warmup_steps, grad_clip=args.grad_clip,
                        groups_per_step=args.groups_per_step, augment=args.augment,
                        extra_rounds=args.extra_rounds,
                        early_stopping_patience=args.patience, seed=args.seed,
                        precision=args.precision, progress=not args.quiet,
                        tensorboard=args.tensorboard)
    data = _data_config(args, root)
    if data.num_val_instances == 0:
        for flag, on in (("--patience", args.patience is not None),
                         ("--schedule plateau", args.schedule == "plateau")):
            if on:
                raise UsageError(f"{flag} watches the validation instances: pass "
                                 "--val-instances")
    if args.schedule == "plateau" and args.warmup_steps:
        raise UsageError("--warmup-steps is not supported with --schedule plateau")
    exp = ExperimentConfig(model, data, train)
    exp.task.build_model(exp.model)  # the model's own checks, before any work
    return exp


