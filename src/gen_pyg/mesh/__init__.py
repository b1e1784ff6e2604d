"""Node layouts and graph builders (grid, Halton, Delaunay, sphere, radius graphs) and
learnable meshes."""

__all__: list[str] = []
