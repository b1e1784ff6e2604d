"""Which mesh should I use? Test error against inference time per scenario on the Poisson
square for every grid from 2x2 to 20x20, or any sizes given (one GEN weight set per line,
the meshes it was trained on in its legend), beside the Neural Process (one point) and the
package's finite-difference solver at several resolutions, on one plot. Uses the trained runs of
``benchmarks/poisson_square.py`` (every seed for the error, seed 0 for the time; no training
here).

The GEN's and the Neural Process's error is the test MSE against the data (the solver at
n = 101); the solver's is its MSE at the same query points against that n = 101 solution, on
the first ``--solver-houses`` test houses (the n = 101 data differ from an n = 501 solve by
1.6e-8, ``solver_speed.json``). Times are the best of ``--repeats`` batched passes (all the
scenarios of a house in one batch), per scenario, on ``--threads`` threads.

Reproduce (after the ``size_screen`` poisson_square command of the "bigger meshes" section of
docs/benchmark_history.rst; about 15 minutes on one thread)::

    python benchmarks/mesh_choice.py --threads 1
    python benchmarks/mesh_choice.py --quick     # a tiny model trained first; seconds

The linear-cost GEN (stencil processor, kernel encoder and decoder) from 4x4 to 80x80, after
the training of ``size_stencil.json``, ``python benchmarks/poisson_square.py --name
size_stencil --seeds 0 1 2 --jobs 3 --epochs 20 --threads 1 --mesh-sizes 4 5 6 7 --recipes
bilinear_relative_kernel_stencil`` (batches of at most 4,096 mesh nodes, so that a batch's
working set is about the same at every size; the NP and the GEN on small meshes still batch up
to 32 scenarios)::

    python benchmarks/mesh_choice.py --name mesh_choice_stencil --threads 1 \
        --pairs size_stencil:bilinear_relative_kernel_stencil \
        --sizes 4 5 6 7 10 14 20 28 40 56 80 --test-houses 10 --repeats 3 --max-nodes 4096

The fine-mesh stencil GENs (40 epochs, 3 seeds; and the shipped weights, 80 epochs on
jittered grids, one seed) after ``size_stencil_fine`` and ``size_stencil_fine_jitter80``
(docs/benchmark_history.rst, round 9)::

    python benchmarks/mesh_choice.py --name mesh_choice_stencil_fine --threads 1 \
        --pairs size_stencil_fine:bilinear_relative_kernel_stencil \
        size_stencil_fine_jitter80:bilinear_relative_kernel_stencil_jitter \
        --sizes 4 5 6 7 10 14 20 28 40 56 80 --test-houses 10 --repeats 3 --max-nodes 4096

Every mesh's row also says how far its predictions are from the largest mesh's on the same
queries (``rms_to_largest``, seed 0): whether one weight set converges as the mesh is refined.
The stencil model's, 7x7 to 80x80, two threads (``mesh_convergence_stencil.json``; its times
are not the headline ones)::

    python benchmarks/mesh_choice.py --name mesh_convergence_stencil --threads 2 \
        --pairs size_stencil:bilinear_relative_kernel_stencil \
        --sizes 7 10 14 20 28 40 56 80 --test-houses 10 --repeats 1 --max-nodes 4096 \
        --seeds 0

Writes ``benchmarks/results/mesh_choice.json`` and ``.png`` (``_quick`` with --quick).
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
import _harness as h
from _poisson import data_config, gen_timing, model_config
from gen_pyg.datasets import sample_poisson_house, solve_poisson_house
from gen_pyg.solvers import FDPoissonSolver
from gen_pyg.training import build_datasets, build_model, load_checkpoint

#: the default weight sets: RECORD:RECIPE pairs of poisson_square records
PAIRS = ["size_screen:bilinear_relative", "size_screen:bilinear_relative_recall_local",
         "size_screen:bilinear_relative_multilevel2"]


def _load(runs: Path, recipe_model: dict[str, Any], folder: str, seed: int) -> torch.nn.Module:
    model = build_model(model_config(recipe_model), "poisson_square")
    model.load_state_dict(load_checkpoint(runs / folder / f"seed{seed}" / "checkpoint.pt")
                          ["model"])
    return model.eval()


def gen_curve(record: dict[str, Any], runs: Path, recipe: str, sizes: list[int], test: Any,
              repeats: int, seeds: list[int] | None = None,
              max_nodes: int | None = None) -> dict[str, Any]:
    """Test MSE (mean over :obj:`seeds`, default the record's) and seconds per scenario (the
    first seed) per grid size, and how far each size's predictions are from the largest
    size's (``rms_to_largest``, the first seed, the same queries): a model that converges as
    the mesh is refined has this difference shrink to zero, whatever its test error."""
    rec = record["recipes"][recipe]
    seeds = record["seeds"] if seeds is None else seeds
    rows: dict[str, dict[str, Any]] = {}
    predictions = {}
    for k in sizes:
        mse = []
        for i, seed in enumerate(seeds):
            model = _load(runs, rec["model"], recipe, seed)
            out = gen_timing(model, test, k, repeats if i == 0 else 1, max_nodes, keep=i == 0)
            mse.append(out["test_mse"])
            if i == 0:
                seconds, per_batch = out["seconds_per_scenario"], out["scenarios_per_batch"]
                predictions[k] = out["predictions"]
        rows[f"{k}x{k}"] = {"k": k, "nodes": k * k, "seconds_per_scenario": seconds,
                            "scenarios_per_batch": per_batch,
                            "test_mse_mean": statistics.fmean(mse), "test_mse_per_seed": mse}
        print(f"{recipe} {k}x{k}: MSE {rows[f'{k}x{k}']['test_mse_mean']:.4f}, "
              f"{1e3 * seconds:.3f} ms/scenario", flush=True)
    largest = predictions[max(sizes)]
    for k in sizes:
        rows[f"{k}x{k}"]["rms_to_largest"] = float(
            (predictions[k] - largest).double().pow(2).mean().sqrt())
    return {"record": record.get("name", ""), "recipe": recipe, "what": rec.get("what", ""),
            "trained_on": record["data"]["mesh_sizes"], "seeds": seeds, "meshes": rows}


def np_point(record: dict[str, Any], runs: Path, test: Any, repeats: int,
             seeds: list[int] | None = None) -> dict[str, Any]:
    """The Neural Process of a record: one node, so one point."""
    mse, seconds = [], 0.0
    for i, seed in enumerate(record["seeds"] if seeds is None else seeds):
        model = _load(runs, record["neural_process"]["model"], "neural_process", seed)
        out = gen_timing(model, test, 2, repeats if i == 0 else 1)  # the mesh is ignored
        mse.append(out["test_mse"])
        if i == 0:
            seconds = out["seconds_per_scenario"]
    return {"seconds_per_scenario": seconds, "test_mse_mean": statistics.fmean(mse),
            "test_mse_per_seed": mse}


def solver_curve(houses: list[int], seed: int, ns: list[int], data_n: int) -> list[dict]:
    """The solver at each n: seconds per scenario (all scenarios of the houses, with the
    per-house work) and MSE against the n = ``data_n`` solution at the same queries."""
    sampled = [sample_poisson_house(np.random.default_rng([seed, i])) for i in houses]
    reference = FDPoissonSolver(data_n)
    refs = [solve_poisson_house(house, reference).y for house in sampled]
    out = []
    for n in ns:
        solver = FDPoissonSolver(n)
        t0 = time.perf_counter()
        solved = [solve_poisson_house(house, solver).y for house in sampled]
        seconds = time.perf_counter() - t0
        scenarios = sum(y.shape[0] for y in solved if y is not None)
        mse = statistics.fmean(float(np.mean((y - r) ** 2))
                               for y, r in zip(solved, refs, strict=True))
        out.append({"n": n, "seconds_per_scenario": seconds / scenarios, "test_mse": mse})
        print(f"solver n={n}: MSE {mse:.2e}, {1e3 * seconds / scenarios:.3f} ms/scenario",
              flush=True)
    return out


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, curve in enumerate(record["gen"]):
        rows = list(curve["meshes"].values())
        x = [1e3 * r["seconds_per_scenario"] for r in rows]
        y = [r["test_mse_mean"] for r in rows]
        trained = ", ".join(f"{k}x{k}" for k in curve.get("trained_on", []))
        ax.plot(x, y, "o-", color=f"C{i}", ms=3, label=f"GEN {curve['recipe']}"
                + (f"\n(trained on {trained})" if trained else ""))
        for r, xi, yi in zip(rows, x, y, strict=True):
            if r["k"] in (2, 4, 7, 10, 14, 20, 40, 80):
                ax.annotate(f"{r['k']}x{r['k']}", (xi, yi), fontsize=7, color=f"C{i}",
                            xytext=(3, 3), textcoords="offset points")
    npp = record["neural_process"]
    ax.plot([1e3 * npp["seconds_per_scenario"]], [npp["test_mse_mean"]], "k^", ms=8,
            label="Neural Process")
    sol = record["solver"]
    ax.plot([1e3 * s["seconds_per_scenario"] for s in sol], [s["test_mse"] for s in sol],
            "s--", color="C3", label="FD solver (n x n)")
    for s in sol:
        ax.annotate(f"n={s['n']}", (1e3 * s["seconds_per_scenario"], s["test_mse"]),
                    fontsize=7, color="C3", xytext=(3, -9), textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="inference time per scenario (ms)",
           ylabel="test MSE", title="error against time per mesh, one GEN weight set per line")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name="mesh_choice")
    parser.add_argument("--pairs", nargs="+", default=PAIRS,
                        help="RECORD:RECIPE pairs of poisson_square records (GEN lines); the "
                             "first record's Neural Process and test houses are used")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(range(2, 21)))
    parser.add_argument("--solver-n", type=int, nargs="+", default=[5, 9, 17, 33, 65])
    parser.add_argument("--solver-houses", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="the seeds whose MSE is averaged (default: every seed of each "
                             "record); the first is timed")
    parser.add_argument("--test-houses", type=int, default=None,
                        help="evaluate on the first N test houses only (default: all)")
    parser.add_argument("--max-nodes", type=int, default=None,
                        help="batch a house's scenarios so that a batch holds at most this many "
                             "mesh nodes (at least one scenario, at most 32; default: 32 "
                             "scenarios a batch)")
    args = parser.parse_args(argv)
    h.set_threads(args.threads)
    header = h.header("mesh_choice.py", argv, quick=args.quick)
    if args.quick:
        h.run_script("poisson_square.py", ["--quick", "--out", str(h.out_dir(args))],
                     args.threads)
        args.pairs, args.sizes = ["poisson_square_quick:demo"], [2, 3, 4]
        args.solver_n, args.solver_houses, args.repeats = [5, 9], 1, 1
    records = []
    for pair in args.pairs:
        name, recipe = pair.split(":")
        path = h.out_dir(args) / f"{name}.json"
        if not path.exists():
            print(f"skipping {pair}: {path} not found (run poisson_square.py first)")
            continue
        records.append((name, recipe, json.loads(path.read_text())))
    if not records:
        print("nothing to evaluate", file=sys.stderr)
        return 1
    first_name, _, first = records[0]
    data_cfg = data_config(first["data"], root=str(h.run_folder(first_name) / "data"))
    test: Any = build_datasets(data_cfg, log=False)["test"]
    houses = [int(i) for i in test.houses][: args.solver_houses]
    if args.test_houses is not None:
        keep = {int(i) for i in test.houses[: args.test_houses]}
        test = [test[i] for i in range(len(test)) if int(test[i].house) in keep]
    out: dict[str, Any] = {**header, "pairs": [f"{n}:{r}" for n, r, _ in records],
                           "test_scenarios": len(test), "test_houses": args.test_houses,
                           "max_nodes": args.max_nodes, "gen": []}
    for name, recipe, record in records:
        record["name"] = name
        out["gen"].append(gen_curve(record, h.run_folder(name), recipe, args.sizes, test,
                                    args.repeats, args.seeds, args.max_nodes))
    out["neural_process"] = np_point(first, h.run_folder(first_name), test, args.repeats,
                                     args.seeds)
    out["solver"] = solver_curve(houses, data_cfg.seed, args.solver_n,
                                 int(data_cfg.options["n"]))
    out["solver_houses"] = len(houses)
    path = h.write_record(h.result_name(args), out, h.out_dir(args))
    plot(out, h.figure_path(args))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
