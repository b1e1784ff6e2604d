"""The docstring examples of the Poisson datasets and solvers run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "gen_pyg.solvers.bilinear_interpolate",
    "gen_pyg.solvers.box_coverage",
    "gen_pyg.solvers.fd_poisson_solver",
    "gen_pyg.solvers.sphere_laplacian",
    "gen_pyg.datasets.poisson_house",
    "gen_pyg.datasets.poisson_paper_format",
    "gen_pyg.datasets.poisson_sphere",
    "gen_pyg.datasets.poisson_square",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
