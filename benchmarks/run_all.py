"""Run every benchmark script in this folder, one after the other (``make bench``).

Each script writes its own JSON record and figure under ``benchmarks/results/`` (or where
``--out`` or ``GEN_PYG_BENCH_RESULTS`` points). Scripts run in separate processes so that memory
measurements do not interfere. With ``--quick`` every script gets ``--quick``: tiny settings,
seconds each, and result files named ``*_quick.*`` so that the committed records stay as
they are. ``--in-process`` runs the scripts' ``main`` one after the other in this process
instead (the imports are paid once: the test suite's smoke run; memory figures then include
the earlier scripts).

    python benchmarks/run_all.py [--quick] [--in-process] [--out FOLDER]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the scripts, in the order they run; each accepts --quick
SCRIPTS = [
    "throughput.py",
    "scaling.py",
    "poisson_generation.py",
    "spring_mass.py",
    "mesh_diameter.py",
    "mesh_position_toy.py",
    "node_optimization.py",
    "poisson_square.py",
    "poisson_sphere.py",
    "pushing.py",
    "size_generalization.py",
    "solver_speed.py",
    "genconv_backends.py",
    "aggregation.py",
    "time_to_accuracy.py",
    "scenes.py",
    "size_profile.py",
    "round_jitter.py",
    "mesh_choice.py",
    "pair_layers.py",
]


def _in_process(script: str, argv: list[str]) -> int:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    try:
        return int(importlib.import_module(Path(script).stem).main(argv) or 0)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    except Exception:  # a failing script is reported, the others still run
        traceback.print_exc()
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings, seconds per script, *_quick result files")
    parser.add_argument("--in-process", action="store_true",
                        help="run the scripts in this process (imports paid once)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder of the records (default $GEN_PYG_BENCH_RESULTS or "
                             "benchmarks/results)")
    args = parser.parse_args(argv)
    extra = [*(["--quick"] if args.quick else []),
             *(["--out", str(args.out)] if args.out is not None else [])]
    failed, times = [], {}
    start = time.perf_counter()
    for script in SCRIPTS:
        path = HERE / script
        if not path.exists():
            print(f"skipping {script}: not found")
            continue
        print(f"==> {script} {' '.join(extra)}", flush=True)
        t0 = time.perf_counter()
        if args.in_process:
            returncode = _in_process(script, extra)
        else:
            returncode = subprocess.run([sys.executable, str(path), *extra]).returncode
        times[script] = time.perf_counter() - t0
        status = "ok" if returncode == 0 else f"failed (exit code {returncode})"
        print(f"<== {script}: {status} in {times[script]:.1f} s", flush=True)
        if returncode != 0:
            failed.append(script)
    print("wall time per script:")
    for script, seconds in times.items():
        print(f"  {script:<24}{seconds:8.1f} s")
    print(f"  {'total':<24}{time.perf_counter() - start:8.1f} s")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
