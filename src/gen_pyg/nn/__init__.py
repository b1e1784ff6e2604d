"""PyG layers of a Graph Element Network: representation functions, spatial encoder and
decoder, mesh message passing, the GEN model and baselines."""

from gen_pyg.nn.barycentric import Barycentric
from gen_pyg.nn.bilinear import Bilinear
from gen_pyg.nn.function_heads import FunctionHeads
from gen_pyg.nn.gen import GEN
from gen_pyg.nn.gen_conv import GENConv
from gen_pyg.nn.interaction_network import InteractionConv, InteractionNetwork
from gen_pyg.nn.mlp import mlp
from gen_pyg.nn.neural_process import NeuralProcess
from gen_pyg.nn.representation import (
    Representation,
    get_representation,
    register_representation,
    representation_names,
    unregister_representation,
)
from gen_pyg.nn.soft_nearest import SoftNearest
from gen_pyg.nn.spatial_base import SpatialAggregation
from gen_pyg.nn.spatial_decoder import SpatialDecoder
from gen_pyg.nn.spatial_encoder import SpatialEncoder

__all__ = [
    "GEN",
    "Barycentric",
    "Bilinear",
    "FunctionHeads",
    "GENConv",
    "InteractionConv",
    "InteractionNetwork",
    "NeuralProcess",
    "Representation",
    "SoftNearest",
    "SpatialAggregation",
    "SpatialDecoder",
    "SpatialEncoder",
    "get_representation",
    "mlp",
    "register_representation",
    "representation_names",
    "unregister_representation",
]
