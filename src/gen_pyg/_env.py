"""Report of the software environment (used by ``gen-pyg env`` and the demo banner)."""

from __future__ import annotations

import platform
from importlib import metadata


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_report() -> dict[str, str]:
    """Versions of Python and the key dependencies, and the compute devices seen.

    Returns:
        A mapping from component name to a version string or a short description.

    Example:
        >>> report = environment_report()
        >>> sorted(report)[:3]
        ['cuda', 'gen_pyg', 'numpy']
    """
    import torch

    from gen_pyg._version import __version__

    cuda = (
        f"{torch.cuda.device_count()} device(s), CUDA {torch.version.cuda}"
        if torch.cuda.is_available()
        else "not available (CPU only)"
    )
    report = {
        "gen_pyg": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": cuda,
        "threads": str(torch.get_num_threads()),
    }
    for dist in ("torch_geometric", "torch_scatter", "torch_cluster", "scipy", "numpy"):
        report[dist] = _version(dist)
    return report
