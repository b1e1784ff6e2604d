"""Atomic checkpoint files and the random-number state they carry."""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch


def _atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Call :obj:`write` on a temporary file in :obj:`path`'s folder, fsync it, rename it over
    :obj:`path` and fsync the folder: a crash at any moment leaves the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _umask_mode())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write :obj:`obj` with :func:`torch.save` to :obj:`path` atomically: into a temporary file
    of the same folder, flushed and fsync'ed, then renamed over :obj:`path` (and the folder
    fsync'ed). A crash at any moment leaves either the old file or the new one, never a
    truncated one."""
    _atomic_write(path, lambda f: torch.save(obj, f))


def atomic_write_text(text: str, path: str | os.PathLike[str]) -> None:
    """Write a text file (UTF-8) atomically (temporary file, fsync, rename)."""
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _umask_mode() -> int:
    """The mode a plain ``open()`` would give a new file (``mkstemp`` gives 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


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
