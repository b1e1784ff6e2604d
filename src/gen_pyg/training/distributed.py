"""Multi-process data-parallel training on PyTorch's own engine (``torch.distributed``).

Start with ``torchrun --nproc_per_node=N -m gen_pyg.cli train ...``: torchrun sets
``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT`` and
:func:`init_distributed` joins the group (gloo on CPU, nccl on CUDA). The
:class:`~gen_pyg.training.Trainer` then wraps the model in
:class:`~torch.nn.parallel.DistributedDataParallel`, gives each process its share of the groups
with a :class:`~torch.utils.data.DistributedSampler`, reduces metrics across processes, and
writes checkpoints and logs from rank 0 only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Rank and world size of this process (``0`` and ``1`` without a process group)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    """Whether the environment of this process was set by torchrun (or a similar launcher)."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def init_distributed(backend: str | None = None) -> DistInfo:
    """Join the process group that torchrun set up (a no-op, returning rank 0 of 1, when the
    process was not started by a launcher or the group already exists).

    Args:
        backend (str, optional): ``"gloo"`` or ``"nccl"``; :obj:`None` picks nccl when CUDA is
            available and gloo otherwise. (default: :obj:`None`)
    """
    if dist.is_available() and dist.is_initialized():
        return current()
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) <= 1:
        return DistInfo()
    if not dist.is_available():  # pragma: no cover - builds without torch.distributed
        raise RuntimeError("this torch build has no torch.distributed")
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend)
    return current()


def current() -> DistInfo:
    """Rank and world size of the current process group (or of a single process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return DistInfo()
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def cleanup_distributed() -> None:
    """Leave the process group, if any.

    Every rank first meets the others at a barrier, so that none tears the group down while
    another still has communication in flight (``destroy_process_group`` on a rank whose peers
    are still working can hang at exit).
    """
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum a list of numbers over all processes (identity on one process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return [float(v) for v in t.tolist()]


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
