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
A recipe with ``extends = "other"`` starts from recipe ``other``'s overrides instead (its own
``what`` stays its own), so a variant lists only what it changes::

    [recipes.my_recipe_long]
    extends = "my_recipe"
    what = "my_recipe trained twice as long"
    train = { epochs = 120 }

A recipe of a ``--recipes-file`` may extend a built-in one; an unknown parent or a cycle is an
error that names the chain.
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
_RECIPE_KEYS = {"what", "extends", "model", "train"}


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


def _overrides(tables: Mapping[str, tuple[Any, str]]) -> dict[str, tuple[dict[str, Any],
                                                                         dict[str, Any]]]:
    """The ``model`` and ``train`` overrides of every recipe of :obj:`tables` (name -> (its
    table, where it is written)), each recipe's own on top of those of the recipe it
    ``extends``."""
    done: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
        if name in done:
            return done[name]
        table, where = tables[name]
        if not isinstance(table, Mapping):
            raise ValueError(f"{where} must be a table")
        extra = sorted(set(table) - _RECIPE_KEYS)
        if extra:
            raise ValueError(f"{where}.{extra[0]}: unknown recipe key (known: "
                             f"{', '.join(sorted(_RECIPE_KEYS))})")
        model = _check_fields(table.get("model", {}), ModelConfig, f"{where}.model")
        train = _check_fields(table.get("train", {}), TrainConfig, f"{where}.train")
        parent = table.get("extends")
        if parent is not None:
            if not isinstance(parent, str) or parent not in tables:
                raise ValueError(f"{where}.extends: unknown recipe {parent!r} (a recipe "
                                 "extends another recipe by its name)")
            path = (*chain, name)
            if parent in path:
                cycle = " -> ".join([*path[path.index(parent):], parent])
                raise ValueError(f"{where}.extends: the recipes extend each other in a "
                                 f"cycle ({cycle})")
            parent_model, parent_train = resolve(parent, path)
            model, train = {**parent_model, **model}, {**parent_train, **train}
        done[name] = (model, train)
        return done[name]

    return {name: resolve(name, ()) for name in tables}


def parse(data: Mapping[str, Any], source: str,
          parents: Mapping[str, Any] | None = None) -> tuple[Recipe, dict[str, Recipe]]:
    """The baseline and the recipes of a parsed recipes file (:obj:`source` names it in
    errors). A file without ``[defaults]`` or ``[baseline]`` takes the built-in ones;
    :obj:`parents` (name -> recipe table, of :data:`RECIPES_FILE`) are recipes it may extend
    without defining them."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ValueError(f"{source}: unknown top-level key(s) {', '.join(unknown)} (known: "
                         f"{', '.join(sorted(_TOP_KEYS))})")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping) or set(defaults) - {"model", "train"}:
        raise ValueError(f"{source}: defaults holds only the tables model and train")
    base_model = _build(ModelConfig, ModelConfig(), _check_fields(
        defaults.get("model", {}), ModelConfig, f"{source}: defaults.model"), source)
    base_train = _build(TrainConfig, TrainConfig(group_by="house"), _check_fields(
        defaults.get("train", {}), TrainConfig, f"{source}: defaults.train"), source)

    def recipe(name: str, table: Mapping[str, Any], where: str, model_base: ModelConfig,
               overrides: tuple[dict[str, Any], dict[str, Any]]) -> Recipe:
        what = table.get("what")
        if not isinstance(what, str) or not what.strip():
            raise ValueError(f"{where}.what: a recipe needs a one-line description")
        model = _build(ModelConfig, model_base, overrides[0], where)
        train = _build(TrainConfig, base_train, overrides[1], where)
        return Recipe(name, what, model, train)

    base_table = data.get(
        "baseline", {"what": "the Neural Process", "model": {"kind": "neural_process"}})
    if isinstance(base_table, Mapping) and "extends" in base_table:
        raise ValueError(f"{source}: baseline.extends: the baseline extends no recipe")
    where = f"{source}: baseline"
    baseline = recipe("neural_process", base_table, where, ModelConfig(),
                      _overrides({"neural_process": (base_table, where)})["neural_process"])
    tables = data.get("recipes", {})
    if not isinstance(tables, Mapping):
        raise ValueError(f"{source}: recipes must be a table of tables")
    ours = {name: (table, f"{source}: recipes.{name}") for name, table in tables.items()}
    inherited = {name: (table, f"{RECIPES_FILE.name}: recipes.{name}")
                 for name, table in (parents or {}).items() if name not in ours}
    overrides = _overrides({**inherited, **ours})
    recipes = {name: recipe(name, table, where, base_model, overrides[name])
               for name, (table, where) in ours.items()}
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
    added = parse(merged, path.name, builtin_data.get("recipes", {}))[1]
    clash = sorted(set(added) & set(built_in))
    if clash:
        raise ValueError(f"recipes_file {path.name}: recipes.{clash[0]} exists already in "
                         f"{RECIPES_FILE.name}; give it another name")
    return {**built_in, **added}


def baseline() -> Recipe:
    """The Neural Process the Poisson records compare with."""
    return load(RECIPES_FILE)[0]
