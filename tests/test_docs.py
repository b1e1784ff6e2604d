"""Every Python snippet of README.md and docs/*.rst is executed, so a documented snippet cannot
rot.

Conventions (the guide page, ``docs/guide.rst``, repeats them for contributors):

- What runs: the ````python`` blocks of README.md, and in ``docs/*.rst`` every
  ``.. code-block:: python`` and every ``::`` literal block whose text parses as Python
  (shell commands and printed errors do not parse, so they are shown, not run).
- One test per block, with the id ``page:line``. The blocks of one page run in order in one
  namespace, in a fresh temporary working directory per page: a block may use the names and
  files of the blocks above it on the same page, never those of another page. Running one
  block alone (``-k 'training.rst:13'``) first runs the blocks above it.
- A block that cannot run in seconds is preceded by the visible rst comment
  ``.. the following is not run: <why>`` (README: ``<!-- the following is not run: <why> -->``);
  it is still compiled, so a syntax error is caught. Prefer making the snippet small.
- Pages owned by other issues whose snippets do not yet follow these rules are listed in
  :data:`PENDING` with the reason; their blocks are compiled, and skipped with that reason.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP_MARK = "the following is not run:"

#: Pages whose snippets are not yet small enough to run here, with why (their blocks are
#: compiled but not executed).
PENDING: dict[str, str] = {}


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the directive (rst) or the opening fence (markdown)
    code: str
    skip: str | None = None  # the reason given in a "not run" comment

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _dedent_block(lines: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The indented body that starts at ``start`` (skipping blank lines and directive
    options), and the index after it."""
    i = start
    while i < len(lines) and re.match(r"\s+:[\w-]+:", lines[i]):  # directive options
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    body: list[str] = []
    while i < len(lines) and (not lines[i].strip() or
                              len(lines[i]) - len(lines[i].lstrip()) > indent):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    width = min((len(x) - len(x.lstrip()) for x in body if x.strip()), default=0)
    return [x[width:] for x in body], i


def _skip_reason(lines: list[str], index: int) -> str | None:
    """The reason of a "not run" comment in the paragraph just above line ``index``."""
    j = index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    while j >= 0 and lines[j].strip():
        if SKIP_MARK in lines[j]:
            return lines[j].split(SKIP_MARK, 1)[1].strip(" ->") or "no reason given"
        j -= 1
    return None


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def rst_blocks(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        directive = re.match(r"\s*\.\. code-block::\s*(\S*)", line)
        literal = (line.rstrip().endswith("::") and not line.lstrip().startswith("..")
                   and directive is None)
        if directive is not None or literal:
            body, after = _dedent_block(lines, i + 1, indent)
            code = "\n".join(body) + "\n"
            is_python = (directive is not None and directive.group(1) == "python") or (
                literal and bool(body) and _parses(code))
            if is_python:
                out.append(Block(path.name, i + 1, code, _skip_reason(lines, i)))
            i = max(after, i + 1)
            continue
        i += 1
    return out


def markdown_blocks(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            end = lines.index("```", i + 1)
            code = "\n".join(lines[i + 1:end]) + "\n"
            out.append(Block(path.name, i + 1, code, _skip_reason(lines, i)))
            i = end
        i += 1
    return out


def all_blocks() -> list[Block]:
    blocks = markdown_blocks(ROOT / "README.md")
    for page in sorted(DOCS.glob("*.rst")):
        blocks += rst_blocks(page)
    return blocks


BLOCKS = all_blocks()


@dataclass
class PageRun:
    """The namespace and working directory that the blocks of one page share."""

    workdir: Path
    namespace: dict[str, Any] = field(default_factory=dict)
    done: int = 0  # blocks of the page already run


_RUNS: dict[str, PageRun] = {}


def _run(block: Block, namespace: dict[str, Any]) -> None:
    exec(compile(block.code, f"{block.id}", "exec"), namespace)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_snippet_runs(block: Block, tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    compile(block.code, block.id, "exec")  # even a block that is not run must be Python
    if block.page in PENDING:
        pytest.skip(f"{block.page}: {PENDING[block.page]}")
    if block.skip is not None:
        pytest.skip(f"not run: {block.skip}")
    page = [b for b in BLOCKS if b.page == block.page]
    index = page.index(block)
    run = _RUNS.get(block.page)
    if run is None or run.done > index:  # first block of the page, or a rerun
        run = _RUNS[block.page] = PageRun(tmp_path_factory.mktemp(block.page.replace(".", "_")))
        run.namespace["__name__"] = f"__docs_{block.page}__"
    monkeypatch.chdir(run.workdir)
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    for earlier in page[run.done:index]:  # blocks above, when this one is run alone
        if earlier.skip is None:
            _run(earlier, run.namespace)
    run.done = index
    import gen_pyg

    try:
        _run(block, run.namespace)
    finally:  # a snippet may switch the process-wide value checks off (validation.rst does)
        gen_pyg.set_value_checks(True)
    run.done = index + 1
    import matplotlib.pyplot as plt

    plt.close("all")


# ------------------------------------------------------------------ the conventions
def test_every_page_with_code_is_collected() -> None:
    pages = {b.page for b in BLOCKS}
    for name in ("README.md", "concepts.rst", "guide.rst", "training.rst", "meshes.rst",
                 "model.rst", "datasets.rst", "quickstart.rst"):
        assert name in pages, f"no runnable block found in {name}"


def test_extraction_rules(tmp_path: Path) -> None:
    page = tmp_path / "page.rst"
    page.write_text(
        "Title\n=====\n\nRun this::\n\n    x = 1\n\n"
        "Shown only::\n\n    gen-pyg train --out runs/a\n"
        "\n.. code-block:: python\n   :caption: two\n\n    y = x + 1\n    print(y)\n\n"
        ".. code-block:: bash\n\n    make demo\n\n"
        ".. the following is not run: it trains for an hour\n\n"
        ".. code-block:: python\n\n    z = y * 2\n")
    blocks = rst_blocks(page)
    assert [(b.line, b.code, b.skip) for b in blocks] == [
        (4, "x = 1\n", None),
        (12, "y = x + 1\nprint(y)\n", None),
        (24, "z = y * 2\n", "it trains for an hour"),
    ]
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n```bash\nmake demo\n```\n\n```python\na = 1\n```\n")
    assert [(b.page, b.line, b.code) for b in markdown_blocks(readme)] == [
        ("README.md", 7, "a = 1\n")]


def test_readme_has_short_examples() -> None:
    readme = [b for b in BLOCKS if b.page == "README.md"]
    assert len(readme) >= 2, "README.md must show an example and training on one's own data"
    assert len(readme[0].code.strip().splitlines()) <= 15
    assert len(readme[1].code.strip().splitlines()) <= 14


def test_readme_training_example_writes_its_run_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    for block in [b for b in BLOCKS if b.page == "README.md"][:2]:
        _run(block, namespace)
    assert (tmp_path / "runs" / "readme" / "checkpoint.pt").is_file()
    assert set(namespace["trainer"].evaluate(namespace["examples"])) == {"3x3", "5x5"}
