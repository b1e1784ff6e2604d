"""Atomic file writes shared by the trainer's checkpoints and the datasets' processed files: a
crash at any moment leaves the old file or the new one, never a truncated one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

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
