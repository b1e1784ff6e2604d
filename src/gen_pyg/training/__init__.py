"""Training and evaluation loops."""

__all__: list[str] = []
