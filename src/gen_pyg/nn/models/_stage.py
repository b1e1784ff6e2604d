"""What the encoders and decoders of a GEN share: a representation held by their spatial layer."""

from __future__ import annotations

import torch

from gen_pyg.nn.conv.spatial_base import SpatialAggregation
from gen_pyg.nn.representation import Representation


def check_flag(value: object, name: str) -> bool:
    """``value`` as a bool, else a ``TypeError`` naming ``name``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return value


class SpatialStage(torch.nn.Module):
    """Base of the stages that weigh points on nodes with the representation of their spatial
    layer :attr:`spatial` (:class:`~gen_pyg.nn.SpatialEncoder` or
    :class:`~gen_pyg.nn.SpatialDecoder`)."""

    spatial: SpatialAggregation

    @property
    def representation(self) -> Representation:
        """The representation function (held by :attr:`spatial`)."""
        rep: Representation = self.spatial.representation
        return rep

    @property
    def takes_dense_sizes(self) -> bool:
        """Whether :meth:`forward` uses :obj:`sizes` (a representation with a dense form)."""
        return type(self.representation).dense is not Representation.dense
