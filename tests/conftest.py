"""Shared pytest fixtures and markers, and the hypothesis profiles of the fuzz tests.

``ci`` (the default) keeps each fuzz target to a few seconds and is derandomised, so CI runs are
reproducible; ``long`` explores far more inputs: ``pytest tests/test_fuzz.py
--hypothesis-profile=long``.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, settings

import gen_pyg.tasks  # noqa: F401  (the built-in tasks registered, as the command line does)

#: Examples per fuzz target in each profile (``tests/test_fuzz.py`` reports how many ran).
FUZZ_EXAMPLES = {"ci": 60, "long": 2000}

settings.register_profile(
    "ci",
    max_examples=FUZZ_EXAMPLES["ci"],
    deadline=timedelta(seconds=5),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=FUZZ_EXAMPLES["long"],
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci")

# Keep runs reproducible and light on the 2-core CI machine.
torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many inputs the fuzz targets tried (``tests/test_fuzz.py`` counts them)."""
    counts: dict[str, int] | None = None
    for module in list(sys.modules.values()):
        counts = getattr(module, "FUZZ_INPUTS", None)
        if isinstance(counts, dict) and counts:
            break
    else:
        return
    assert counts is not None
    total = sum(counts.values())
    profile = getattr(settings, "_current_profile", "?")  # the name, for the report only
    terminalreporter.write_line(
        f"fuzz inputs tried: {total} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}; "
        f"hypothesis profile {profile!r})"
    )
