"""One declaration per configuration option: its type (the annotation), default, check, help
line, command-line flag and the model stage it belongs to.

A config is a dataclass whose fields are made by :func:`option`; :func:`check_options` runs
every field's check (called by the config's ``__post_init__``), and the ``gen-pyg`` command
line derives its flags, defaults, help and argument groups from the same fields
(``gen_pyg.cli``). The run folder's ``config.json`` and the benchmark recipes use the field
names.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Config:
    ...     width: int = option(32, "hidden width", check=positive_int)
    ...     def __post_init__(self) -> None:
    ...         check_options(self)
    >>> Config(width=0)
    Traceback (most recent call last):
    ...
    ValueError: width must be at least 1, got 0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import MISSING, Field, field, fields
from typing import Any

from gen_pyg._validation import check_int, check_length

__all__ = ["Check", "at_least", "boolean", "check_options", "choices_of", "defaults",
           "finite_float", "length", "list_of", "non_negative_float", "non_negative_int", "one_of",
           "option", "option_fields", "optional", "positive_float", "positive_int"]

#: ``check(value, name)`` raises a :class:`TypeError` (wrong type) or :class:`ValueError`
#: (a value out of range) naming ``name``.
Check = Callable[[Any, str], Any]


def option(default: Any, help: str, *, check: Check | None = None,
           choices: Sequence[Any] | Callable[[], Sequence[Any]] | None = None,
           flag: str | None = None, stage: str | None = None, negate: bool = False,
           cli: bool = True) -> Any:
    """A dataclass field declaring one option.

    Args:
        default: the default (a list or dict is copied per instance).
        help (str): one line for ``--help`` and the docs.
        check (callable, optional): ``check(value, name)``, raising for a bad value.
        choices (sequence or callable, optional): the allowed values (one tuple, declared
            once), or a function giving them (a registry's names, read when checked).
        flag (str, optional): the command-line flag (default: ``--`` and the name with
            dashes).
        stage (str, optional): the model stage (``"encoder"``, ``"processor"``,
            ``"decoder"``, ...) whose argument group lists the flag.
        negate (bool, optional): a ``True``-by-default bool whose flag turns it off.
        cli (bool, optional): whether the command line has a flag for it.
    """
    metadata = {"help": help, "check": check, "choices": choices,
                "flag": flag, "stage": stage, "negate": negate, "cli": cli}
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata=metadata)
    return field(default=default, metadata=metadata)


def check_options(config: Any) -> None:
    """Run the check and the choices of every :func:`option` field of :obj:`config`."""
    for f in fields(config):
        value = getattr(config, f.name)
        choices = choices_of(f)
        if choices is not None and value not in choices:
            raise ValueError(f"{f.name} must be one of {choices}, got {value!r}")
        check = f.metadata.get("check")
        if check is not None:
            check(value, f.name)


def defaults(cls: type) -> dict[str, Any]:
    """The default of every field of the dataclass :obj:`cls` that has one."""
    out = {}
    for f in fields(cls):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out


def choices_of(f: Field[Any]) -> tuple[Any, ...] | None:
    """The allowed values of the option :obj:`f`, or :obj:`None` for any value its check
    accepts."""
    choices = f.metadata.get("choices")
    if choices is None:
        return None
    return tuple(choices() if callable(choices) else choices)


def option_fields(cls: type) -> list[Field[Any]]:
    """The fields of :obj:`cls` the command line has flags for."""
    return [f for f in fields(cls) if f.metadata.get("cli", False)]


# ---------------------------------------------------------------------------- the checks
def positive_int(value: Any, name: str) -> int:
    """An ``int`` >= 1 (:func:`~gen_pyg._validation.check_int`)."""
    return check_int(value, name, 1)


def non_negative_int(value: Any, name: str) -> int:
    """An ``int`` >= 0 (:func:`~gen_pyg._validation.check_int`)."""
    return check_int(value, name, 0)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def finite_float(value: Any, name: str) -> float:
    """A finite number."""
    return _number(value, name)


def positive_float(value: Any, name: str) -> float:
    """A positive finite number."""
    if _number(value, name) <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def non_negative_float(value: Any, name: str) -> float:
    """A finite number >= 0."""
    if _number(value, name) < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def unit_fraction(value: Any, name: str) -> float:
    """A number in [0, 1]."""
    if not 0 <= _number(value, name) <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def boolean(value: Any, name: str) -> bool:
    """A ``bool``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def length(value: Any, name: str) -> float | None:
    """:obj:`None` or a positive finite number (:func:`~gen_pyg._validation.check_length`)."""
    return check_length(value, name)


def optional(check: Check) -> Check:
    """:obj:`None`, or a value :obj:`check` accepts."""
    def checked(value: Any, name: str) -> Any:
        return None if value is None else check(value, name)

    checked.__doc__ = f"None or {check.__doc__ or check.__name__}"
    checked.__name__ = f"optional_{check.__name__}"
    return checked


def at_least(minimum: int) -> Check:
    """An ``int`` >= :obj:`minimum`."""
    def checked(value: Any, name: str) -> int:
        return check_int(value, name, minimum)

    checked.__doc__ = f"an int >= {minimum}"
    checked.__name__ = "int"
    return checked


def list_of(check: Check) -> Check:
    """A list whose every item :obj:`check` accepts (the name shows the item's index)."""
    def checked(value: Any, name: str) -> Any:
        if not isinstance(value, list):
            raise TypeError(f"{name} must be a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            check(item, f"{name}[{i}]")
        return value

    checked.__doc__ = f"a list of {check.__doc__ or check.__name__}"
    checked.__name__ = "list"
    return checked


def one_of(choices: Sequence[Any]) -> Check:
    """One of :obj:`choices` (for a check composed with others; :func:`option`'s
    ``choices`` is the usual way)."""
    def checked(value: Any, name: str) -> Any:
        if value not in choices:
            raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
        return value

    return checked
