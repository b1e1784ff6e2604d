"""Models built from the operators in :mod:`gen_pyg.nn.conv`: the Graph Element Network and
its stages (encoders, processors, decoders), the Neural Process baseline, a per-node
interaction network, the scene-retrieval model, and wrappers of them."""

from gen_pyg.nn.models.decoders import PairDecoder, PointDecoder, SumReadout
from gen_pyg.nn.models.encoders import PairEncoder, PointEncoder
from gen_pyg.nn.models.gen import GEN
from gen_pyg.nn.models.global_neural_process import GlobalNeuralProcess
from gen_pyg.nn.models.interaction_network import InteractionNetwork
from gen_pyg.nn.models.multilevel import MultilevelGEN, grid_levels
from gen_pyg.nn.models.neural_process import NeuralProcess
from gen_pyg.nn.models.processors import ElementProcessor
from gen_pyg.nn.models.scene import (
    ImageEmbedder,
    PoseImageEncoder,
    SceneRetrieval,
)
from gen_pyg.nn.models.symmetry_average import SymmetryAverage

__all__ = [
    "GEN",
    "ElementProcessor",
    "GlobalNeuralProcess",
    "ImageEmbedder",
    "InteractionNetwork",
    "MultilevelGEN",
    "NeuralProcess",
    "PairDecoder",
    "PairEncoder",
    "PointDecoder",
    "PointEncoder",
    "PoseImageEncoder",
    "SceneRetrieval",
    "SumReadout",
    "SymmetryAverage",
    "grid_levels",
]
