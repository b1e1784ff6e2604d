"""Run every benchmark script in this folder, one after the other (``make bench``).

Each script writes its own JSON record and figure under ``benchmarks/results/``. Scripts run
in separate processes so that memory measurements do not interfere.

    python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: script -> extra arguments for --quick
SCRIPTS = {
    "throughput.py": ["--seconds", "0.5"],
    "scaling.py": ["--quick"],
    "poisson_generation.py": [],
    "spring_mass.py": [],
    "mesh_diameter.py": [],
    "mesh_position_toy.py": [],
    "poisson_square.py": ["--quick"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller settings where available")
    args = parser.parse_args()
    failed = []
    for script, quick_args in SCRIPTS.items():
        path = HERE / script
        if not path.exists():
            print(f"skipping {script}: not found")
            continue
        cmd = [sys.executable, str(path), *(quick_args if args.quick else [])]
        print(f"==> {' '.join(cmd[1:])}", flush=True)
        if subprocess.run(cmd).returncode != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
