"""The README's example is executed, so it can never go stale."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_short_example() -> None:
    blocks = _python_blocks()
    assert blocks, "README.md must contain a runnable python example"
    assert len(blocks[0].strip().splitlines()) <= 15


def test_readme_example_runs() -> None:
    namespace: dict[str, object] = {"__name__": "__readme__"}
    exec(compile(_python_blocks()[0], str(README), "exec"), namespace)
