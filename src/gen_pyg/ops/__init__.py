"""Neighbour search and distances; nothing model-specific."""

__all__: list[str] = []
