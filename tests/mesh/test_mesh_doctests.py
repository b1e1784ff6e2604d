"""The ``>>>`` examples of the mesh and mesh-figure docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "gen_pyg.mesh.delaunay",
    "gen_pyg.mesh.diameter",
    "gen_pyg.mesh.edges",
    "gen_pyg.mesh.grid",
    "gen_pyg.mesh.halton",
    "gen_pyg.mesh.learnable",
    "gen_pyg.mesh.protocol",
    "gen_pyg.mesh.radius",
    "gen_pyg.mesh.sphere",
    "gen_pyg.mesh.transforms",
    "gen_pyg.viz.mesh",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    # as ``pytest --doctest-modules`` runs them: module globals only, default flags
    result = doctest.testmod(module)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
