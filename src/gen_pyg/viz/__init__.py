"""Matplotlib figures: fields, meshes, error maps, learning curves, rollouts."""

from gen_pyg.viz.mesh import plot_mesh, plot_mesh_comparison, plot_meshes

__all__ = ["plot_mesh", "plot_mesh_comparison", "plot_meshes"]
