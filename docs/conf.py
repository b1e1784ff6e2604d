"""Sphinx configuration. API pages are generated from each subpackage's ``__all__``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import gen_pyg  # noqa: E402

project = "gen_pyg"
author = "The gen_pyg developers"
copyright = "2026, The gen_pyg developers"
release = gen_pyg.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True
nitpicky = False
exclude_patterns = ["_build", "tables", "_generated"]  # tables/ holds generated includes
html_theme = "alabaster"
#: wide enough for 100-column code lines without a scroll bar
html_theme_options = {"page_width": "1200px", "sidebar_width": "230px"}
html_static_path = ["_static"]

#: "" is the top-level package (environment_report, the value-check switch).
SUBPACKAGES = ["", "nn", "mesh", "ops", "datasets", "solvers", "training", "viz", "testing",
               "typing"]


#: Sections of a page, in order: a heading and the names under it (names a page exports but
#: no section lists come last, under "Other").
SECTIONS: dict[str, list[tuple[str, list[str]]]] = {
    "nn": [
        ("The GEN: a composition of stages", ["GEN"]),
        ("Encoders: samples to node states", ["PointEncoder", "PairEncoder"]),
        ("Processors: node states to node states",
         ["ElementProcessor", "GraphBuilder", "RadiusGraph", "StencilGraph", "ball_stencil",
          "ElementConv"]),
        ("Decoders: node states to answers", ["PointDecoder", "PairDecoder", "SumReadout"]),
        ("Representation functions: weights of points on nodes",
         ["Representation", "SoftNearest", "Bilinear", "Barycentric", "GaussianKernel",
          "get_representation", "register_representation", "representation_names",
          "unregister_representation", "node_scales"]),
        ("Spatial layers", ["SpatialEncoder", "SpatialDecoder"]),
        ("Other models and wrappers",
         ["NeuralProcess", "GlobalNeuralProcess", "MultilevelGEN", "grid_levels",
          "SymmetryAverage", "InteractionNetwork", "InteractionConv", "SceneRetrieval",
          "PoseImageEncoder", "ImageEmbedder"]),
    ],
}


def _entry(modname: str, obj_name: str, obj: object) -> list[str]:
    if isinstance(obj, type):
        return [f".. autoclass:: {modname}.{obj_name}", "   :members:", ""]
    if callable(obj):
        return [f".. autofunction:: {modname}.{obj_name}", ""]
    if isinstance(obj, dict):
        keys = ", ".join(f"``{key}``" for key in sorted(obj))
        return [f".. py:data:: {modname}.{obj_name}", "", f"   Registry with keys {keys}.", ""]
    return [f".. py:data:: {modname}.{obj_name}", "", f"   Value: ``{obj!r}``.", ""]


def _write_api_pages() -> None:
    """One page per (sub)package, one autodoc entry per name in its ``__all__``."""
    out = HERE / "api" / "generated"
    out.mkdir(parents=True, exist_ok=True)
    for name in SUBPACKAGES:
        modname = f"gen_pyg.{name}" if name else "gen_pyg"
        module = importlib.import_module(modname)
        lines = [
            modname,
            "=" * len(modname),
            "",
            f".. automodule:: {modname}",
            "   :no-members:",
            "",
        ]
        public = list(getattr(module, "__all__", []))
        if not public:
            lines.append("Nothing public yet.")
        sections = SECTIONS.get(name, [])
        listed = {n for _, names in sections for n in names}
        rest = [n for n in public if n not in listed]
        for heading, names in [*sections, *([("Other", rest)] if sections and rest else [])]:
            lines += [heading, "-" * len(heading), ""]
            for obj_name in names:
                lines += _entry(modname, obj_name, getattr(module, obj_name))
        if not sections:
            for obj_name in public:
                lines += _entry(modname, obj_name, getattr(module, obj_name))
        text = "\n".join(lines) + "\n"
        page = out / f"{name or 'gen_pyg'}.rst"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)


_write_api_pages()


def _make_figures() -> None:
    """The concepts page's figures, drawn by the package into ``_generated/`` (git-ignored)."""
    sys.path.insert(0, str(HERE))
    from make_figures import make_figures

    make_figures(HERE / "_generated")


_make_figures()
