"""Node layouts and graph builders (grid, Halton, Delaunay, sphere, radius graphs) and
learnable meshes."""

from gen_pyg.mesh.diameter import graph_diameter

__all__ = ["graph_diameter"]
