"""Argument types and the data/experiment settings of the ``gen-pyg`` command line: every
value is checked before any work starts."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import Field
from pathlib import Path
from typing import Any

from gen_pyg._options import choices_of, defaults, option_fields

# ----------------------------------------------------------------------------- derived flags
#: argument-group titles of the config sections and the model's stages
STAGES = {"model": "model", "representation": "model: representation (encoder and decoder)",
          "encoder": "model: encoder", "processor": "model: processor",
          "decoder": "model: decoder"}


def flag_of(f: Field[Any]) -> str:
    """The command-line flag of the option :obj:`f` (declared, or its name with dashes)."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _base_type(f: Field[Any]) -> tuple[type, bool]:
    """The scalar type of an option's annotation and whether it is a list."""
    text = str(f.type).replace(" | None", "").replace("Optional[", "").strip()
    is_list = text.startswith("list[")
    name = text[5:-1] if is_list else text
    kinds: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}
    if name not in kinds:
        raise TypeError(f"option {f.name} has a type the command line cannot parse: {f.type}")
    return kinds[name], is_list


def _parser(f: Field[Any], kind: type, is_list: bool) -> Callable[[str], Any]:
    """Text -> value of :obj:`f`'s type, checked by its declaration (argparse reports it)."""
    check = f.metadata.get("check")
    optional = "None" in str(f.type)

    def parse(text: str) -> Any:
        if optional and text.lower() == "none":
            value: Any = None
        else:
            try:
                value = kind(text)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected {'an integer' if kind is int else 'a number'}, got "
                    f"{text!r}") from None
            if isinstance(value, float) and not math.isfinite(value):
                raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if check is not None:
            try:
                check([value] if is_list else value, f.name)
            except (TypeError, ValueError) as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    parse.__name__ = kind.__name__
    return parse


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value))
    return "none" if value is None else str(value)


def add_options(parser: argparse.ArgumentParser, cls: type, section: str,
                groups: dict[str, Any] | None = None, skip: Sequence[str] = ()) -> None:
    """Add a flag for every option of the config dataclass :obj:`cls` (its declaration's
    flag, type, check, choices, help and default), under the argument group of its stage
    (or :obj:`section`'s). Values land in ``args`` as ``SECTION.FIELD`` and stay :obj:`None`
    when not given (:func:`given_options`), so the config's own defaults apply."""
    groups = groups if groups is not None else {}
    for f in option_fields(cls):
        if f.name in skip:
            continue
        meta = f.metadata
        title = STAGES.get(meta.get("stage") or "", section)
        if title not in groups:
            groups[title] = parser.add_argument_group(title)
        group = groups[title]
        default = defaults(cls).get(f.name)
        kind, is_list = _base_type(f)
        dest = f"{section}.{f.name}"
        helptext = meta["help"]
        if kind is bool:
            if meta.get("negate"):
                group.add_argument(flag_of(f), dest=dest, action="store_const", const=False,
                                   default=None, help=f"{helptext} (default: on; the flag "
                                   "turns it off)")
            else:
                group.add_argument(flag_of(f), dest=dest, action="store_const", const=True,
                                   default=None, help=f"{helptext} (default: off)")
            continue
        shown = "the task's" if "the task's" in helptext else _shown(default)
        if "(default:" not in helptext:
            helptext = f"{helptext} (default: {shown})"
        group.add_argument(flag_of(f), dest=dest, type=_parser(f, kind, is_list),
                           choices=choices_of(f), nargs="+" if is_list else None,
                           default=None, metavar=None if choices_of(f) else kind.__name__.upper(),
                           help=helptext.replace("%", "%%"))


def given_options(args: argparse.Namespace, section: str) -> dict[str, Any]:
    """The options of :obj:`section` given on the command line (``{field: value}``)."""
    prefix = f"{section}."
    return {k[len(prefix):]: v for k, v in vars(args).items()
            if k.startswith(prefix) and v is not None}


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
    from gen_pyg.training.run_folder import read_run_config

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


def _data_config(args: argparse.Namespace, root: Path) -> Any:
    """The data settings of the command line; a dataset folder made by ``gen-pyg generate``
    (its ``data_config.json``) gives every setting not named on the command line, and a named
    one that differs from the folder's is refused."""
    from gen_pyg.training import DataConfig

    given = given_options(args, "data")
    if "mesh_sizes" in given:
        given["mesh_sizes"] = list(given["mesh_sizes"])
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
    except (TypeError, ValueError) as exc:
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

    if getattr(args, "train.tensorboard", None) and importlib.util.find_spec("tensorboard") is None:
        raise UsageError("--tensorboard needs the tensorboard package: pip install "
                         "'gen_pyg[tensorboard]'")


def _folder_arg(path: Path | None, flag: str) -> None:
    if path is not None and path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file; expected a folder")


def _experiment(args: argparse.Namespace) -> Any:
    from gen_pyg.training import ExperimentConfig, ModelConfig, TrainConfig, get_task

    _folder_arg(args.out, "--out")
    _folder_arg(args.data, "--data")
    _check_extras(args)
    root = args.data if args.data is not None else args.out / "data"
    model = ModelConfig(**given_options(args, "model"))
    train_given = given_options(args, "train")
    train_given["progress"] = not args.quiet
    # the task's grouping unless --group-by names one (none: plain mini-batches)
    train_given.setdefault("group_by", get_task(args.task).group_by)
    if isinstance(train_given["group_by"], str) and train_given["group_by"].lower() == "none":
        train_given["group_by"] = None
    train = TrainConfig(**train_given)
    data = _data_config(args, root)
    if data.num_val_instances == 0:
        for flag, on in (("--patience", train.early_stopping_patience is not None),
                         ("--schedule plateau", train.schedule == "plateau")):
            if on:
                raise UsageError(f"{flag} watches the validation instances: pass "
                                 "--val-instances")
    if train.schedule == "plateau" and train.warmup_steps:
        raise UsageError("--warmup-steps is not supported with --schedule plateau")
    exp = ExperimentConfig(model, data, train)
    from gen_pyg.training import build_model

    build_model(exp.model, exp.task)  # the model's own checks, before any work
    return exp
