"""The package version (one place: the package, the environment report and the build read it)."""

__version__ = "0.1.0"
