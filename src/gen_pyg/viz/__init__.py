"""Matplotlib figures: fields, meshes, error maps, learning curves, rollouts."""

__all__: list[str] = []
