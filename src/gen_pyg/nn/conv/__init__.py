"""Message-passing operators: the spatial encoder and decoder between points and mesh nodes,
the GEN mesh convolution, and the interaction-network operator."""

from gen_pyg.nn.conv.gen_conv import GENConv
from gen_pyg.nn.conv.interaction_conv import InteractionConv
from gen_pyg.nn.conv.spatial_base import SpatialAggregation
from gen_pyg.nn.conv.spatial_decoder import SpatialDecoder
from gen_pyg.nn.conv.spatial_encoder import SpatialEncoder

__all__ = ["GENConv", "InteractionConv", "SpatialAggregation", "SpatialDecoder", "SpatialEncoder"]
