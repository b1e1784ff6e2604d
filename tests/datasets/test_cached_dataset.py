"""The processed-file cache the generated datasets share (``gen_pyg/datasets/_cached.py``):
file names unchanged by the move to one base class, damaged files regenerated, concurrent
builders of one root, no temporary files left behind."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch

from gen_pyg.datasets import PoissonSphere, PoissonSquare, SpringMass
from gen_pyg.datasets._cached import _CachedDataset, params_digest

SQUARE: dict[str, Any] = {"num_houses": 3, "num_scenarios": 2, "num_queries": 8, "n": 21,
                          "log": False}
SPHERE: dict[str, Any] = {"num_houses": 2, "num_scenarios": 2, "num_inputs": 12,
                          "num_queries": 9, "log": False}
SPRING: dict[str, Any] = {"num_graphs": 4, "num_masses": 3, "log": False}

#: processed file names written by the datasets before they shared a base class (commit
#: 91bd6a8), so that caches on users' disks keep loading
GOLDEN = {
    "square": "poisson_square_generate_583b7bff9c6c.pt",
    "sphere": "poisson_sphere_acd7f70c1866.pt",
    "spring": "spring_mass_snapshot_936d6634f7b0.pt",
}


def _build(kind: str, root: Path, **kwargs: Any) -> _CachedDataset:
    if kind == "square":
        return PoissonSquare(root, "all", **{**SQUARE, **kwargs})
    if kind == "sphere":
        return PoissonSphere(root, "all", **{**SPHERE, **kwargs})
    return SpringMass(str(root), **{**SPRING, **kwargs})


def _same(a: _CachedDataset, b: _CachedDataset) -> None:
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for key in x.keys():
            if isinstance(x[key], torch.Tensor):
                torch.testing.assert_close(x[key], y[key], rtol=0, atol=0, msg=key)


def test_digest_is_sorted_json_hashed() -> None:
    params = {"seed": 3, "n": 21, "name": "x"}
    text = json.dumps(params, sort_keys=True).encode()
    assert params_digest(params) == hashlib.sha256(text).hexdigest()[:12]
    assert params_digest(params, "sha1") == hashlib.sha1(text).hexdigest()[:12]
    assert params_digest(dict(reversed(list(params.items())))) == params_digest(params)


@pytest.mark.parametrize("kind", ["square", "sphere", "spring"])
def test_processed_file_names_are_unchanged(kind: str, tmp_path: Path) -> None:
    ds = _build(kind, tmp_path)
    assert [Path(p).name for p in ds.processed_paths] == [GOLDEN[kind]]
    assert (tmp_path / "processed" / GOLDEN[kind]).is_file()


@pytest.mark.parametrize("kind", ["square", "sphere", "spring"])
def test_a_changed_parameter_is_another_file(kind: str, tmp_path: Path) -> None:
    a = _build(kind, tmp_path)
    b = _build(kind, tmp_path, seed=1)
    assert a.processed_paths != b.processed_paths
    assert len(list((tmp_path / "processed").glob(f"{a.cache_name}_*.pt"))) == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
@pytest.mark.parametrize("kind", ["square", "spring"])
def test_a_damaged_processed_file_is_regenerated_with_a_warning(
        kind: str, damage: str, tmp_path: Path) -> None:
    first = _build(kind, tmp_path)
    path = Path(first.processed_paths[0])
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        # seeded, so that the bytes (and the error they give) are the same on every run
        path.write_bytes(random.Random(0).randbytes(len(raw)))
    else:
        path.write_bytes(b"")
    with pytest.warns(UserWarning, match=f"processed file {path}.*cannot be read.*regenerating"):
        again = _build(kind, tmp_path)
    _same(first, again)
    # the regenerated file is whole: a third build loads it without a warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = _build(kind, tmp_path)
    _same(first, third)


#: what unpickling damaged bytes was seen to raise (random bytes and bit flips of a real file)
_DAMAGE_ERRORS = [
    pickle.UnpicklingError("invalid load key"),
    RuntimeError("PytorchStreamReader failed reading zip archive"),
    UnicodeDecodeError("utf-8", b"\x9d", 0, 1, "invalid start byte"),
    IndexError("tuple index out of range"),
    KeyError("storage"),
    AttributeError("'dict' object has no attribute 'keys'"),
    TypeError("'int' object is not subscriptable"),
    ModuleNotFoundError("No module named 'torch_geometric.datx'"),
    EOFError("Ran out of input"),
    OSError(22, "Invalid argument"),
]


@pytest.mark.parametrize("error", _DAMAGE_ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_of_a_damaged_file_regenerates_it(
        error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _build("square", tmp_path)
    calls = []
    real_load = PoissonSquare.load

    def load_once_damaged(self: Any, path: str, *args: Any, **kwargs: Any) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise error
        real_load(self, path, *args, **kwargs)

    monkeypatch.setattr(PoissonSquare, "load", load_once_damaged)
    with pytest.warns(UserWarning, match=f"cannot be read \\({type(error).__name__}"):
        again = _build("square", tmp_path)
    assert len(calls) == 2
    _same(first, again)


@pytest.mark.parametrize("error", [FileNotFoundError(2, "No such file"),
                                   PermissionError(13, "Permission denied")],
                         ids=lambda e: type(e).__name__)
def test_a_missing_or_forbidden_file_is_not_called_damaged(
        error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _build("square", tmp_path)

    def refuse(self: Any, path: str, *args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(PoissonSquare, "load", refuse)
    with pytest.raises(type(error)):
        _build("square", tmp_path)


def test_a_damaged_file_is_not_silently_kept_when_regeneration_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _build("square", tmp_path)
    Path(first.processed_paths[0]).write_bytes(b"not a torch file")

    def fail(self: Any) -> None:
        raise RuntimeError("generation failed")

    monkeypatch.setattr(PoissonSquare, "_generate", fail)
    with pytest.warns(UserWarning, match="cannot be read"), \
            pytest.raises(RuntimeError, match="generation failed"):
        _build("square", tmp_path)


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    _build("square", tmp_path)
    _build("square", tmp_path, seed=2)
    leftovers = [p.name for p in (tmp_path / "processed").iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


_BUILDER = textwrap.dedent("""
    import sys, hashlib
    from gen_pyg.datasets import PoissonSquare
    ds = PoissonSquare(sys.argv[1], "all", num_houses=6, num_scenarios=4, num_queries=16,
                       n=31, log=False)
    h = hashlib.sha256()
    for d in ds:
        h.update(d.input_x.numpy().tobytes()); h.update(d.y.numpy().tobytes())
    print(len(ds), h.hexdigest())
""")


def test_two_processes_building_one_root_at_once(tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    root = tmp_path / "shared_root"
    procs = [subprocess.Popen([sys.executable, "-c", _BUILDER, str(root)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    lines = [out.strip() for out, _ in outs]
    assert lines[0] == lines[1] and lines[0].startswith("24 ")
    # and the file they left is whole: a third reader loads it and sees the same data
    third = subprocess.run([sys.executable, "-c", _BUILDER, str(root)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and "cannot be read" not in third.stderr, third.stderr
    assert third.stdout.strip() == lines[0]
    assert not [p for p in (root / "processed").iterdir() if p.suffix == ".tmp"]
