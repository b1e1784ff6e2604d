"""PyG layers of a Graph Element Network: representation functions, spatial encoder and
decoder, mesh message passing, the GEN model and baselines."""

from gen_pyg.nn.interaction_network import InteractionConv, InteractionNetwork

__all__: list[str] = []
__all__ += ["InteractionConv", "InteractionNetwork"]
