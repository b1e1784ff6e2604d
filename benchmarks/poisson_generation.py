"""How long does it take to generate the paper-sized Poisson datasets, and how fast is the solver?

Measures, in one run on the same machine (each time the best of two or three repeats):

1. PoissonSquare at the paper's size (250 houses x 32 scenarios, 256 queries, solver grid
   n = 101): the numerics alone (sampling + superposition solves,
   ``generate_poisson_houses``) and the whole ``PoissonSquare(...)`` construction (Data
   objects, collation, saving), against two baselines without superposition: one
   factorised solve per scenario (all houses), and a fresh factorisation per scenario (the
   naive approach; timed on a subset and scaled to 250 houses, marked as such).
2. PoissonSphere at the paper's size (250 x 32, 128 inputs with the numerical Laplacian).
3. The finite-difference solver against n: factorisation time, time per right-hand side for
   the sine-transform and sparse-LU variants, and the max error on a manufactured solution.
4. The heater source: nodal sampling versus cell averaging, against a fine reference.

Writes ``benchmarks/results/poisson_generation.json`` and ``poisson_generation.png``.

Reproduce with::

    OMP_NUM_THREADS=1 python benchmarks/poisson_generation.py

``--quick`` (seconds) runs the same steps on 3 houses at n = 21, one repeat each, solver sizes
17 and 33, and the source check at n = 11, 21 against n = 81; it writes
``poisson_generation_quick.json`` and ``.png``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as harness
from gen_pyg.datasets import (
    PoissonSphere,
    PoissonSquare,
    generate_poisson_houses,
    sample_poisson_house,
    solve_poisson_house,
)
from gen_pyg.solvers import FDPoissonSolver, box_coverage

NUM_HOUSES, NUM_SCENARIOS, N = 250, 32, 101


#: the quick run's settings (the full run uses the constants above)
QUICK = {"houses": 3, "n": 21, "repeats": 1, "solver_sizes": (17, 33),
         "source_sizes": (11, 21), "source_reference_n": 81}


def _best_of(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _direct_one_factorisation(n: int, houses: int = NUM_HOUSES) -> None:
    """Every scenario solved on its own (no superposition), one factorisation shared."""
    solver = FDPoissonSolver(n)
    for i in range(houses):
        house = sample_poisson_house(np.random.default_rng([0, i]))
        coverage = box_coverage(house.boxes, n)
        source = np.einsum("sk,kij->sij", house.heat, coverage)
        for s in range(house.num_scenarios):
            field = solver.solve(source[s], house.exterior_temp[s])
            solver.interpolate(field, house.query_pos[s])


def _direct_fresh_factorisation(n: int, houses: int) -> None:
    """The naive approach: a new sparse LU factorisation for every scenario."""
    for i in range(houses):
        house = sample_poisson_house(np.random.default_rng([0, i]))
        coverage = box_coverage(house.boxes, n)
        for s in range(house.num_scenarios):
            solver = FDPoissonSolver(n, "splu")
            source = np.einsum("k,kij->ij", house.heat[s], coverage)
            field = solver.solve(source, house.exterior_temp[s])
            solver.interpolate(field, house.query_pos[s])


def square_generation(
    houses: int = NUM_HOUSES, n: int = N, repeats: int = 3, subset: int = 5
) -> dict[str, Any]:
    numerics = _best_of(lambda: generate_poisson_houses(houses, n=n), repeats=repeats)
    dataset, size = float("inf"), 0
    for _ in range(min(2, repeats)):
        with tempfile.TemporaryDirectory() as root:
            start = time.perf_counter()
            ds = PoissonSquare(root, "all", num_houses=houses, n=n, log=False)
            dataset = min(dataset, time.perf_counter() - start)
            size = len(ds)
    direct = _best_of(lambda: _direct_one_factorisation(n, houses), repeats=repeats)
    fresh = _best_of(lambda: _direct_fresh_factorisation(n, subset), repeats=1)
    return {
        "houses": houses,
        "scenarios": size,
        "n": n,
        "numerics_s": numerics,
        "dataset_s": dataset,
        "direct_per_scenario_s": direct,
        "fresh_factorisation_per_scenario_s_extrapolated": fresh * houses / subset,
        "fresh_factorisation_houses_timed": subset,
        "speedup_superposition_vs_direct": direct / numerics,
    }


def sphere_generation(houses: int = NUM_HOUSES, repeats: int = 2) -> dict[str, Any]:
    seconds, size = float("inf"), 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as root:
            start = time.perf_counter()
            ds = PoissonSphere(root, "all", num_houses=houses, log=False)
            seconds = min(seconds, time.perf_counter() - start)
            size = len(ds)
    return {"houses": houses, "scenarios": size, "dataset_s": seconds}


def solver_scaling(
    sizes: tuple[int, ...] = (33, 65, 101, 129, 201, 257, 401), repeats: int = 3
) -> list[dict[str, Any]]:
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        rhs = rng.normal(size=(32, n, n))
        dst = FDPoissonSolver(n, "dst")
        factor = _best_of(lambda n=n: FDPoissonSolver(n, "splu"), repeats=repeats)
        splu = FDPoissonSolver(n, "splu")
        t_dst = _best_of(lambda s=dst, r=rhs: s.solve(r), repeats=repeats) / 32
        t_splu = _best_of(lambda s=splu, r=rhs: s.solve(r), repeats=repeats) / 32
        x, y = dst.coords[:, None], dst.coords[None, :]
        exact = np.sin(np.pi * x) * np.cos(2 * np.pi * y) + x**2 * y
        source = 5 * np.pi**2 * np.sin(np.pi * x) * np.cos(2 * np.pi * y) - 2 * y
        error = float(np.abs(dst.solve(source, exact) - exact).max())
        rows.append(
            {
                "n": n,
                "splu_factorisation_s": factor,
                "dst_solve_per_rhs_s": t_dst,
                "splu_solve_per_rhs_s": t_splu,
                "manufactured_max_error": error,
            }
        )
    return rows


def source_accuracy(
    sizes: tuple[int, ...] = (51, 101, 201, 401), reference_n: int = 801
) -> list[dict[str, Any]]:
    """Nodal vs cell-averaged heater source at several n, against n = 801 (cell-averaged)."""
    house = sample_poisson_house(np.random.default_rng([0, 0]), num_scenarios=4)
    ref = solve_poisson_house(house, FDPoissonSolver(reference_n), supersample=4).y
    assert ref is not None
    rows = []
    for n in sizes:
        solver = FDPoissonSolver(n)
        row: dict[str, Any] = {"n": n}
        for s in (1, 4):
            y = solve_poisson_house(house, solver, supersample=s).y
            assert y is not None
            row[f"rel_max_error_supersample_{s}"] = float(np.abs(y - ref).max() / np.abs(ref).max())
        rows.append(row)
    return rows


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    rows = record["solver_scaling"]
    n = [r["n"] for r in rows]
    ax = axes[0]
    ax.loglog(n, [r["dst_solve_per_rhs_s"] * 1e3 for r in rows], "o-", label="solve, DST")
    ax.loglog(n, [r["splu_solve_per_rhs_s"] * 1e3 for r in rows], "s-", label="solve, sparse LU")
    ax.loglog(n, [r["splu_factorisation_s"] * 1e3 for r in rows], "^--", label="LU factorisation")
    ax.set_xlabel("grid nodes per axis n")
    ax.set_ylabel("milliseconds (per right-hand side)")
    ax.set_title("FD Poisson solver cost")
    ax.legend()
    ax = axes[1]
    ax.loglog(n, [r["manufactured_max_error"] for r in rows], "o-", label="manufactured (smooth)")
    acc = record["source_accuracy"]
    ax.loglog(
        [r["n"] for r in acc],
        [r["rel_max_error_supersample_1"] for r in acc],
        "s-",
        label="house, nodal source (rel.)",
    )
    ax.loglog(
        [r["n"] for r in acc],
        [r["rel_max_error_supersample_4"] for r in acc],
        "^-",
        label="house, cell-averaged source (rel.)",
    )
    ax.set_xlabel("grid nodes per axis n")
    ax.set_ylabel("max error")
    ax.set_title(f"accuracy (house: vs n = {record.get('source_reference_n', 801)})")
    ax.legend()
    for ax in axes[:2]:
        ax.set_xticks(n)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax = axes[2]
    sq = record["square"]
    house = sample_poisson_house(np.random.default_rng([0, 3]), num_scenarios=1)
    solver = FDPoissonSolver(sq["n"])
    coverage = box_coverage(house.boxes, sq["n"])
    field = solver.solve(np.einsum("k,kij->ij", house.heat[0], coverage), house.exterior_temp[0])
    im = ax.imshow(field.T, origin="lower", extent=(0, 1, 0, 1), cmap="coolwarm")
    for (lx, ly, ux, uy), h in zip(house.boxes, house.heat[0], strict=True):
        ax.add_patch(Rectangle((lx, ly), ux - lx, uy - ly, fill=False, lw=1.2))
        ax.text(lx, uy + 0.01, f"h={h:.0f}", fontsize=8)
    ax.set_title(f"a generated house (T = {house.exterior_temp[0]:.2f}), n = {sq['n']}")
    fig.colorbar(im, ax=ax, shrink=0.85)
    fig.suptitle(
        f"PoissonSquare {sq['houses']} x 32 at n = {sq['n']}: {sq['numerics_s']:.2f} s numerics, "
        f"{sq['dataset_s']:.2f} s dataset; direct per-scenario solves "
        f"{sq['direct_per_scenario_s']:.2f} s"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser(__doc__)  # --quick: tiny sizes, seconds
    args = parser.parse_args(argv)
    harness.set_threads(args.threads or 1)  # the solvers are timed on one thread
    record: dict[str, Any] = harness.header("poisson_generation.py", argv, quick=args.quick)
    record["machine"].update({
        "platform": platform.platform(), "processor": platform.processor(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "numpy": np.__version__, "scipy": scipy.__version__,
    })
    if args.quick:
        q = QUICK
        record["square"] = square_generation(q["houses"], q["n"], q["repeats"], subset=1)
        record["sphere"] = sphere_generation(q["houses"], q["repeats"])
        record["solver_scaling"] = solver_scaling(q["solver_sizes"], q["repeats"])
        record["source_accuracy"] = source_accuracy(q["source_sizes"], q["source_reference_n"])
        record["source_reference_n"] = q["source_reference_n"]
    else:
        record["square"] = square_generation()
        record["sphere"] = sphere_generation()
        record["solver_scaling"] = solver_scaling()
        record["source_accuracy"] = source_accuracy()
    path = harness.write_record(harness.result_name(args, "poisson_generation"), record,
                                harness.out_dir(args))
    plot(record, path.with_suffix(".png"))
    print(json.dumps({k: record[k] for k in ("square", "sphere")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
