"""Stopping a training on SIGINT/SIGTERM at a step boundary, after its checkpoint."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

__all__ = ["TrainingInterrupted", "catch_stop_signals"]


class TrainingInterrupted(Exception):
    """Raised by :meth:`Trainer.fit` after SIGINT/SIGTERM, once the checkpoint of the last
    completed step is written; running the same training again resumes from it."""

    def __init__(self, signum: int, checkpoint: Path | None) -> None:
        self.signum = signum
        self.checkpoint = checkpoint
        where = f"; checkpoint {checkpoint}" if checkpoint is not None else ""
        super().__init__(f"training interrupted by {signal.Signals(signum).name}{where}")


@contextmanager
def catch_stop_signals(on_signal: Callable[[int], None]) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM call :obj:`on_signal(signum)` instead of stopping
    the process (the caller stops at its next step boundary); the previous handlers are back
    afterwards. Outside the main thread, where Python cannot install handlers, it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        on_signal(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
