"""Atomic checkpoint files and the random-number state they carry."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gen_pyg._io import atomic_save, atomic_write_text

__all__ = [
    "atomic_save",
    "atomic_write_text",
    "load_checkpoint",
    "load_model_weights",
    "model_signature",
    "rng_state",
    "set_rng_state",
    "signature_differences",
]


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by the trainer (tensors, numbers, strings, lists and dicts
    only: loaded with ``weights_only=True``). A damaged file gives a :class:`ValueError` that
    names it."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged archives
        raise ValueError(f"checkpoint {path} cannot be read ({exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}); it is damaged or "
                         "not a gen_pyg checkpoint") from exc
    if not isinstance(state, dict) or state.get("format") != "gen_pyg.trainer":
        raise ValueError(f"{path} is not a gen_pyg trainer checkpoint")
    return state


def load_model_weights(model: torch.nn.Module, path: str | os.PathLike[str],
                       ) -> torch.nn.Module:
    """Load the weights of a trainer checkpoint (a ``checkpoint.pt`` or the run folder holding
    one) into :obj:`model`, which must be built as the trained one was; a model of another
    architecture is refused with the differing parameters named. Returns :obj:`model`.

    The weights are those the run ends with: a run with early stopping
    (``early_stopping_patience``) ends with its best validation epoch's weights, as
    :meth:`Trainer.fit <gen_pyg.training.Trainer.fit>` leaves them, not its last epoch's.

    This, with :meth:`torch.nn.Module.state_dict`, is the supported way to save and reload a
    model: whole-model pickles (``torch.save(model)``) need ``weights_only=False`` to load,
    which runs arbitrary code from the file, and break when the package's classes change.

    Example:
        >>> import tempfile, pathlib
        >>> from gen_pyg.nn import NeuralProcess
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> atomic_save({"format": "gen_pyg.trainer", "model": NeuralProcess().state_dict(),
        ...              "model_signature": model_signature(NeuralProcess())},
        ...             folder / "checkpoint.pt")
        >>> type(load_model_weights(NeuralProcess(), folder)).__name__
        'NeuralProcess'
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    file = Path(path)
    if file.is_dir():
        file = file / "checkpoint.pt"
    if not file.is_file():
        raise ValueError(f"path {path} is neither a checkpoint file nor a run folder holding "
                         "checkpoint.pt")
    state = load_checkpoint(file)
    diffs = signature_differences(state.get("model_signature", {}), model_signature(model))
    if diffs:
        raise ValueError(f"{file} holds the weights of another model ({'; '.join(diffs[:6])}); "
                         "build the model with the settings it was trained with")
    best = state.get("best")
    patience = (state.get("config") or {}).get("early_stopping_patience")
    weights = best["model"] if patience is not None and best is not None else state["model"]
    model.load_state_dict(weights)
    return model


def rng_state() -> dict[str, Any]:
    """The states of Python's, NumPy's and torch's global generators, in a form that
    :func:`torch.load` reads with ``weights_only=True``."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state(legacy=True)  # noqa: NPY002
    py_version, py_state, py_gauss = random.getstate()
    state: dict[str, Any] = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [kind, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos),
                  int(has_gauss), float(gauss)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    py_version, py_state, py_gauss = state["python"]
    random.setstate((py_version, tuple(py_state), py_gauss))
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def model_signature(model: torch.nn.Module) -> dict[str, Any]:
    """What identifies a model's architecture in a checkpoint: its class and the shape of
    every entry of its state dict."""
    return {
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "shapes": {k: list(v.shape) for k, v in model.state_dict().items()},
    }


def signature_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Readable differences between two :func:`model_signature` results."""
    out = []
    if saved.get("class") != current.get("class"):
        out.append(f"model class: {saved.get('class')} -> {current.get('class')}")
    a, b = saved.get("shapes", {}), current.get("shapes", {})
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append(f"parameter {key}: {a.get(key, 'missing')} -> {b.get(key, 'missing')}")
    return out
