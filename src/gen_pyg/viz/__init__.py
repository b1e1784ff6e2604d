"""Matplotlib figures: fields, meshes, error maps, learning curves, rollouts."""

from gen_pyg.viz.mesh import plot_mesh, plot_mesh_comparison, plot_meshes
from gen_pyg.viz.spring import plot_spring_errors, plot_spring_positions

__all__ = [
    "plot_mesh",
    "plot_mesh_comparison",
    "plot_meshes",
    "plot_spring_errors",
    "plot_spring_positions",
]
