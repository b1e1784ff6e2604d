"""A training run as a folder: ``config.json``, ``checkpoint.pt``, ``metrics.jsonl``,
``metrics.csv`` and, optionally, TensorBoard logs. Rank 0 writes; every file is replaced
atomically, so an interrupted run leaves the previous complete files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from gen_pyg.training.checkpoint import atomic_save, atomic_write_text, load_checkpoint
from gen_pyg.training.config import config_defaults, config_differences

__all__ = ["RunFolder", "read_run_config"]


def read_run_config(path: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a run folder (or the file itself). A missing folder, a
    file where a folder is expected, or a damaged file gives a :class:`ValueError` naming it."""
    path = Path(path)
    folder = path.parent if path.name == "config.json" else path
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a run folder")
    file = folder / "config.json"
    if not file.is_file():
        raise ValueError(f"{folder} is not a run folder (no config.json)")
    try:
        saved = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{file} is damaged (not valid JSON: {exc}); restore it or use "
                         "another run folder") from None
    if not isinstance(saved, dict):
        raise ValueError(f"{file} is damaged (expected a JSON object, got "
                         f"{type(saved).__name__})")
    return saved


class RunFolder:
    """The files of one run.

    Args:
        path (str or Path): the folder (created on first write). An existing file there is an
            error.
        is_main (bool, optional): whether this process writes (rank 0). (default: :obj:`True`)
        tensorboard (bool, optional): also log each epoch's numbers to TensorBoard (the
            ``tensorboard`` package is checked here, before any work). (default: :obj:`False`)
    """

    def __init__(self, path: str | Path, is_main: bool = True, tensorboard: bool = False
                 ) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"run_dir {self.path} is a file, not a folder")
        self.is_main = is_main
        self.tensorboard = tensorboard and is_main
        if self.tensorboard:
            import importlib.util

            if importlib.util.find_spec("tensorboard") is None:
                raise ImportError("tensorboard=True needs the tensorboard package: pip install "
                                  "'gen_pyg[tensorboard]'")
        self._writer: Any = None

    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.pt"

    def write_config(self, record: dict[str, Any], ignore: tuple[str, ...]) -> None:
        """Write ``config.json`` holding :obj:`record`, or check that the folder's holds the
        same (the top-level fields of ``record["train"]`` in :obj:`ignore` may differ)."""
        if self.config_file.exists():
            saved = read_run_config(self.path)
            defaults = config_defaults()
            diffs = config_differences(saved.get("train", {}), record["train"], ignore,
                                       defaults=defaults["train"])
            diffs += config_differences(saved.get("metadata", {}), record["metadata"], (),
                                        defaults=defaults)
            if diffs:
                raise ValueError(f"{self.config_file} holds another configuration "
                                 f"({'; '.join(diffs[:8])}); use another run folder")
        if self.is_main:
            atomic_write_text(json.dumps(record, indent=2, sort_keys=True) + "\n",
                              self.config_file)

    def load_checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint's contents, or :obj:`None` when there is none yet."""
        return load_checkpoint(self.checkpoint) if self.checkpoint.exists() else None

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        if self.is_main:
            atomic_save(state, self.checkpoint)

    def write_metrics(self, history: list[dict[str, Any]]) -> None:
        """``metrics.jsonl`` and ``metrics.csv`` of :obj:`history` (and the last epoch to
        TensorBoard)."""
        if not self.is_main:
            return
        lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in history)
        atomic_write_text(lines, self.path / "metrics.jsonl")
        columns: list[str] = []
        for r in history:
            columns += [k for k in r if k not in columns]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)
        atomic_write_text(buf.getvalue(), self.path / "metrics.csv")
        if self._writer is not None and history:
            last = history[-1]
            for k, v in last.items():
                if isinstance(v, (int, float)) and k != "epoch":
                    self._writer.add_scalar(k, v, last["epoch"])
            self._writer.flush()

    def open(self) -> None:
        """Start the TensorBoard writer (when asked for)."""
        if self.tensorboard and self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.path / "tensorboard"))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
