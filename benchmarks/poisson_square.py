"""The paper's figure 2: test MSE of one GEN weight set on square meshes 2x2..7x7 against the
Neural Process, on generated Poisson houses split by house, mean and std over seeds, for every
training recipe tried (the ones that lost included).

Reproduce the committed numbers (2 cores; the time of each run is in the JSON)::

    python benchmarks/poisson_square.py                       # 250 houses, 3 seeds, "demo" recipe
    python benchmarks/poisson_square.py --name poisson_square_recipes --houses 100 \\
        --test-houses 20 --seeds 0 --recipes demo no_augment constant_lr bilinear wide sparse_k4
    python benchmarks/poisson_square.py --quick               # seconds (the test suite runs it)

The recipes are data: ``benchmarks/recipes.toml`` (add one there, or in a file of your own
passed with ``--recipes-file``; see ``benchmarks/_recipes.py``).

Writes ``benchmarks/results/NAME.json`` and ``NAME.png``; run folders (checkpoints, so an
interrupted benchmark resumes) go to ``benchmarks/runs/NAME/``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _recipes
from _poisson import SYMMETRIZED, merge_records, np_mean_mse, summarise, targets, train_one
from gen_pyg.training import DataConfig, build_datasets, build_meshes

NAME = "poisson_square"


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rec in record["recipes"].items():
        s = rec["summary"]
        nodes = [int(m.split("x")[0]) ** 2 for m in s]
        ax.errorbar(nodes, [v["mse_mean"] for v in s.values()],
                    yerr=[v["mse_std"] for v in s.values()], marker="o", capsize=3, label=name)
    np_s = record["neural_process"]["summary"]
    mean = statistics.fmean(v["mse_mean"] for v in np_s.values())
    ax.axhline(mean, color="k", ls="--", label="Neural Process")
    ax.set(xlabel="mesh nodes", ylabel="test MSE", yscale="log",
           title=f"Poisson on a square ({record['data']['num_instances']} houses, "
                 f"{len(record['seeds'])} seed(s))")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_seeds_in_processes(args: argparse.Namespace, argv: list[str]) -> int:
    """Every seed in its own process (``--jobs`` at a time, one thread each), then one
    merged record, as if the seeds had run one after the other."""
    name = h.result_name(args)
    runs_root = h.run_folder(name, args.runs)
    t0 = time.perf_counter()
    parts = h.run_seeds_in_processes(Path(__file__).resolve(), argv, args.seeds, args.jobs,
                                     runs_root / "parts", name, ["--runs", str(runs_root)])
    if parts is None:
        return 1
    record = merge_records(parts, h.command_line("poisson_square.py", argv))
    record["parallel"] = {"jobs": args.jobs, "threads_per_job": 1,
                          "wall_seconds_all_seeds": time.perf_counter() - t0}
    path = h.write_record(name, record, h.out_dir(args))
    plot(record, h.figure_path(args))
    print(f"merged seeds {args.seeds}; wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name=NAME, seeds=[0, 1, 2], jobs=True)
    parser.add_argument("--houses", type=int, default=250)
    parser.add_argument("--test-houses", type=int, default=50)
    parser.add_argument("--solver-n", type=int, default=101)
    parser.add_argument("--mesh-sizes", type=int, nargs="+", default=[2, 3, 4, 5, 6, 7])
    parser.add_argument("--recipes", nargs="+", default=["demo"],
                        help="recipe names (benchmarks/recipes.toml, or --recipes-file)")
    parser.add_argument("--recipes-file", type=Path, default=None,
                        help="a TOML file of more recipes (the form of benchmarks/recipes.toml)")
    parser.add_argument("--epochs", type=int, default=None, help="override every recipe's")
    parser.add_argument("--runs", type=Path, default=None,
                        help="run folders (default benchmarks/runs/NAME)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        table = _recipes.recipes(args.recipes_file)
    except (OSError, ValueError) as err:
        parser.error(str(err))
    unknown = [r for r in args.recipes if r not in table]
    if unknown:
        parser.error(f"unknown recipe {unknown[0]!r}; choose from {', '.join(sorted(table))}")
    if args.quick and not any(a.split("=")[0] == "--seeds" for a in argv):
        args.seeds = [0, 1]
    if args.jobs > 1 and len(args.seeds) > 1:
        return run_seeds_in_processes(args, argv)
    if args.quick:
        args.houses, args.test_houses, args.solver_n = 4, 1, 21
        args.mesh_sizes, args.epochs = [2, 3], 1
    name = h.result_name(args)
    h.set_threads(args.threads)
    runs_root = h.run_folder(name, args.runs)
    data_root = runs_root / "data"
    record: dict[str, Any] = h.header("poisson_square.py", argv, quick=args.quick,
                                      seeds=args.seeds)
    data_cfg = DataConfig("poisson_square", root=str(data_root), num_instances=args.houses,
                          num_test_instances=args.test_houses, options={"n": args.solver_n},
                          seed=0, mesh_sizes=list(args.mesh_sizes))
    t0 = time.perf_counter()
    splits = build_datasets(data_cfg, log=False)
    data_seconds = time.perf_counter() - t0
    meshes = build_meshes(data_cfg)
    smallest = {next(iter(meshes)): next(iter(meshes.values()))}
    record.update({
        # the data folder relative to the repository, so the record names no machine's paths
        "data": {**asdict(data_cfg), "root": h.relative(data_root)}, "data_seconds": data_seconds,
        "train_scenarios": len(splits["train"]), "test_scenarios": len(splits["test"]),
        "recipes": {},
    })
    if args.recipes_file is not None:
        record["recipes_file"] = h.relative(args.recipes_file)
    baseline = _recipes.baseline()
    base_train = baseline.train
    if args.epochs is not None:
        base_train = replace(base_train, epochs=args.epochs)
    np_runs = []
    for seed in args.seeds:
        np_runs.append(train_one(baseline.model, base_train, splits, smallest,
                                 runs_root / "neural_process" / f"seed{seed}", seed,
                                 symmetrize=True, data=data_cfg))
        print(f"neural_process seed {seed}: {np_runs[-1]['test_mse']}", flush=True)
    np_summary = summarise(np_runs)
    np_mse = np_mean_mse(np_summary)
    record["neural_process"] = {"model": asdict(baseline.model), "runs": np_runs,
                                "summary": np_summary,
                                "summary_symmetrized": summarise(np_runs, SYMMETRIZED)}
    for recipe_name in args.recipes:
        recipe = table[recipe_name]
        train_cfg = recipe.train
        if args.epochs is not None:
            train_cfg = replace(train_cfg, epochs=args.epochs)
        runs = []
        for seed in args.seeds:
            runs.append(train_one(recipe.model, train_cfg, splits, meshes,
                                  runs_root / recipe_name / f"seed{seed}", seed,
                                  symmetrize=True, data=data_cfg))
            print(f"{recipe_name} seed {seed}: {runs[-1]['test_mse']}", flush=True)
        summary, sym = summarise(runs), summarise(runs, SYMMETRIZED)
        record["recipes"][recipe_name] = {
            "what": recipe.what, "model": asdict(recipe.model), "train": train_cfg.to_dict(),
            "runs": runs, "summary": summary, "summary_symmetrized": sym,
            "targets": targets(summary, np_mse, sym),
        }
        path = h.write_record(name, record, h.out_dir(args))  # after every recipe
    plot(record, h.figure_path(args))
    for recipe_name, rec in record["recipes"].items():
        cells = "  ".join(f"{m} {v['mse_mean']:.4f}±{v['mse_std']:.4f} (averaged over the 8 "
                          f"symmetries {rec['summary_symmetrized'][m]['mse_mean']:.4f})"
                          for m, v in rec["summary"].items())
        print(f"{recipe_name:>12}: {cells}")
    print(f"{'NP':>12}: {np_mse:.4f}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
