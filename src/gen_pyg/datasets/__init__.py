"""PyG datasets and the generators that make their data offline."""

__all__: list[str] = []
