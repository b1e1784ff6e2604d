"""The harness every benchmark script uses (not part of the package): where records go, the
record header, threads, seeds, mean/std summaries, run folders and the standard options.

A benchmark script is a module in ``benchmarks/`` with a ``main(argv)`` that returns an exit
code. Written on this harness it looks like::

    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _harness as h

    def main(argv: list[str] | None = None) -> int:
        parser = h.parser(__doc__, name="my_bench", seeds=[0, 1, 2])  # --quick --out ...
        parser.add_argument("--size", type=int, default=100)            # its own options
        args = parser.parse_args(argv)
        if args.quick:
            args.size, args.seeds = 5, [0]
        h.set_threads(args.threads)
        record = h.header("my_bench.py", argv, quick=args.quick, seeds=args.seeds)
        record["rows"] = [...]                                           # its numbers
        path = h.write_record(h.result_name(args), record, args.out)
        # figures next to it: h.figure_path(args, ".png")
        return 0

    if __name__ == "__main__":
        sys.exit(main())

What each piece guarantees:

* :func:`parser` gives the options every script shares, so ``gen-pyg bench NAME --quick``
  and ``run_all.py --quick`` work the same everywhere: ``--quick`` (tiny settings, seconds;
  the test suite runs it), ``--out`` (the folder of records; default ``benchmarks/results/``
  or ``$GEN_PYG_BENCH_RESULTS``), ``--threads`` and, when asked for, ``--name`` (the record's
  file name), ``--seeds`` and ``--jobs``.
* :func:`result_name`: a quick run of the default name writes ``NAME_quick.json``, so a quick
  run never overwrites a committed record.
* :func:`header`: the fields every record starts with: ``command`` (the line that reproduces
  it), ``git_commit``, ``uncommitted_changes`` (code files that differed from that commit),
  ``load_average_at_start``, ``machine``, ``started``, ``quick`` and
  ``seeds``; :func:`write_record` adds ``finished``.
* :func:`run_folder`: ``benchmarks/runs/NAME/`` (checkpoints, so an interrupted run resumes;
  ``$GEN_PYG_BENCH_RUNS`` moves them).
* :func:`mean_std` and :func:`summarise_mse`: the sample mean and std over seeds.
* :func:`run_seeds_in_processes`: every seed in its own process (``--jobs`` at a time), one
  merged record.
* :func:`run_script`: another script run in a process of its own. A script imports the
  shared helpers (the underscore modules: ``_harness``, ``_poisson``, ``_recipes``,
  ``_authors``) and never another script.

To join the suite, a script is added to ``run_all.SCRIPTS`` and to the quick-record checks of
``tests/test_benchmarks.py``; its quick mode must take seconds, and work when its ``main`` is
called in a process that ran the other scripts before (``run_all.py --in-process``, what the
tests run). A record shown on the results page (``docs/benchmarks.rst``) is named by a row of
``RESULTS`` in ``benchmarks/tables.py``, whose experiment's reader says what it reads there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

import gen_pyg.tasks  # noqa: F401  (registers the built-in tasks the scripts name)

HERE = Path(__file__).resolve().parent
#: the repository root (records name paths relative to it)
ROOT = HERE.parent
#: the environment variable that redirects the run folders (the tests set it)
RUNS_ENV = "GEN_PYG_BENCH_RUNS"
#: the environment variable that redirects the records (the test suite's quick runs set it)
RESULTS_ENV = "GEN_PYG_BENCH_RESULTS"


def results_dir() -> Path:
    """Where records go: ``$GEN_PYG_BENCH_RESULTS`` or ``benchmarks/results/``."""
    return Path(os.environ.get(RESULTS_ENV) or HERE / "results")


#: the records folder when this module was imported
RESULTS = results_dir()


def default_threads() -> int:
    """Torch threads of a benchmark: ``$OMP_NUM_THREADS`` when set (the committed commands
    ``OMP_NUM_THREADS=1 python benchmarks/...`` keep their meaning), else up to 2 (the
    machines the records were made on)."""
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.isdigit() and int(omp) > 0:
        return int(omp)
    return max(1, min(2, os.cpu_count() or 1))


def set_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (:func:`default_threads` when ``None``); returns them."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    torch.set_num_threads(threads or default_threads())
    return torch.get_num_threads()


def load_average() -> float | None:
    """The 1-minute load average (``None`` where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def git_commit() -> str | None:
    """The checked-out commit of the repository holding the benchmarks, or ``None``."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


#: where an uncommitted change would make a record's commit not the code that ran
CODE_PATHS = ("src", "benchmarks")


def git_changes(cwd: Path = HERE) -> list[str] | None:
    """Tracked files under :data:`CODE_PATHS` (records and figures aside) that differ from the
    checked-out commit, repository-relative, or ``None`` outside a repository: a record whose
    list is not empty was not produced by its ``git_commit`` alone."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd,
                             capture_output=True, text=True, timeout=10)
        if top.returncode != 0:
            return None
        out = subprocess.run(["git", "diff", "--name-only", "HEAD", "--", *CODE_PATHS],
                             cwd=top.stdout.strip(), capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted(name for name in out.stdout.splitlines()
                  if name and not name.startswith("benchmarks/results/"))


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cuda = torch.cuda.is_available()
    return {"python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
            "device": "cuda" if cuda else "cpu",
            "cuda": torch.cuda.get_device_name(0) if cuda else None}


def timestamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def command_line(script: str, argv: Sequence[str] | None) -> str:
    """The command that reproduces a record: ``python benchmarks/SCRIPT ARGS`` (the process's
    arguments when :obj:`argv` is ``None``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python", f"benchmarks/{script}", *args])


def header(script: str, argv: Sequence[str] | None, *, quick: bool,
           seeds: Sequence[int] | None = None) -> dict[str, Any]:
    """The fields every record starts with (call it after :func:`set_threads`)."""
    out: dict[str, Any] = {
        "command": command_line(script, argv), "git_commit": git_commit(),
        "uncommitted_changes": git_changes(),
        "load_average_at_start": load_average(), "machine": machine(),
        "started": timestamp(), "quick": quick,
    }
    if seeds is not None:
        out["seeds"] = list(seeds)
    return out


def relative(path: Path) -> str:
    """:obj:`path` relative to the repository root when it lies inside it, so that a record
    names no machine's paths."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def parser(doc: str | None, *, name: str | None = None, seeds: Sequence[int] | None = None,
           jobs: bool = False) -> argparse.ArgumentParser:
    """An argument parser with the options every script shares: ``--quick``, ``--out`` and
    ``--threads``; ``--name`` when :obj:`name` (the default record name) is given, ``--seeds``
    when :obj:`seeds` (their default) is, and ``--jobs`` when :obj:`jobs`."""
    p = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    p.add_argument("--quick", action="store_true",
                   help="tiny settings, seconds; records named NAME_quick")
    p.add_argument("--out", type=Path, default=None,
                   help=f"folder of the records (default ${RESULTS_ENV} or benchmarks/results)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: up to 2; 1 with --jobs)")
    if name is not None:
        p.add_argument("--name", default=name, help="record name (default %(default)s)")
    if seeds is not None:
        p.add_argument("--seeds", type=int, nargs="+", default=list(seeds),
                       help="seeds (default %(default)s)")
    if jobs:
        p.add_argument("--jobs", type=int, default=1,
                       help="run the seeds in this many processes at once (one thread each), "
                            "then merge their records into one")
    p.set_defaults(_default_name=name)
    return p


def out_dir(args: argparse.Namespace) -> Path:
    """The folder of records of a parsed command line."""
    out = getattr(args, "out", None)
    return Path(out) if out is not None else results_dir()


def result_name(args: argparse.Namespace, default: str | None = None) -> str:
    """The record's file name without suffix: ``--name`` (or :obj:`default`), with ``_quick``
    appended for a quick run of the default name."""
    default = default or getattr(args, "_default_name", None)
    name = getattr(args, "name", None) or default
    if name is None:
        raise ValueError("result_name needs --name or a default name")
    return f"{name}_quick" if getattr(args, "quick", False) and name == default else name


def figure_path(args: argparse.Namespace, suffix: str = ".png",
                default: str | None = None) -> Path:
    """Where the record's figure goes (next to the record)."""
    folder = out_dir(args)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{result_name(args, default)}{suffix}"


def runs_dir() -> Path:
    """Where run folders go: ``$GEN_PYG_BENCH_RUNS`` or ``benchmarks/runs/``."""
    return Path(os.environ.get(RUNS_ENV) or HERE / "runs")


def run_folder(name: str, runs: Path | None = None) -> Path:
    """The run folder of record :obj:`name`: :obj:`runs` when given, else
    ``benchmarks/runs/NAME/`` (or under ``$GEN_PYG_BENCH_RUNS``)."""
    return runs if runs is not None else runs_dir() / name


def write_record(name: str, record: dict[str, Any], out: Path | None = None) -> Path:
    """Write :obj:`record` as ``OUT/NAME.json`` (stamped ``finished``); returns the path."""
    folder = out if out is not None else results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({**record, "finished": timestamp()}, indent=2) + "\n")
    return path


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    if not values:
        raise ValueError("values must not be empty")
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise_mse(runs: Sequence[dict[str, Any]], key: str = "test_mse"
                  ) -> dict[str, dict[str, float]]:
    """Mean and (sample) std over runs (seeds) of the MSE and the RMSE per mesh, where each
    run's :obj:`key` maps a mesh name to its MSE."""
    out: dict[str, dict[str, float]] = {}
    for name in runs[0][key]:
        mses = [r[key][name] for r in runs]
        mse_mean, mse_std = mean_std(mses)
        rmse_mean, rmse_std = mean_std([math.sqrt(m) for m in mses])
        out[name] = {"mse_mean": mse_mean, "mse_std": mse_std,
                     "rmse_mean": rmse_mean, "rmse_std": rmse_std}
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timeit(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def without(argv: Sequence[str], option: str) -> list[str]:
    """:obj:`argv` without :obj:`option` and the values that follow it."""
    out, skip = [], False
    for arg in argv:
        if arg.startswith("--"):
            skip = arg == option
        if not skip:
            out.append(arg)
    return out


def run_script(script: str, argv: Sequence[str], threads: int | None = None) -> None:
    """Run the benchmark :obj:`script` of this folder (``"poisson_square.py"``) with
    :obj:`argv` in a process of its own, as a user would, and raise when it fails: a script
    that needs another one's record (a quick run that evaluates a quick training) runs it
    rather than importing it (:obj:`threads`: its ``--threads``; default, its own)."""
    cmd = [sys.executable, str(HERE / script), *argv]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    subprocess.run(cmd, check=True)


def run_seeds_in_processes(script: Path, argv: Sequence[str], seeds: Sequence[int], jobs: int,
                           parts_dir: Path, record_name: str,
                           extra: Sequence[str] = ()) -> list[dict[str, Any]] | None:
    """Run :obj:`script` once per seed (``--seeds S --threads 1``), :obj:`jobs` processes at
    a time, each writing its record to ``parts_dir/seedS/``; returns the records in seed
    order, or ``None`` (after saying which) when a seed failed."""
    base = without(without(without(without(argv, "--seeds"), "--jobs"), "--threads"), "--out")
    pending, failed = list(seeds), []
    running: list[tuple[int, subprocess.Popen[bytes]]] = []
    while pending or running:
        while pending and len(running) < jobs:
            seed = pending.pop(0)
            cmd = [sys.executable, str(script), *base, "--seeds", str(seed), "--threads", "1",
                   "--out", str(parts_dir / f"seed{seed}"), *extra]
            running.append((seed, subprocess.Popen(cmd)))
        time.sleep(1.0)
        for item in list(running):
            if item[1].poll() is not None:
                running.remove(item)
                if item[1].returncode != 0:
                    failed.append(item[0])
    if failed:
        print(f"seeds {failed} failed; nothing merged", file=sys.stderr)
        return None
    return [json.loads((parts_dir / f"seed{s}" / f"{record_name}.json").read_text())
            for s in seeds]
