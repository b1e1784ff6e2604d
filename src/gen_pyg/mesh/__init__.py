"""Node layouts and graph builders (grid, Halton, Delaunay, sphere, radius graphs) and
learnable meshes.

Every builder returns a :class:`~torch_geometric.data.Data` with :obj:`pos` :obj:`[N, D]`,
undirected :obj:`edge_index` (both directions, sorted, no self loops or duplicates),
:obj:`num_nodes` and :obj:`diameter` (a 1-element long tensor, the default number of
message-passing steps), plus :obj:`face` where simplices exist and grid metadata for grids.
"""

from gen_pyg.mesh.delaunay import delaunay, delaunay_edges
from gen_pyg.mesh.diameter import graph_diameter
from gen_pyg.mesh.edges import build_mesh
from gen_pyg.mesh.grid import grid
from gen_pyg.mesh.halton import halton
from gen_pyg.mesh.learnable import LearnableMesh
from gen_pyg.mesh.order import curve_order
from gen_pyg.mesh.protocol import PositionFit, evaluate_positions, fit_and_evaluate, fit_positions
from gen_pyg.mesh.radius import radius_edges, radius_mesh
from gen_pyg.mesh.sphere import icosphere, sphere_latlong, spherical_delaunay_edges
from gen_pyg.mesh.transforms import AttachMesh, CurveOrder, DelaunayEdges, RadiusEdges

__all__ = [
    "AttachMesh",
    "CurveOrder",
    "DelaunayEdges",
    "LearnableMesh",
    "PositionFit",
    "RadiusEdges",
    "build_mesh",
    "curve_order",
    "delaunay",
    "delaunay_edges",
    "evaluate_positions",
    "fit_and_evaluate",
    "fit_positions",
    "graph_diameter",
    "grid",
    "halton",
    "icosphere",
    "radius_edges",
    "radius_mesh",
    "sphere_latlong",
    "spherical_delaunay_edges",
]
