"""Matplotlib figures: fields, meshes, error maps, learning curves, rollouts."""

from gen_pyg.viz.spring import plot_spring_errors, plot_spring_positions

__all__: list[str] = []
__all__ += ["plot_spring_errors", "plot_spring_positions"]
