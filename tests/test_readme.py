"""The README's example is executed, so it can never go stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_short_example() -> None:
    blocks = _python_blocks()
    assert blocks, "README.md must contain a runnable python example"
    assert len(blocks[0].strip().splitlines()) <= 15


def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the training example writes its run folder here
    blocks = _python_blocks()
    assert len(blocks) >= 2, "README.md must show training on one's own data"
    assert len(blocks[1].strip().splitlines()) <= 14
    for block in blocks:
        namespace: dict[str, object] = {"__name__": "__readme__"}
        exec(compile(block, str(README), "exec"), namespace)
    trainer = namespace["trainer"]
    assert (tmp_path / "runs" / "mine" / "checkpoint.pt").is_file()
    assert set(trainer.evaluate(namespace["examples"])) == {"3x3", "5x5"}  # type: ignore[attr-defined]
