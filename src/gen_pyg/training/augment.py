"""Data augmentations of the training engine: callables ``augment(batch, generator) -> batch``.

The :class:`~gen_pyg.training.Trainer` calls its augmentation on every group of every step with
a :class:`torch.Generator` seeded from the run's seed, the epoch, the step and the group (the
epoch plan), so that augmented runs resume exactly and every process of a data-parallel run
agrees. An augmentation returns a new batch (a shallow copy is enough) and must not change the
one it is given: the engine collates each group once and reuses it every epoch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch

from gen_pyg.ops.symmetry import square_symmetry

__all__ = [
    "AUGMENTATIONS",
    "Augmentation",
    "Compose",
    "MeshJitter",
    "RandomRounds",
    "SquareSymmetry",
    "get_augmentation",
]

#: ``augment(batch, generator) -> batch``
Augmentation = Callable[[Any, torch.Generator], Any]


class SquareSymmetry:
    """One of the 8 rotations and reflections of the square :math:`[lo, hi]^2`, drawn
    uniformly, applied to the points :obj:`keys` of a batch (the mesh is kept: use meshes that
    share the symmetry, such as grids). The Poisson problem in a square house is invariant under
    these maps, so they turn every house into 8.

    Args:
        keys (sequence of str, optional): the batch's point attributes to move.
            (default: :obj:`("input_pos", "query_pos")`)
        lo (float, optional): lower corner of the square. (default: :obj:`0.0`)
        hi (float, optional): upper corner of the square. (default: :obj:`1.0`)

    Example:
        >>> from torch_geometric.data import Data
        >>> b = Data(input_pos=torch.tensor([[0.25, 0.5]]), query_pos=torch.tensor([[0.5, 0.5]]))
        >>> out = SquareSymmetry()(b, torch.Generator().manual_seed(1))
        >>> out.query_pos.tolist()  # the centre is fixed by every symmetry
        [[0.5, 0.5]]
    """

    def __init__(self, keys: Sequence[str] = ("input_pos", "query_pos"), lo: float = 0.0,
                 hi: float = 1.0) -> None:
        if not lo < hi:
            raise ValueError(f"lo must be below hi, got lo={lo!r}, hi={hi!r}")
        self.keys = tuple(keys)
        self.lo, self.hi = float(lo), float(hi)

    def __call__(self, batch: Any, generator: torch.Generator) -> Any:
        index = int(torch.randint(8, (1,), generator=generator))
        return square_symmetry(batch, index, keys=self.keys, lo=self.lo, hi=self.hi)

    def __repr__(self) -> str:
        return f"SquareSymmetry(keys={list(self.keys)}, lo={self.lo}, hi={self.hi})"


class RandomRounds:
    """0..``max_extra`` message-passing rounds more than the batch's mesh diameter, drawn
    uniformly: raises :obj:`batch.diameter`, which a :class:`~gen_pyg.nn.GEN` without a fixed
    ``num_steps`` runs as its number of rounds. Trained this way, the rounds of a GEN learn
    to settle instead of counting to the trained number (see the "bigger meshes" section of
    the benchmarks page); :attr:`TrainConfig.extra_rounds <gen_pyg.training.TrainConfig>`
    adds it to any run.

    Args:
        max_extra (int): the most extra rounds.

    Example:
        >>> from torch_geometric.data import Data
        >>> b = Data(diameter=torch.tensor([4]))
        >>> out = RandomRounds(3)(b, torch.Generator().manual_seed(0))
        >>> 4 <= int(out.diameter) <= 7, int(b.diameter)
        (True, 4)
    """

    def __init__(self, max_extra: int) -> None:
        if isinstance(max_extra, bool) or not isinstance(max_extra, int) or max_extra < 0:
            raise ValueError(f"max_extra must be an integer >= 0, got {max_extra!r}")
        self.max_extra = max_extra

    def __call__(self, batch: Any, generator: torch.Generator) -> Any:
        extra = int(torch.randint(self.max_extra + 1, (1,), generator=generator))
        diameter = getattr(batch, "diameter", None)
        if not isinstance(diameter, torch.Tensor):
            raise ValueError("RandomRounds needs batch.diameter (the mesh diameter, which the "
                             "package's meshes carry), got "
                             f"{type(diameter).__name__}")
        out = copy.copy(batch)
        out.diameter = diameter + extra
        return out

    def __repr__(self) -> str:
        return f"RandomRounds({self.max_extra})"


class MeshJitter:
    r"""Moves every interior node of a batch's grid meshes by an independent uniform offset of
    up to ``scale / 2`` of its grid cell along each axis; coordinates on the grid's box stay
    on it (a wall node slides along its wall, a corner stays), and no node leaves the box.
    Each copy of the mesh in the batch gets its own offsets, so every example sees a different
    mesh of the same size.

    Trained on regular grids, a mesh-independent GEN can fit each grid's fixed quadrature
    error into its weights; on jittered grids that error is random, so the weights can only
    fit the mean over meshes (the continuous limit) and the rest shrinks as the mesh grows.
    :attr:`TrainConfig.mesh_jitter <gen_pyg.training.TrainConfig>` adds it to any run.

    The batch's mesh must carry the grid metadata :func:`~gen_pyg.mesh.grid` writes
    (:obj:`grid_shape`, :obj:`grid_lo`, :obj:`grid_hi`); the edges are kept (models that build
    their graphs from the positions rebuild them).

    Args:
        scale (float): the largest move as a fraction of the cell, in :math:`(0, 1]`: 1 lets
            a node reach half-way to its neighbours.

    Example:
        >>> from gen_pyg.mesh import grid
        >>> mesh = grid(3)
        >>> out = MeshJitter(1.0)(mesh, torch.Generator().manual_seed(0))
        >>> bool((out.pos - mesh.pos).abs().max() <= 0.25), out.pos[0].tolist()
        (True, [0.0, 0.0])
    """

    def __init__(self, scale: float) -> None:
        if (isinstance(scale, bool) or not isinstance(scale, (int, float))
                or not 0 < scale <= 1):
            raise ValueError(f"scale must be a number in (0, 1], got {scale!r}")
        self.scale = float(scale)

    def __call__(self, batch: Any, generator: torch.Generator) -> Any:
        pos = batch.get("pos") if hasattr(batch, "get") else None
        shape = getattr(batch, "grid_shape", None)
        if not isinstance(pos, torch.Tensor) or not isinstance(shape, torch.Tensor):
            raise ValueError("MeshJitter needs a batch whose mesh has pos and the grid "
                             "metadata grid_shape/grid_lo/grid_hi (gen_pyg.mesh.grid writes "
                             "them)")
        shape = shape.view(-1, pos.size(-1))
        lo = batch.grid_lo.view(-1, pos.size(-1)).to(pos.dtype)
        hi = batch.grid_hi.view(-1, pos.size(-1)).to(pos.dtype)
        index = batch.batch if shape.size(0) > 1 else torch.zeros(
            pos.size(0), dtype=torch.long, device=pos.device)
        cell = ((hi - lo) / (shape - 1).clamp(min=1).to(pos.dtype))[index]
        lo, hi = lo[index], hi[index]
        u = torch.rand(pos.shape, generator=generator, dtype=pos.dtype).to(pos.device)
        on_box = (pos.detach() <= lo) | (pos.detach() >= hi)
        move = ((u - 0.5) * self.scale * cell).masked_fill(on_box, 0.0)
        out = copy.copy(batch)
        # a node near a wall (a trained mesh's) may not leave the box
        moved = pos + move
        moved = torch.where(moved < lo, lo, moved)
        out.pos = torch.where(moved > hi, hi, moved)
        return out

    def __repr__(self) -> str:
        return f"MeshJitter({self.scale})"


class Compose:
    """Augmentations applied one after the other, each with the same generator.

    Example:
        >>> aug = Compose([SquareSymmetry(), RandomRounds(2)])
        >>> aug
        Compose([SquareSymmetry(keys=['input_pos', 'query_pos'], lo=0.0, hi=1.0), RandomRounds(2)])
    """

    def __init__(self, augmentations: Sequence[Augmentation]) -> None:
        self.augmentations = list(augmentations)
        for i, aug in enumerate(self.augmentations):
            if not callable(aug):
                raise TypeError(f"augmentations[{i}] must be callable, got "
                                f"{type(aug).__name__}")

    def __call__(self, batch: Any, generator: torch.Generator) -> Any:
        for aug in self.augmentations:
            batch = aug(batch, generator)
        return batch

    def __repr__(self) -> str:
        return f"Compose([{', '.join(map(repr, self.augmentations))}])"


#: Augmentations by the name :attr:`TrainConfig.augment <gen_pyg.training.TrainConfig>` holds.
AUGMENTATIONS: dict[str, Callable[[], Augmentation] | None] = {
    "none": None,
    "square": SquareSymmetry,
}


def get_augmentation(name: str) -> Augmentation | None:
    """The augmentation registered as :obj:`name` (:obj:`None` for ``"none"``)."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"augment must be one of {tuple(AUGMENTATIONS)}, got {name!r}")
    factory = AUGMENTATIONS[name]
    return factory() if factory is not None else None
