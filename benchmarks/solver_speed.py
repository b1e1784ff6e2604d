"""How much faster than the classical solver is a trained GEN on new houses (the paper: 250x)?
Side by side in one run, on the test houses of ``benchmarks/poisson_square.py``: GEN inference
(the trained 7x7 model, all scenarios of a house in one batch, 256 queries each) against the
package's fastest finite-difference solve at 250 x 250 including its per-house work (rasterising
the boxes, K + 1 batched solves by superposition, interpolation at the queries), and the accuracy
of each (the GEN's against the data's n = 101 solution; the solvers' against n = 501).

Reproduce (after ``python benchmarks/poisson_square.py --recipes bilinear_long``)::

    python benchmarks/solver_speed.py           # --quick: trains nothing, a tiny model; seconds

Writes ``benchmarks/results/solver_speed.json`` (``_quick`` with --quick).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as harness
from _poisson import data_config, gen_timing, model_config
from gen_pyg.datasets import sample_poisson_house, solve_poisson_house
from gen_pyg.solvers import FDPoissonSolver
from gen_pyg.training import (
    DataConfig,
    ModelConfig,
    build_datasets,
    build_model,
    load_checkpoint,
)


def solver_timing(house_ids: list[int], seed: int, n: int, reference_n: int,
                  accuracy_houses: int) -> dict[str, Any]:
    houses = [sample_poisson_house(np.random.default_rng([seed, i])) for i in house_ids]
    t0 = time.perf_counter()
    solver = FDPoissonSolver(n)
    factor_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    solved = [solve_poisson_house(h, solver) for h in houses]
    seconds = time.perf_counter() - t0
    scenarios = sum(h.heat.shape[0] for h in houses)
    fine = FDPoissonSolver(reference_n)
    coarse_solver = FDPoissonSolver(101)
    err, err101, values = [], [], []
    for h, s in zip(houses[:accuracy_houses], solved[:accuracy_houses], strict=False):
        ref = solve_poisson_house(h, fine).y
        assert ref is not None and s.y is not None
        y101 = solve_poisson_house(h, coarse_solver).y
        assert y101 is not None
        err.append(float(np.mean((s.y - ref) ** 2)))
        err101.append(float(np.mean((y101 - ref) ** 2)))
        values.append(float(np.mean(ref**2)))
    return {"n": n, "factorisation_seconds": factor_seconds,
            "seconds_per_scenario": seconds / scenarios, "scenarios": scenarios,
            "mse_vs_reference": statistics.fmean(err), "reference_n": reference_n,
            "data_n101_mse_vs_reference": statistics.fmean(err101),
            "mean_square_of_solution": statistics.fmean(values),
            "accuracy_houses": len(err)}


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--record", default="poisson_square")
    parser.add_argument("--recipe", default="bilinear_long")
    parser.add_argument("--seed", type=int, default=0, help="which trained seed")
    parser.add_argument("--n", type=int, default=250)
    parser.add_argument("--reference-n", type=int, default=501)
    parser.add_argument("--accuracy-houses", type=int, default=5)
    args = parser.parse_args(argv)
    harness.set_threads(args.threads)
    header = harness.header("solver_speed.py", argv, quick=args.quick)
    if args.quick:
        data_cfg = DataConfig("poisson_square", root=str(harness.run_folder("solver_speed_quick")),
                              num_instances=3, num_test_instances=1, options={"n": 21},
                              mesh_sizes=[7])
        model_cfg = ModelConfig(representation="bilinear")
        torch.manual_seed(0)
        model = build_model(model_cfg, "poisson_square")  # untrained: only the timing is meaningful
        args.n, args.reference_n, args.accuracy_houses = 41, 81, 1
        repeats = 1
    else:
        record = json.loads((harness.results_dir() / f"{args.record}.json").read_text())
        data_cfg = data_config(record["data"],
                               root=str(harness.run_folder(args.record) / "data"))
        model_cfg = model_config(record["recipes"][args.recipe]["model"])
        model = build_model(model_cfg, "poisson_square")
        state = load_checkpoint(harness.run_folder(args.record) / args.recipe / f"seed{args.seed}"
                                / "checkpoint.pt")
        model.load_state_dict(state["model"])
        repeats = 3
    test = build_datasets(data_cfg, log=False)["test"]
    gen = gen_timing(model, test, 7, repeats)
    solver = solver_timing([int(h) for h in test.houses], data_cfg.seed, args.n,
                           args.reference_n, args.accuracy_houses)
    speedup = solver["seconds_per_scenario"] / gen["seconds_per_scenario"]
    record_out = {
        **header, "model": model_cfg.__dict__,
        "gen": gen, "solver": solver, "speedup": speedup, "target_250x_met": speedup >= 250,
    }
    print(f"GEN {gen['seconds_per_scenario'] * 1e3:.3f} ms/scenario (test MSE "
          f"{gen['test_mse']:.4f}); solver n={args.n} {solver['seconds_per_scenario'] * 1e3:.3f} "
          f"ms/scenario (MSE vs n={args.reference_n}: {solver['mse_vs_reference']:.2e}); "
          f"speed-up x{speedup:.1f}")
    path = harness.write_record(harness.result_name(args, "solver_speed"), record_out,
                                harness.out_dir(args))
    plot(record_out, path.with_suffix(".png"))
    return 0


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    labels = ["GEN 7x7", f"FD solver {record['solver']['n']}x{record['solver']['n']}"]
    ms = [1e3 * record["gen"]["seconds_per_scenario"],
          1e3 * record["solver"]["seconds_per_scenario"]]
    ax.bar(labels, ms, color=["C0", "C1"])
    ax.set(ylabel="ms per scenario", title=f"speed-up x{record['speedup']:.1f}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
