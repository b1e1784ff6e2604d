"""Root pytest configuration: names available to the docstring examples (doctests)."""

from __future__ import annotations

from typing import Any

import pytest
import torch


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict[str, Any]) -> None:
    import gen_pyg.nn
    import gen_pyg.ops

    doctest_namespace["torch"] = torch
    for module in (gen_pyg.nn, gen_pyg.ops):
        for name in module.__all__:
            doctest_namespace[name] = getattr(module, name)
    torch.manual_seed(0)
