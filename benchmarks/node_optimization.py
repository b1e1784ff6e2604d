"""The paper's figures 3 and 8: node positions fitted per house against fixed grids at equal
node counts, with the meta-learning protocol. One GEN weight set is trained on the training
houses over grids 2x2..7x7; then, for every unseen test house and every grid size, the weights
are frozen, the positions are fitted on 16 of the house's scenarios and the MSE is measured on
its other 16, before (the fixed grid) and after (the fitted positions).

Reproduce the committed numbers (2 cores; the time of each stage is in the JSON)::

    python benchmarks/node_optimization.py            # 100 houses (80/20), 40 epochs, 3 seeds
    python benchmarks/node_optimization.py --quick    # seconds (the test suite runs it)

Writes ``benchmarks/results/NAME.json`` and ``NAME.png`` (MSE before/after per node count and
the fixed vs fitted meshes of the first test houses); run folders go to
``benchmarks/runs/NAME/``.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _recipes
from _poisson import train_one
from gen_pyg.mesh import grid
from gen_pyg.training import DataConfig, adapt_positions, build_datasets, build_meshes, build_model
from gen_pyg.training.checkpoint import load_checkpoint

#: the weights are trained with this recipe of benchmarks/recipes.toml
RECIPE = "demo"


def trained_model(splits: dict[str, Any], meshes: dict[str, Any], run_dir: Path, seed: int,
                  epochs: int) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train (or resume) the weights once per seed and load the last checkpoint back."""
    recipe = _recipes.recipes()[RECIPE]
    run = train_one(recipe.model, replace(recipe.train, epochs=epochs), splits, meshes, run_dir,
                    seed)
    model = build_model(recipe.model, "poisson_square")
    state = load_checkpoint(run_dir / "checkpoint.pt")
    model.load_state_dict(state["model"])
    model.eval()
    return model, run


def plot(record: dict[str, Any], meshes: dict[int, list[dict[str, Any]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [int(k) for k in record["summary"]]
    fig, axes = plt.subplots(1, 1 + len(sizes), figsize=(4 * (1 + len(sizes)), 4))
    before = [record["summary"][str(k)]["before_mean"] for k in sizes]
    after = [record["summary"][str(k)]["after_mean"] for k in sizes]
    nodes = [k * k for k in sizes]
    axes[0].plot(nodes, before, "o-", label="fixed grid")
    axes[0].plot(nodes, after, "s-", label="fitted positions")
    axes[0].set(xlabel="mesh nodes", ylabel="test MSE (held-out scenarios)", yscale="log",
                title="node optimisation")
    axes[0].legend()
    axes[0].grid(True, which="both", alpha=0.3)
    for ax, k in zip(axes[1:], sizes, strict=True):
        first = meshes[k][0]
        start = grid(k).pos
        ax.scatter(start[:, 0], start[:, 1], marker="x", c="gray", label="grid")
        ax.scatter(first["pos"][:, 0], first["pos"][:, 1], c="C1", label="fitted")
        ax.set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05), aspect="equal",
               title=f"{k}x{k}, house {first['house']}: {first['before']:.4f} -> "
                     f"{first['after']:.4f}")
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name="node_optimization", seeds=[0, 1, 2])
    parser.add_argument("--houses", type=int, default=100)
    parser.add_argument("--test-houses", type=int, default=20)
    parser.add_argument("--solver-n", type=int, default=101)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 4, 5],
                        help="grid sizes whose positions are fitted")
    parser.add_argument("--fit-scenarios", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-2)
    args = parser.parse_args(argv)
    if args.quick:
        args.houses, args.test_houses, args.solver_n, args.epochs = 4, 2, 21, 1
        args.seeds, args.sizes, args.fit_scenarios, args.steps = [0], [2, 3], 8, 3
    name = h.result_name(args)
    h.set_threads(args.threads)
    runs_root = h.run_folder(name)
    header = h.header("node_optimization.py", argv, quick=args.quick, seeds=args.seeds)
    data_cfg = DataConfig("poisson_square", root=str(runs_root / "data"),
                          num_instances=args.houses, num_test_instances=args.test_houses,
                          options={"n": args.solver_n}, seed=0, mesh_sizes=[2, 3, 4, 5, 6, 7])
    t0 = time.perf_counter()
    splits = build_datasets(data_cfg, log=False)
    data_seconds = time.perf_counter() - t0
    meshes = build_meshes(data_cfg)
    record: dict[str, Any] = {
        **header,
        "data": {**asdict(data_cfg), "root": h.relative(runs_root / "data")},
        "data_seconds": data_seconds, "recipe": RECIPE,
        "model": asdict(_recipes.recipes()[RECIPE].model), "epochs": args.epochs,
        "protocol": {"fit_scenarios": args.fit_scenarios, "steps": args.steps, "lr": args.lr,
                     "optimiser": "Adam on positions, weights frozen, Delaunay edges rebuilt"},
        "runs": [],
    }
    per_size: dict[int, list[dict[str, Any]]] = {k: [] for k in args.sizes}
    first_seed_houses: dict[int, list[dict[str, Any]]] = {}
    for seed in args.seeds:
        model, run = trained_model(splits, meshes, runs_root / f"seed{seed}", seed, args.epochs)
        print(f"seed {seed}: trained, test MSE {run['test_mse']}", flush=True)
        t1 = time.perf_counter()
        fits: dict[str, Any] = {}
        for k in args.sizes:
            torch.manual_seed(seed)
            houses = adapt_positions(model, splits["test"], grid(k),
                                     fit_scenarios=args.fit_scenarios, steps=args.steps,
                                     lr=args.lr)
            per_size[k].extend(houses)
            first_seed_houses.setdefault(k, houses)
            before = statistics.fmean(h["before"] for h in houses)
            after = statistics.fmean(h["after"] for h in houses)
            fits[str(k)] = {"before": before, "after": after,
                            "houses": [{"house": h["house"], "before": h["before"],
                                        "after": h["after"]} for h in houses]}
            print(f"  {k}x{k}: fixed {before:.4f} -> fitted {after:.4f} "
                  f"({100 * (1 - after / before):+.1f}% lower)", flush=True)
        record["runs"].append({"seed": seed, "train": run, "fits": fits,
                               "fit_seconds": time.perf_counter() - t1})
    summary: dict[str, Any] = {}
    for k in args.sizes:
        befores = [r["fits"][str(k)]["before"] for r in record["runs"]]
        afters = [r["fits"][str(k)]["after"] for r in record["runs"]]
        reductions = [1 - a / b for a, b in zip(afters, befores, strict=True)]
        better = sum(h["after"] < h["before"] for h in per_size[k])
        summary[str(k)] = {
            "nodes": k * k, "before_mean": statistics.fmean(befores),
            "before_std": statistics.stdev(befores) if len(befores) > 1 else 0.0,
            "after_mean": statistics.fmean(afters),
            "after_std": statistics.stdev(afters) if len(afters) > 1 else 0.0,
            "reduction_mean": statistics.fmean(reductions),
            "reduction_std": statistics.stdev(reductions) if len(reductions) > 1 else 0.0,
            "houses_improved": better, "houses": len(per_size[k]),
            "target_at_least_10pct_lower": statistics.fmean(reductions) >= 0.10,
        }
    record["summary"] = summary
    path = h.write_record(name, record, h.out_dir(args))
    plot(record, first_seed_houses, path.with_suffix(".png"))
    for k, s in summary.items():
        print(f"{k}x{k}: {s['before_mean']:.4f} -> {s['after_mean']:.4f}  "
              f"({100 * s['reduction_mean']:.1f}% ± {100 * s['reduction_std']:.1f}% lower, "
              f"{s['houses_improved']}/{s['houses']} house fits improved)")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
