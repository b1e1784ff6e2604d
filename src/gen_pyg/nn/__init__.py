"""PyG layers of a Graph Element Network. As in PyG, operators live in
:mod:`gen_pyg.nn.conv` and models in :mod:`gen_pyg.nn.models`; representation functions,
output heads and the MLP helper sit here. Everything public is re-exported from this module."""

from gen_pyg.nn.barycentric import Barycentric
from gen_pyg.nn.bilinear import Bilinear
from gen_pyg.nn.conv import (
    GENConv,
    InteractionConv,
    SpatialAggregation,
    SpatialDecoder,
    SpatialEncoder,
)
from gen_pyg.nn.function_heads import FunctionHeads
from gen_pyg.nn.mlp import mlp
from gen_pyg.nn.models import (
    GEN,
    ImageEmbedder,
    InputOffset,
    InteractionNetwork,
    NeuralProcess,
    PoseImageEncoder,
    SceneRetrieval,
    SymmetryAverage,
)
from gen_pyg.nn.representation import (
    Representation,
    get_representation,
    register_representation,
    representation_names,
    unregister_representation,
)
from gen_pyg.nn.soft_nearest import SoftNearest

__all__ = [
    "GEN",
    "Barycentric",
    "Bilinear",
    "FunctionHeads",
    "GENConv",
    "ImageEmbedder",
    "InputOffset",
    "InteractionConv",
    "InteractionNetwork",
    "NeuralProcess",
    "PoseImageEncoder",
    "Representation",
    "SceneRetrieval",
    "SoftNearest",
    "SpatialAggregation",
    "SpatialDecoder",
    "SpatialEncoder",
    "SymmetryAverage",
    "get_representation",
    "mlp",
    "register_representation",
    "representation_names",
    "unregister_representation",
]
