"""Training recipes of the Poisson benchmarks, read from a TOML file (not part of the package).

The recipes live in ``benchmarks/recipes.toml``; a user adds one by adding a table there, or
by writing a TOML file of the same form and passing it with ``--recipes-file`` (its recipes
are added to the built-in ones; a name that exists already is an error, so that a committed
record's recipe always means what it meant)::

    [recipes.my_recipe]
    what = "bilinear with 48 latent channels"          # one line for tables and figures
    model = { representation = "bilinear", latent_channels = 48 }
    train = { epochs = 60 }

Each recipe's ``model`` and ``train`` tables override ``[defaults.model]`` and
``[defaults.train]`` of ``recipes.toml`` (the demo's recipe), field by field; the fields are
those of :class:`gen_pyg.training.ModelConfig` and :class:`gen_pyg.training.TrainConfig`.
``[baseline]`` is the Neural Process every Poisson record compares with (its ``model`` starts
from :class:`~gen_pyg.training.ModelConfig`'s defaults, its training from
``[defaults.train]``). TOML has no null: a field whose default is ``None`` (``k``,
``num_steps``, ``grad_clip``...) is left out to keep it ``None``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import tomllib

from gen_pyg.training import ModelConfig, TrainConfig

#: the built-in recipes
RECIPES_FILE = Path(__file__).resolve().parent / "recipes.toml"
_TOP_KEYS = {"defaults", "baseline", "recipes"}
_RECIPE_KEYS = {"what", "model", "train"}


@dataclass(frozen=True)
class Recipe:
    """One training recipe: what it is, its model and its training settings."""

    name: str
    what: str
    model: ModelConfig
    train: TrainConfig


def _types(cls: type) -> dict[str, tuple[type, ...]]:
    """The Python types each field of dataclass :obj:`cls` accepts from TOML."""
    hints = typing.get_type_hints(cls)
    out: dict[str, tuple[type, ...]] = {}
    for f in fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        accepted = tuple(a for a in args if a is not type(None))
        if float in accepted:  # TOML writes 1e-2 as a float but 40 as an int
            accepted = (*accepted, int)
        out[f.name] = accepted
    return out


def _check_fields(values: Any, cls: type, where: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ValueError(f"{where} must be a table, got {type(values).__name__}")
    accepted = _types(cls)
    for key, value in values.items():
        if key not in accepted:
            raise ValueError(f"{where}.{key}: unknown {cls.__name__} field (known: "
                             f"{', '.join(sorted(accepted))})")
        ok = accepted[key]
        if (isinstance(value, bool) and bool not in ok) or not isinstance(value, ok):
            raise ValueError(f"{where}.{key}: expected "
                             f"{' or '.join(t.__name__ for t in ok)}, got {value!r}")
    return dict(values)


def _build(cls: type, base: Any, values: dict[str, Any], where: str) -> Any:
    try:
        return replace(base, **values)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where}: {err}") from err


def parse(data: Mapping[str, Any], source: str) -> tuple[Recipe, dict[str, Recipe]]:
    """The baseline and the recipes of a parsed recipes file (:obj:`source` names it in
    errors). A file without ``[defaults]`` or ``[baseline]`` takes the built-in ones."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ValueError(f"{source}: unknown top-level key(s) {', '.join(unknown)} (known: "
                         f"{', '.join(sorted(_TOP_KEYS))})")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping) or set(defaults) - {"model", "train"}:
        raise ValueError(f"{source}: defaults holds only the tables model and train")
    base_model = _build(ModelConfig, ModelConfig(), _check_fields(
        defaults.get("model", {}), ModelConfig, f"{source}: defaults.model"), source)
    base_train = _build(TrainConfig, TrainConfig(), _check_fields(
        defaults.get("train", {}), TrainConfig, f"{source}: defaults.train"), source)

    def recipe(name: str, table: Any, where: str, model_base: ModelConfig) -> Recipe:
        if not isinstance(table, Mapping):
            raise ValueError(f"{where} must be a table")
        extra = sorted(set(table) - _RECIPE_KEYS)
        if extra:
            raise ValueError(f"{where}.{extra[0]}: unknown recipe key (known: "
                             f"{', '.join(sorted(_RECIPE_KEYS))})")
        what = table.get("what")
        if not isinstance(what, str) or not what.strip():
            raise ValueError(f"{where}.what: a recipe needs a one-line description")
        model = _build(ModelConfig, model_base, _check_fields(
            table.get("model", {}), ModelConfig, f"{where}.model"), where)
        train = _build(TrainConfig, base_train, _check_fields(
            table.get("train", {}), TrainConfig, f"{where}.train"), where)
        return Recipe(name, what, model, train)

    baseline = recipe("neural_process", data.get(
        "baseline", {"what": "the Neural Process", "model": {"kind": "neural_process"}}),
        f"{source}: baseline", ModelConfig())
    tables = data.get("recipes", {})
    if not isinstance(tables, Mapping):
        raise ValueError(f"{source}: recipes must be a table of tables")
    recipes = {name: recipe(name, table, f"{source}: recipes.{name}", base_model)
               for name, table in tables.items()}
    return baseline, recipes


def load(path: Path | str) -> tuple[Recipe, dict[str, Recipe]]:
    """The baseline and the recipes of the TOML file :obj:`path`."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path.name}: not valid TOML: {err}") from err
    return parse(data, path.name)


def recipes(extra: Path | str | None = None) -> dict[str, Recipe]:
    """The built-in recipes, and those of the TOML file :obj:`extra` when given (with the
    built-in defaults unless it sets its own); a name in both is an error."""
    built_in = load(RECIPES_FILE)[1]
    if extra is None:
        return built_in
    path = Path(extra)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"recipes_file {path.name}: not valid TOML: {err}") from err
    builtin_data = tomllib.loads(RECIPES_FILE.read_text())
    merged = {"defaults": data.get("defaults", builtin_data["defaults"]),
              "recipes": data.get("recipes", {}),
              **{k: v for k, v in data.items() if k not in ("defaults", "recipes")}}
    added = parse(merged, path.name)[1]
    clash = sorted(set(added) & set(built_in))
    if clash:
        raise ValueError(f"recipes_file {path.name}: recipes.{clash[0]} exists already in "
                         f"{RECIPES_FILE.name}; give it another name")
    return {**built_in, **added}


def baseline() -> Recipe:
    """The Neural Process the Poisson records compare with."""
    return load(RECIPES_FILE)[0]
