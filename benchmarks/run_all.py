"""Run every benchmark script in this folder, one after the other (``make bench``).

Each script writes its own JSON record and figure under ``benchmarks/results/`` (or where
``GEN_PYG_BENCH_RESULTS`` points). Scripts run in separate processes so that memory
measurements do not interfere. With ``--quick`` every script gets ``--quick``: tiny settings,
seconds each, and result files named ``*_quick.*`` so that the committed records stay as
they are (the test suite runs this).

    python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
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
    "size_generalization.py",
    "solver_speed.py",
    "genconv_backends.py",
    "aggregation.py",
    "time_to_accuracy.py",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings, seconds per script, *_quick result files")
    args = parser.parse_args()
    failed, times = [], {}
    start = time.perf_counter()
    for script in SCRIPTS:
        path = HERE / script
        if not path.exists():
            print(f"skipping {script}: not found")
            continue
        cmd = [sys.executable, str(path), *(["--quick"] if args.quick else [])]
        print(f"==> {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        returncode = subprocess.run(cmd).returncode
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
