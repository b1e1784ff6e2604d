"""PyG datasets and the generators that make their data offline."""

from gen_pyg.datasets.spring_mass import SpringMass, chain_edge_index, spring_chain_graph

__all__: list[str] = []
__all__ += ["SpringMass", "chain_edge_index", "spring_chain_graph"]
