"""PyG layers of a Graph Element Network: representation functions, spatial encoder and
decoder, mesh message passing, the GEN model and baselines."""

__all__: list[str] = []
