"""Results must not depend on which BLAS kernel the machine picks.

``torch.cdist`` in its default mode computes Euclidean distances through a matrix product,
:math:`\\lVert a \\rVert^2 + \\lVert b \\rVert^2 - 2 a \\cdot b`, as soon as either side has more
than 25 points. Its round-off depends on the GEMM kernel: two coincident grid nodes are 0 apart
with MKL's AVX2 kernel and 2.4e-4 apart with its AVX-512 one, enough to fail an exactness check,
drop a neighbour at distance exactly ``r`` or break a tie differently. So every ``cdist`` call of
the package, its tests, benchmarks and documented snippets names the exact mode,
``compute_mode="donot_use_mm_for_euclid_dist"``; a use whose result is only ever compared to a
tolerance may instead carry the comment ``# cdist-mm-ok: <why>`` on the call's lines or the line
above. The scanner is tested on small sources below, so the guard is known to fire.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: A call of ``cdist`` (``torch.cdist(``, ``cdist(``), not its definition.
CALL = re.compile(r"(?<!def )\bcdist\s*\(")
EXACT = re.compile(r"""compute_mode\s*=\s*(["'])donot_use_mm_for_euclid_dist\1""")
OPT_OUT = "cdist-mm-ok:"

#: What is scanned: the package, tests, benchmarks, and the documentation whose snippets the
#: documentation test runs (docstring examples are scanned with their modules).
SCANNED = ("src/**/*.py", "tests/**/*.py", "benchmarks/**/*.py", "docs/**/*.py", "docs/**/*.rst",
           "*.md", "*.py")


def mm_cdist_calls(text: str) -> list[int]:
    """The 1-based lines of the ``cdist`` calls in ``text`` that may take the matrix-product
    path: without ``compute_mode="donot_use_mm_for_euclid_dist"`` among their arguments and
    without the opt-out comment on their lines or the line above."""
    lines = text.splitlines()
    found = []
    for match in CALL.finditer(text):
        depth, end = 1, match.end()
        while end < len(text) and depth:  # to the closing parenthesis of the call
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        first = text.count("\n", 0, match.start())  # 0-based line of the call
        last = text.count("\n", 0, end)
        if EXACT.search(text[match.end() : end]):
            continue
        if any(OPT_OUT in line for line in lines[max(0, first - 1) : last + 1]):
            continue
        found.append(first + 1)
    return found


def _scanned_files() -> list[Path]:
    this = Path(__file__).resolve()
    files = {p.resolve() for pattern in SCANNED for p in ROOT.glob(pattern)}
    skip = {".venv", "build", "dist", ".git", "node_modules"}
    return sorted(
        p for p in files
        if p != this and p.is_file() and not skip & set(p.relative_to(ROOT).parts)
    )


def test_every_cdist_call_is_exact_or_opts_out() -> None:
    files = _scanned_files()
    assert any(p.name == "neighbors.py" for p in files)  # the scan reaches the package
    offenders = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in files
        for line in mm_cdist_calls(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, (
        "torch.cdist without compute_mode=\"donot_use_mm_for_euclid_dist\" at "
        + ", ".join(offenders)
        + ". Its default mode goes through a matrix product whose round-off depends on the "
        "machine's BLAS kernel (1e-4 for coincident points with MKL's AVX-512 sgemm): pass "
        "compute_mode=\"donot_use_mm_for_euclid_dist\" (exact, as gen_pyg.ops.distance does), "
        "or, where the result is only compared to a tolerance that allows that round-off, put "
        "'# cdist-mm-ok: <why>' on the call's line or the line above."
    )


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("d = torch.cdist(a, b)\n", [1]),
        ("x = 1\nd = torch.cdist(a, b).min() < 1e-6\n", [2]),  # the pattern
        ("d = cdist(a, b)\n", [1]),  # imported bare
        ('d = torch.cdist(a, b, compute_mode="use_mm_for_euclid_dist")\n', [1]),  # forces mm
        ('d = torch.cdist(f(a), b)  # "donot_use_mm_for_euclid_dist" in a comment\n', [1]),
        ('d = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")\n', []),
        ("d = torch.cdist(a, b, compute_mode='donot_use_mm_for_euclid_dist')\n", []),
        ('d = torch.cdist(\n    f(a, g(b)),\n    b,\n'
         '    compute_mode="donot_use_mm_for_euclid_dist",\n)\n', []),
        ("d = torch.cdist(\n    f(a),\n    b,\n)\n", [1]),
        ("# cdist-mm-ok: a softmax weight, compared to 1e-4\nd = torch.cdist(a, b)\n", []),
        ("d = torch.cdist(a, b)  # cdist-mm-ok: timing only\n", []),
        ("# cdist-mm-ok: one\nd = torch.cdist(a, b)\ne = torch.cdist(a, b)\n", [3]),
        ("def cdist(a, b):\n    return a\n", []),
        ("    >>> torch.cdist(x, y).min()\n", [1]),  # a doctest line
        ("Distances go through :func:`torch.cdist` in its exact mode.\n", []),  # prose
    ],
)
def test_scanner_flags_calls_that_may_take_the_matrix_product_path(
    source: str, lines: list[int]
) -> None:
    assert mm_cdist_calls(source) == lines
