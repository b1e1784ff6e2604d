"""Atomic checkpoint writes survive kill -9; RNG states round-trip; bad files are named."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from gen_pyg.training import load_checkpoint
from gen_pyg.training.checkpoint import atomic_save, rng_state, set_rng_state

WRITER = textwrap.dedent("""
    import sys, torch
    from gen_pyg.training.checkpoint import atomic_save
    path = sys.argv[1]
    i = 0
    while True:
        i += 1
        big = torch.full((4_000_000,), float(i))  # 16 MB: the write takes a while
        atomic_save({"format": "gen_pyg.trainer", "i": i, "big": big}, path)
        print(i, flush=True)
""")


def test_kill_9_during_writes_leaves_a_complete_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    for delay in (0.0, 0.05, 0.13):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # one complete write exists
        assert first.strip().isdigit()
        time.sleep(delay)  # then kill it at some point of a later write
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        state = load_checkpoint(path)
        assert state["i"] >= 1
        assert torch.equal(state["big"], torch.full((4_000_000,), float(state["i"])))


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    state = {"format": "gen_pyg.trainer", "w": torch.arange(5.0), "nested": {"a": [1, 2.5]}}
    atomic_save(state, tmp_path / "sub" / "c.pt")
    got = load_checkpoint(tmp_path / "sub" / "c.pt")
    assert torch.equal(got["w"], state["w"]) and got["nested"] == state["nested"]
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["c.pt"]  # no temporary left


def test_other_files_are_refused_by_name(tmp_path: Path) -> None:
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"other.pt is not a gen_pyg trainer checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match=r"junk.pt cannot be read"):
        load_checkpoint(tmp_path / "junk.pt")


def test_rng_states_round_trip_through_a_checkpoint(tmp_path: Path) -> None:
    random.seed(1)
    np.random.seed(2)  # noqa: NPY002 - the legacy global generator is what users seed
    torch.manual_seed(3)
    atomic_save({"format": "gen_pyg.trainer", "rng": rng_state()}, tmp_path / "r.pt")
    expected = (random.random(), np.random.rand(), torch.rand(3))  # noqa: NPY002
    random.seed(9)
    np.random.seed(9)  # noqa: NPY002
    torch.manual_seed(9)
    set_rng_state(load_checkpoint(tmp_path / "r.pt")["rng"])
    got = (random.random(), np.random.rand(), torch.rand(3))  # noqa: NPY002
    assert got[0] == expected[0] and got[1] == expected[1]
    assert torch.equal(got[2], expected[2])
