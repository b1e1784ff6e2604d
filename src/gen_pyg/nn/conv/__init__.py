"""Message-passing operators: the spatial encoder and decoder between points and mesh nodes,
the GEN mesh convolution (:class:`ElementConv`), and the interaction-network operator."""

from gen_pyg.nn.conv.element_conv import ElementConv
from gen_pyg.nn.conv.interaction_conv import InteractionConv
from gen_pyg.nn.conv.spatial_decoder import SpatialDecoder
from gen_pyg.nn.conv.spatial_encoder import SpatialEncoder

__all__ = ["ElementConv", "InteractionConv", "SpatialDecoder", "SpatialEncoder"]
