"""The epoch plan: what every optimiser step of an epoch trains on, as a function of the seed
and the epoch only, so that every process of a data-parallel run and every resume agrees."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import DistributedSampler

__all__ = ["EpochPlanner"]


class EpochPlanner:
    """Plans the steps of each epoch over pre-collated groups.

    Each epoch visits every group once, in an order drawn by a
    :class:`~torch.utils.data.DistributedSampler` (this process's share under ``torchrun``),
    :obj:`groups_per_step` groups per step and process; every step draws one mesh (by name) for
    all of its groups and, when :obj:`augment` is set, one seed per group for the
    augmentation's generator.

    Args:
        group_terms (sequence of int): the number of loss terms of each group (what a step's
            gradient is normalised by, summed over all processes).
        mesh_names (sequence of str or None): the meshes a step may draw (``[None]`` when the
            examples carry their own).
        groups_per_step (int): groups per step and process.
        seed (int): the run's seed.
        rank (int): this process. world_size (int): the number of processes.
        augment (bool): draw augmentation seeds.
    """

    def __init__(self, group_terms: Sequence[int], mesh_names: Sequence[str | None],
                 groups_per_step: int, seed: int, rank: int = 0, world_size: int = 1,
                 augment: bool = False) -> None:
        self.group_terms = list(group_terms)
        self.mesh_names = list(mesh_names)
        self.groups_per_step = groups_per_step
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.augment = augment
        local = len(self._sampler(0))
        self.steps_per_epoch = math.ceil(local / groups_per_step)

    def _sampler(self, rank: int) -> DistributedSampler[int]:
        indices: Any = range(len(self.group_terms))  # any sized sequence serves as its dataset
        return DistributedSampler(indices, num_replicas=self.world_size, rank=rank,
                                  shuffle=True, seed=self.seed)

    def __call__(self, epoch: int) -> list[dict[str, Any]]:
        """The steps of :obj:`epoch`: each a dict with the ``"mesh"`` name, this process's
        ``"groups"``, their ``"augment"`` seeds (:obj:`None` each without augmentation) and the
        ``"targets"``, the loss terms of the whole (all-process) step."""
        w, per = self.world_size, self.groups_per_step
        orders = []
        for r in range(w):
            sampler = self._sampler(r)
            sampler.set_epoch(epoch)
            orders.append(list(sampler))
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        steps = self.steps_per_epoch
        mesh_idx = torch.randint(len(self.mesh_names), (steps,), generator=gen).tolist()
        seeds = torch.randint(2**62, (steps, w * per), generator=gen).tolist()
        plan = []
        for s in range(steps):
            chunks = [order[s * per:(s + 1) * per] for order in orders]
            targets = sum(self.group_terms[g] for c in chunks for g in c)
            mine = chunks[self.rank]
            aug = [seeds[s][i * w + self.rank] if self.augment else None
                   for i in range(len(mine))]
            plan.append({"mesh": self.mesh_names[mesh_idx[s]], "groups": mine, "augment": aug,
                         "targets": targets})
        return plan
