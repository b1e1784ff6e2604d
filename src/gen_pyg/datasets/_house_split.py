"""Helpers shared by the house-based datasets: argument checks and splits by house."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

SPLITS = ("train", "val", "test", "all")


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, or a ``ValueError`` naming ``name`` when it is not >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"'{name}' must be an int >= {minimum} (got {value!r})")
    return int(value)


def select_houses(
    num_houses: int,
    split: str,
    houses: Sequence[int] | None,
    num_test_houses: int | None,
    num_val_houses: int,
    split_seed: int,
    unit: str = "house",
) -> list[int]:
    """The sorted house indices of a split (of object indices, or of any other :obj:`unit`:
    the error messages name ``num_<unit>s``, ``num_test_<unit>s``, ...).

    A permutation of the houses drawn from ``split_seed`` puts the first ``num_test_houses``
    (``None``: a fifth of the houses) in ``"test"``, the next ``num_val_houses`` in ``"val"``
    and the rest in ``"train"``, so the splits never share a house; ``houses`` (with
    ``split="all"``) selects explicitly. A split that would hold no house is a ``ValueError``
    (an empty dataset would only fail later, far from the cause).
    """
    if split not in SPLITS:
        raise ValueError(f"'split' must be one of {SPLITS} (got {split!r})")
    default_test = num_test_houses is None
    if num_test_houses is None:
        num_test_houses = num_houses // 5
    n, t, v = f"num_{unit}s", f"num_test_{unit}s", f"num_val_{unit}s"
    check_int(t, num_test_houses, 0)
    check_int(v, num_val_houses, 0)
    check_int("split_seed", split_seed, 0)
    if houses is not None:
        if split != "all":
            raise ValueError(f"pass either 'houses' or 'split' (got split={split!r} and houses)")
        chosen = [check_int("houses", h, 0) for h in houses]
        if len(set(chosen)) != len(chosen) or any(h >= num_houses for h in chosen):
            raise ValueError(
                f"'houses' must hold distinct indices in [0, {num_houses}) (got {list(houses)})"
            )
        if not chosen:
            raise ValueError("'houses' must select at least one house (got an empty list)")
        return sorted(chosen)
    if num_test_houses + num_val_houses > num_houses:
        raise ValueError(
            f"'{t}' + '{v}' = {num_test_houses + num_val_houses} exceeds '{n}' = {num_houses}"
        )
    perm = np.random.default_rng(split_seed).permutation(num_houses)
    parts = {
        "test": perm[:num_test_houses],
        "val": perm[num_test_houses : num_test_houses + num_val_houses],
        "train": perm[num_test_houses + num_val_houses :],
        "all": perm,
    }
    if len(parts[split]) == 0:
        why = {
            "test": f"'{t}' is {num_test_houses}"
            + (f" (None: a fifth of '{n}' = {num_houses})" if default_test else ""),
            "val": f"'{v}' is {num_val_houses}",
            "train": f"'{t}' + '{v}' = {num_test_houses + num_val_houses} takes all '{n}' = "
            f"{num_houses}",
            "all": f"'{n}' is {num_houses}",
        }[split]
        raise ValueError(f"split={split!r} would select no {unit}: {why}")
    return sorted(int(h) for h in parts[split])


def scenario_indices(house_of_item: torch.Tensor, houses: Sequence[int]) -> list[int]:
    """Indices of the stored items whose ``house`` id is in ``houses``."""
    wanted = torch.tensor(list(houses), dtype=torch.long)
    keep = torch.isin(house_of_item.view(-1).long(), wanted)
    return torch.nonzero(keep).view(-1).tolist()


def house_split_indices(
    house_of_item: object, houses: Sequence[int], num_houses: int
) -> list[int] | None:
    """The stored items of ``houses``, or ``None`` when the split keeps every house.

    Raises a ``ValueError`` when ``house_of_item`` (the stored ``house`` ids) is not a tensor,
    as when a ``pre_transform`` dropped it.
    """
    if not isinstance(house_of_item, torch.Tensor):
        raise ValueError("the stored data lost its 'house' ids; 'pre_transform' must keep them")
    if len(houses) < num_houses:
        return scenario_indices(house_of_item, houses)
    return None
