"""Neighbour search and distances; nothing model-specific."""

from gen_pyg.ops.distance import euclidean, geodesic, get_metric
from gen_pyg.ops.neighbors import knn, radius, radius_graph

__all__ = [
    "euclidean",
    "geodesic",
    "get_metric",
    "knn",
    "radius",
    "radius_graph",
]
