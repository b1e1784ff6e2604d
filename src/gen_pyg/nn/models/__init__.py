"""Models built from the operators in :mod:`gen_pyg.nn.conv`: the Graph Element Network, the
Neural Process baseline and a per-node interaction network."""

from gen_pyg.nn.models.gen import GEN
from gen_pyg.nn.models.input_offset import InputOffset
from gen_pyg.nn.models.interaction_network import InteractionNetwork
from gen_pyg.nn.models.neural_process import NeuralProcess

__all__ = ["GEN", "InputOffset", "InteractionNetwork", "NeuralProcess"]
