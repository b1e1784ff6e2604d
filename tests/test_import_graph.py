"""The package's rooms import only from below them, and no modules import each other in a
circle: every ``import``/``from`` statement of every module of ``src/gen_pyg`` counts, at module
level or inside a function (a function-local import hides a circle, it does not remove it),
relative ones resolved. Imports under ``if TYPE_CHECKING:`` run only for the type checker, so
they are exempt from the circle check; they must still point down (or sideways) the layers.

The layers, bottom to top (a room may import its own layer and those below):

0. ``gen_pyg`` (the package itself), ``_version``, ``_compat``, ``_env``, ``_io``,
   ``_validation``, ``_options``, ``typing``: checks, declarations, types;
1. ``ops``: neighbour search, distances, symmetries;
2. ``mesh``: meshes and putting them on batches;
3. ``nn``: layers and models;
4. ``solvers``: reference solvers;  5. ``datasets``;
6. ``viz``: figures;  7. ``training``: the task-generic engine;
8. ``tasks``: the built-in tasks;  9. ``testing``, ``pretrained``;
10. ``demo``;  11. ``cli``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "gen_pyg"
LAYERS: list[tuple[str, ...]] = [
    ("", "_version", "_compat", "_env", "_io", "_validation", "_options", "typing"),
    ("ops",), ("mesh",), ("nn",), ("solvers",), ("datasets",), ("viz",), ("training",),
    ("tasks",), ("testing", "pretrained"), ("demo",), ("cli",),
]
LAYER = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}


def modules(src: Path = SRC) -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (file, is_package)}`` of every module under :obj:`src`/gen_pyg."""
    out = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The ids of the import nodes under ``if TYPE_CHECKING:``."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                ids.update(id(n) for n in ast.walk(stmt))
    return ids


def imports_of(name: str, source: str, is_package: bool, known: Iterable[str]
               ) -> list[tuple[str, int, bool]]:
    """``(imported module, line, under TYPE_CHECKING)`` of every import of :obj:`name` into
    a module of :obj:`known` (a name imported from a package resolves to its submodule when
    there is one, else to the package)."""
    known = set(known)
    tree = ast.parse(source)
    typing_only = _type_checking_nodes(tree)
    out = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module
                       for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.append((target, node.lineno, id(node) in typing_only))
    return out


def import_graph(src: Path = SRC) -> dict[str, list[tuple[str, int, bool]]]:
    """Every module's imports of other modules of the package."""
    mods = modules(src)
    return {name: imports_of(name, path.read_text(), is_package, mods)
            for name, (path, is_package) in mods.items()}


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A circle of the directed :obj:`graph` (``[a, b, ..., a]``), or :obj:`None`."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: Mapping[str, list[tuple[str, int, bool]]]) -> list[str]:
    """``"a:line -> b"`` for every import of a module from a higher layer."""
    out = []
    for name, targets in sorted(graph.items()):
        for target, line, _ in targets:
            if LAYER[room(target)] > LAYER[room(name)]:
                out.append(f"{name}:{line} -> {target} (layer {room(name) or PACKAGE} "
                           f"{LAYER[room(name)]} imports {room(target) or PACKAGE} "
                           f"{LAYER[room(target)]})")
    return out


def test_every_room_has_a_layer() -> None:
    rooms = {room(m) for m in modules()}
    assert rooms <= set(LAYER), f"rooms without a layer: {sorted(rooms - set(LAYER))}"


def test_no_import_circle() -> None:
    graph = import_graph()
    runtime = {m: sorted({t for t, _, typing_only in ts if not typing_only})
               for m, ts in graph.items()}
    cycle = find_cycle(runtime)
    assert cycle is None, "modules import each other in a circle: " + " -> ".join(cycle or [])


def test_no_upward_import() -> None:
    bad = upward_imports(import_graph())
    assert not bad, "imports up the layers:\n" + "\n".join(bad)


def test_the_engine_names_no_task() -> None:
    """training/ does not import tasks/ (checked above) nor spell a built-in task's name."""
    names = ("poisson_square", "poisson_sphere", "pushing", "scenes", "spring_mass")
    for path in (SRC / PACKAGE / "training").rglob("*.py"):
        text = path.read_text()
        for task in names:
            assert f'"{task}"' not in text, f"{path.name} names the task {task!r}"


# ------------------------------------------------------------------ the checker can fail
def test_find_cycle_on_small_graphs() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    assert find_cycle({"x": ["a"], "a": ["b"], "b": ["a"]}) == ["a", "b", "a"]


def test_function_local_and_relative_imports_are_found() -> None:
    known = {"gen_pyg", "gen_pyg.nn", "gen_pyg.nn.gen", "gen_pyg.training",
             "gen_pyg.training.trainer"}
    source = ("from typing import TYPE_CHECKING\n"
              "if TYPE_CHECKING:\n    from gen_pyg.training import trainer\n"
              "def f():\n    from ..training.trainer import Trainer\n"
              "from . import gen\n")
    found = imports_of("gen_pyg.nn.layer", source, False, known)
    assert sorted(found) == [("gen_pyg.nn.gen", 6, False),
                             ("gen_pyg.training.trainer", 3, True),
                             ("gen_pyg.training.trainer", 5, False)]
    graph = {"gen_pyg.nn.layer": found}
    bad = upward_imports(graph)
    assert len(bad) == 2 and all("layer nn 3 imports training 7" in b for b in bad)


def test_a_circle_through_a_function_local_import_fails(tmp_path: Path) -> None:
    pkg = tmp_path / PACKAGE
    (pkg / "nn").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "nn" / "__init__.py").write_text("")
    (pkg / "nn" / "a.py").write_text("def f():\n    from gen_pyg.nn import b\n")
    (pkg / "nn" / "b.py").write_text("from gen_pyg.nn.a import f\n")
    graph = import_graph(tmp_path)
    cycle = find_cycle({m: [t for t, _, _ in ts] for m, ts in graph.items()})
    assert cycle is not None and set(cycle) == {"gen_pyg.nn.a", "gen_pyg.nn.b"}


@pytest.mark.parametrize("room_name", sorted(r for r in LAYER if r))
def test_layers_are_named_after_rooms_that_exist(room_name: str) -> None:
    assert (SRC / PACKAGE / room_name).exists() or (SRC / PACKAGE / f"{room_name}.py").exists()
