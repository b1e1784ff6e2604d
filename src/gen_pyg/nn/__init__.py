"""PyG layers of a Graph Element Network. As in PyG, operators live in
:mod:`gen_pyg.nn.conv` and models in :mod:`gen_pyg.nn.models`; representation functions sit
here. Everything public is re-exported from this module."""

from gen_pyg.nn.barycentric import Barycentric
from gen_pyg.nn.bilinear import Bilinear
from gen_pyg.nn.conv import (
    ElementConv,
    InteractionConv,
    SpatialDecoder,
    SpatialEncoder,
)
from gen_pyg.nn.gaussian_kernel import GaussianKernel
from gen_pyg.nn.graphs import GraphBuilder, RadiusGraph, StencilGraph, ball_stencil
from gen_pyg.nn.models import (
    GEN,
    ElementProcessor,
    GlobalNeuralProcess,
    ImageEmbedder,
    InteractionNetwork,
    MultilevelGEN,
    NeuralProcess,
    PairDecoder,
    PairEncoder,
    PointDecoder,
    PointEncoder,
    PoseImageEncoder,
    SceneRetrieval,
    SumReadout,
    SymmetryAverage,
    grid_levels,
)
from gen_pyg.nn.representation import (
    Representation,
    get_representation,
    node_scales,
    register_representation,
    representation_names,
    unregister_representation,
)
from gen_pyg.nn.soft_nearest import SoftNearest

__all__ = [
    "GEN",
    "Barycentric",
    "Bilinear",
    "ElementConv",
    "ElementProcessor",
    "GaussianKernel",
    "GlobalNeuralProcess",
    "GraphBuilder",
    "ImageEmbedder",
    "InteractionConv",
    "InteractionNetwork",
    "MultilevelGEN",
    "NeuralProcess",
    "PairDecoder",
    "PairEncoder",
    "PointDecoder",
    "PointEncoder",
    "PoseImageEncoder",
    "RadiusGraph",
    "Representation",
    "SceneRetrieval",
    "SoftNearest",
    "SpatialDecoder",
    "SpatialEncoder",
    "StencilGraph",
    "SumReadout",
    "SymmetryAverage",
    "ball_stencil",
    "get_representation",
    "grid_levels",
    "node_scales",
    "register_representation",
    "representation_names",
    "unregister_representation",
]
