"""Graph Element Networks as PyTorch Geometric layers, meshes and datasets.

A Graph Element Network (GEN; Alet et al., ICML 2019) learns a map from sampled input
functions to output functions over a space: inputs are scattered onto the nodes of a mesh,
message passing on the mesh spreads information, and node states are interpolated back to
any query point and decoded.
"""

from gen_pyg._env import environment_report
from gen_pyg._validation import set_value_checks, value_checks, value_checks_enabled
from gen_pyg._version import __version__

__all__ = [
    "__version__",
    "environment_report",
    "set_value_checks",
    "value_checks",
    "value_checks_enabled",
]
