"""The ``gen-pyg demo`` job: train and evaluate a GEN on Poisson data it generates itself.

Houses with box heaters and coolers (the GEN paper's §4.1) are generated and solved offline;
one GEN is trained on the paper's meshes 2x2 to 7x7 with one set of weights, the Neural Process
baseline for the same number of steps, both with :class:`~gen_pyg.training.Trainer`, and both
are evaluated on unseen houses. Outputs in ``--out``: ``results.json``, ``mse_vs_mesh.png``,
``fields.png``, ``learning_curves.png``, and one run folder per model (``gen/``,
``neural_process/``: config, metrics, checkpoint); a rerun resumes from the checkpoints.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from gen_pyg.tasks import POISSON_SQUARE
from gen_pyg.training import DataConfig, ExperimentConfig, ModelConfig, TrainConfig


@dataclass
class DemoConfig:
    """Settings of the demo (stored in each run folder; a resume must match all of them but
    ``epochs``, which may grow to train longer)."""

    houses: int = 100
    test_houses: int = 20
    mesh_sizes: list[int] = field(default_factory=lambda: [2, 3, 4, 5, 6, 7])
    epochs: int = 40
    representation: str = "bilinear"
    log_temperature: float = 2.0
    lr: float = 3e-3
    schedule: str = "cosine"
    augment: str = "square"
    seed: int = 0
    solver_n: int = 101


def experiments(config: DemoConfig, out: Path) -> dict[str, Any]:
    """The two experiments of the demo (GEN and Neural Process) on the same data."""
    data = DataConfig(POISSON_SQUARE.name, root=str(out / "data"), num_instances=config.houses,
                      num_test_instances=config.test_houses, seed=config.seed,
                      mesh_sizes=list(config.mesh_sizes), options={"n": config.solver_n})
    train = TrainConfig(epochs=config.epochs, lr=config.lr, schedule=config.schedule,
                        augment=config.augment, seed=config.seed,
                        **POISSON_SQUARE.train_settings())  # grouped by house
    return {
        "GEN": ExperimentConfig(ModelConfig("gen", representation=config.representation,
                                            log_temperature=config.log_temperature),
                                data, train),
        "NeuralProcess": ExperimentConfig(ModelConfig("neural_process"), data, train),
    }


def run_demo(config: DemoConfig, out: Path, progress: bool = True) -> dict[str, Any]:
    """Generate data, train GEN and Neural Process, evaluate, write results and figures."""
    from dataclasses import replace

    from gen_pyg.nn import GEN, SymmetryAverage
    from gen_pyg.training import Trainer, build_datasets, build_meshes, build_model
    from gen_pyg.viz import plot_field_comparison, plot_learning_curves, plot_mse_vs_mesh

    out.mkdir(parents=True, exist_ok=True)
    exps = experiments(config, out)
    t0 = time.perf_counter()
    splits = build_datasets(exps["GEN"].data, log=progress)
    data_seconds = time.perf_counter() - t0
    meshes = build_meshes(exps["GEN"].data)
    assert meshes is not None  # the Poisson task's grids
    first = min(meshes, key=lambda k: int(meshes[k].num_nodes))
    smallest = {first: meshes[first]}
    trainers: dict[str, Trainer] = {}
    for name, exp in exps.items():
        torch.manual_seed(config.seed)
        model = build_model(exp.model, exp.task)
        # The Neural Process has no mesh: one mesh keeps its steps identical in number.
        exp_meshes = meshes if exp.model.kind == "gen" else smallest
        trainer = Trainer(model, splits["train"], meshes=exp_meshes,
                          config=replace(exp.train, progress=progress),
                          run_dir=out / ("gen" if name == "GEN" else "neural_process"),
                          metadata=exp.metadata())
        if progress:
            print(f"training {name} ({sum(p.numel() for p in model.parameters())} parameters, "
                  f"{len(splits['train'])} scenarios, meshes {', '.join(exp_meshes)})")
        trainer.fit()
        trainers[name] = trainer

    gen_mse = trainers["GEN"].evaluate(splits["test"])
    np_mse = next(iter(trainers["NeuralProcess"].evaluate(splits["test"]).values()))
    gen_model = trainers["GEN"].model
    # the same GEN with each prediction averaged over the square's 8 rotations and reflections
    sym_mse = trainers["GEN"].evaluate(splits["test"], model=SymmetryAverage(gen_model))
    rows = []
    for k in config.mesh_sizes:
        name = f"{k}x{k}"
        steps = int(gen_model.steps_for(meshes[name])) if isinstance(gen_model, GEN) else 0
        rows.append({"mesh": name, "nodes": k * k, "steps": steps,
                     "gen_test_mse": gen_mse[name], "gen_symmetrized_test_mse": sym_mse[name],
                     "np_test_mse": np_mse})
    histories = {name: t.history for name, t in trainers.items()}
    train_seconds = {name: t.train_seconds for name, t in trainers.items()}
    results: dict[str, Any] = {
        "config": asdict(config), "data_seconds": data_seconds,
        "train_seconds": train_seconds,
        "train_loss": {name: [r["train_mse"] for r in h] for name, h in histories.items()},
        "test": rows, "test_scenarios": len(splits["test"]),
        "train_scenarios": len(splits["train"]),
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    plot_mse_vs_mesh([{"nodes": r["nodes"], "mse": r["gen_test_mse"]} for r in rows],
                     baseline=np_mse, path=out / "mse_vs_mesh.png",
                     title="Poisson on a square: one GEN, every mesh size")
    plot_learning_curves(histories, path=out / "learning_curves.png")
    finest = f"{max(config.mesh_sizes)}x{max(config.mesh_sizes)}"
    plot_field_comparison(gen_model, splits["test"][0], meshes[finest], path=out / "fields.png")
    import matplotlib.pyplot as plt

    plt.close("all")
    print_table(rows)
    seconds = ", ".join(f"{n} {s:.0f} s" for n, s in train_seconds.items())
    print(f"data {data_seconds:.1f} s, training {seconds}; wrote {out}/results.json, "
          f"mse_vs_mesh.png, fields.png, learning_curves.png")
    return results


def print_table(rows: list[dict[str, Any]]) -> None:
    """The results table: test MSE per mesh size, GEN vs Neural Process; ``GEN x8`` is the same
    GEN with its predictions averaged over the square's 8 symmetries
    (:class:`~gen_pyg.nn.SymmetryAverage`)."""
    print(f"\n{'mesh':>6} {'nodes':>6} {'T':>3} {'GEN test MSE':>14} {'GEN x8':>9} "
          f"{'NP test MSE':>13} {'GEN/NP':>7}")
    for r in rows:
        print(f"{r['mesh']:>6} {r['nodes']:>6} {r['steps']:>3} {r['gen_test_mse']:>14.5f} "
              f"{r['gen_symmetrized_test_mse']:>9.5f} {r['np_test_mse']:>13.5f} "
              f"{r['gen_test_mse'] / r['np_test_mse']:>7.2f}")
    print("GEN x8: the same GEN, each prediction averaged over the square's 8 rotations and "
          "reflections")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Command-line options of ``gen-pyg demo``."""
    d = DemoConfig()
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default runs/demo, runs/demo-quick with --quick)")
    parser.add_argument("--houses", type=int, default=d.houses, help="houses in all")
    parser.add_argument("--test-houses", type=int, default=d.test_houses, help="test houses")
    parser.add_argument("--mesh-sizes", type=int, nargs="+", default=d.mesh_sizes,
                        help="grid sizes k (k x k nodes) trained with one set of weights")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--representation", choices=("bilinear", "soft_nearest", "barycentric"),
                        default=d.representation,
                        help="the GEN's representation function (benchmarks/poisson_square.py "
                             "compares them)")
    parser.add_argument("--quick", action="store_true", help="a tiny run (seconds)")


def config_from_args(args: argparse.Namespace) -> DemoConfig:
    """The demo's configuration from parsed arguments; bad values raise :class:`ValueError`
    naming the option (the CLI turns it into a usage error)."""
    if args.quick:
        return DemoConfig(houses=6, test_houses=2, mesh_sizes=[2, 3], epochs=2, seed=args.seed,
                          solver_n=21, representation=args.representation)
    for name in ("houses", "test_houses", "epochs"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if args.test_houses >= args.houses:
        raise ValueError("--test-houses must be smaller than --houses")
    if any(k < 2 for k in args.mesh_sizes):
        raise ValueError("--mesh-sizes must all be at least 2")
    if args.seed < 0:
        raise ValueError("--seed must be non-negative")
    return DemoConfig(houses=args.houses, test_houses=args.test_houses,
                      mesh_sizes=list(args.mesh_sizes), epochs=args.epochs, seed=args.seed,
                      representation=args.representation)
