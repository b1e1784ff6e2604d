"""Neighbour search, distances and the square's symmetries; nothing model-specific."""

from gen_pyg.ops.distance import METRICS, euclidean, geodesic, get_metric, pairwise_distance
from gen_pyg.ops.fused_edges import edge_relu_sum
from gen_pyg.ops.neighbors import HAS_TORCH_CLUSTER, knn, morton_order, radius, radius_graph
from gen_pyg.ops.pairs import all_pairs
from gen_pyg.ops.sparse import spmm
from gen_pyg.ops.symmetry import SQUARE_SYMMETRIES, square_symmetry_points

__all__ = [
    "HAS_TORCH_CLUSTER",
    "METRICS",
    "SQUARE_SYMMETRIES",
    "all_pairs",
    "edge_relu_sum",
    "euclidean",
    "geodesic",
    "get_metric",
    "knn",
    "morton_order",
    "pairwise_distance",
    "radius",
    "radius_graph",
    "spmm",
    "square_symmetry_points",
]
