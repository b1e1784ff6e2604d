"""Packaging: ``python -m build`` makes an sdist and a wheel, and the wheel, installed into a
clean virtual environment, runs the README's examples and the ``gen-pyg`` command from outside
the source tree. This catches a module or data file missing from the wheel and imports of
dev-only code. The new environment reuses the torch stack already built for this one (its
site-packages on ``sys.path`` through a ``.pth`` file) instead of compiling it again; the
editable gen_pyg of this environment is not visible there (``.pth`` files of a path added that
way are not run)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import gen_pyg

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "gen_pyg"

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["OMP_NUM_THREADS"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason="python -m build needs the 'build' package (test extra)")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
         "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def _modules_in_source() -> set[str]:
    return {str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py")
            if "__pycache__" not in p.parts}


def test_wheel_and_sdist_hold_the_whole_package_and_one_version(dist: Path) -> None:
    wheels = list(dist.glob("*.whl"))
    sdists = list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    assert wheels[0].name.startswith(f"gen_pyg-{gen_pyg.__version__}-")
    with zipfile.ZipFile(wheels[0]) as zf:
        names = set(zf.namelist())
        metadata = zf.read(f"gen_pyg-{gen_pyg.__version__}.dist-info/METADATA").decode()
        entry_points = zf.read(f"gen_pyg-{gen_pyg.__version__}.dist-info/entry_points.txt")
    missing = _modules_in_source() - names
    assert not missing, f"modules missing from the wheel: {sorted(missing)}"
    assert "gen_pyg/py.typed" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/"))]
    assert re.search(rf"^Version: {re.escape(gen_pyg.__version__)}$", metadata, flags=re.M)
    assert b"gen-pyg = gen_pyg.cli:main" in entry_points
    with tarfile.open(sdists[0]) as tf:
        members = {m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "src/gen_pyg/py.typed"} <= members
    assert {f"src/{m}" for m in _modules_in_source()} <= members


def test_the_installed_wheel_runs_the_readme_and_the_command(dist: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True).stdout
    # reuse this environment's compiled torch stack; it comes after the new site-packages
    (Path(site.strip()) / "reuse_torch_stack.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    wheel = next(dist.glob("*.whl"))
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                              "--no-index", str(wheel)],
                             capture_output=True, text=True, env=_env(), timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]

    work = tmp_path / "elsewhere"  # not the source tree: nothing of src/ can leak in
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import gen_pyg; print(gen_pyg.__file__, "
                            "gen_pyg.__version__)"], cwd=work, capture_output=True, text=True,
                           env=_env(), timeout=120)
    assert where.returncode == 0, where.stderr[-3000:]
    location, version = where.stdout.split()
    assert Path(location).is_relative_to(env_dir), location
    assert version == gen_pyg.__version__

    # the README's example (its training example runs in tests/test_docs.py), then every
    # public subpackage imported from the wheel
    readme = (ROOT / "README.md").read_text()
    example = re.findall(r"```python\n(.*?)```", readme, flags=re.S)[0]
    subpackages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    script = work / "readme_example.py"
    script.write_text(example + "".join(f"import gen_pyg.{name}\n" for name in subpackages)
                      + "print('README OK')\n")
    run = subprocess.run([str(python), str(script)], cwd=work, capture_output=True, text=True,
                         env=_env(), timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "torch.Size([20, 1])" in run.stdout and run.stdout.rstrip().endswith("README OK")

    cli = subprocess.run([str(env_dir / "bin" / "gen-pyg"), "--version"], cwd=work,
                         capture_output=True, text=True, env=_env(), timeout=120)
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert gen_pyg.__version__ in cli.stdout
