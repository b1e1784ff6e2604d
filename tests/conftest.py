"""Shared pytest fixtures and markers."""

from __future__ import annotations

import pytest
import torch

# Keep runs reproducible and light on the 2-core CI machine.
torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
