"""Matplotlib figures: fields, meshes, error maps, learning curves, rollouts, pushes and scene
retrieval."""

from gen_pyg.viz.mesh import plot_mesh, plot_mesh_comparison, plot_meshes
from gen_pyg.viz.pushing import plot_pushes
from gen_pyg.viz.scenes import plot_scene_retrieval
from gen_pyg.viz.spring import plot_spring_errors, plot_spring_positions
from gen_pyg.viz.training import plot_field_comparison, plot_learning_curves, plot_mse_vs_mesh

__all__ = [
    "plot_field_comparison",
    "plot_learning_curves",
    "plot_mesh",
    "plot_mesh_comparison",
    "plot_meshes",
    "plot_mse_vs_mesh",
    "plot_pushes",
    "plot_scene_retrieval",
    "plot_spring_errors",
    "plot_spring_positions",
]
