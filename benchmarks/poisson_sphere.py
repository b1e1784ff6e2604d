"""The paper's figure 4: test MSE against mesh order on the sphere. One GEN weight set
(geodesic soft nearest neighbours) is trained over the latitude-longitude meshes of orders
2..7 with the multi-mesh protocol, then tested on each of them and on icospheres (levels 0..2,
which it never saw), against the Neural Process trained on the same houses; mean and std over
seeds.

Reproduce the committed numbers (2 cores; the time of each stage is in the JSON)::

    python benchmarks/poisson_sphere.py            # 100 houses (80/20), 20 epochs, 3 seeds
    python benchmarks/poisson_sphere.py --quick    # seconds (the test suite runs it)

Writes ``benchmarks/results/NAME.json`` and ``NAME.png``; run folders (checkpoints: an
interrupted run resumes) go to ``benchmarks/runs/NAME/``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_pyg.datasets import PoissonSphere
from gen_pyg.mesh import icosphere, sphere_latlong
from gen_pyg.nn import GEN, NeuralProcess, SoftNearest
from gen_pyg.training import TrainConfig, Trainer
from poisson_square import RESULTS, _relative, git_commit, summarise

HERE = Path(__file__).resolve().parent


def build_model(kind: str) -> torch.nn.Module:
    if kind == "gen":
        return GEN(in_channels=1, out_channels=1, pos_dim=3,
                   representation=SoftNearest(metric="geodesic", log_temperature=2.0))
    return NeuralProcess(in_channels=1, out_channels=1, pos_dim=3)


def train_one(kind: str, cfg: TrainConfig, train: Any, test: Any, meshes: dict[str, Any],
              test_meshes: dict[str, Any], run_dir: Path, seed: int) -> dict[str, Any]:
    torch.manual_seed(seed)
    model = build_model(kind)
    # the Neural Process ignores the mesh; the trainer still collates one onto the examples
    first = dict(list(meshes.items())[:1])
    trainer = Trainer(model, train, meshes=meshes if kind == "gen" else first,
                      config=TrainConfig(**{**cfg.to_dict(), "seed": seed}), run_dir=run_dir,
                      metadata={"model": kind, "representation": "soft_nearest geodesic"})
    trainer.fit()
    if kind == "gen":
        mse = trainer.evaluate(test, meshes={**meshes, **test_meshes})
    else:
        mse = {"no mesh": next(iter(trainer.evaluate(test).values()))}
    return {"seed": seed, "test_mse": mse, "train_seconds": trainer.train_seconds,
            "final_train_mse": trainer.history[-1]["train_mse"]}


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gen, np_ = record["gen"]["summary"], record["neural_process"]["summary"]["no mesh"]
    fig, ax = plt.subplots(figsize=(6, 4))
    lat = [(n, v) for n, v in gen.items() if n.startswith("latlong")]
    ico = [(n, v) for n, v in gen.items() if n.startswith("icosphere")]
    for pts, label, marker in ((lat, "GEN, lat-long (trained)", "o-"),
                               (ico, "GEN, icosphere (unseen)", "s--")):
        nodes = [record["mesh_nodes"][n] for n, _ in pts]
        ax.errorbar(nodes, [v["mse_mean"] for _, v in pts], [v["mse_std"] for _, v in pts],
                    fmt=marker, capsize=3, label=label)
    ax.axhline(np_["mse_mean"], color="gray", ls=":", label="Neural Process")
    ax.set(xscale="log", yscale="log", xlabel="mesh nodes", ylabel="test MSE",
           title="Poisson on the sphere")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="poisson_sphere", help="result file name")
    parser.add_argument("--houses", type=int, default=100)
    parser.add_argument("--test-houses", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--orders", type=int, nargs="+", default=[2, 3, 4, 5, 6, 7])
    parser.add_argument("--quick", action="store_true", help="a tiny run, seconds")
    args = parser.parse_args(argv)
    if args.quick:
        args.houses, args.test_houses, args.epochs, args.seeds = 4, 2, 1, [0]
        args.orders = [2, 3]
        args.name = f"{args.name}_quick" if args.name == "poisson_sphere" else args.name
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    runs_root = HERE / "runs" / args.name
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    data = {"num_houses": args.houses, "num_test_houses": args.test_houses,
            "num_scenarios": 32 if not args.quick else 4, "seed": 0, "log": False}
    t0 = time.perf_counter()
    train = PoissonSphere(runs_root / "data", "train", **data)
    test = PoissonSphere(runs_root / "data", "test", **data)
    data_seconds = time.perf_counter() - t0
    meshes = {f"latlong {k}": sphere_latlong(k) for k in args.orders}
    test_meshes = {f"icosphere {lv}": icosphere(lv) for lv in ((0, 1, 2) if not args.quick
                                                              else (0,))}
    cfg = TrainConfig(epochs=args.epochs, lr=3e-3, schedule="cosine", progress=False)
    record: dict[str, Any] = {
        "command": " ".join(["python benchmarks/poisson_sphere.py",
                             *(sys.argv[1:] if argv is None else argv)]),
        "git_commit": git_commit(), "load_average_at_start": load, "quick": args.quick,
        "machine": {"cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__,
                    "device": "cuda" if torch.cuda.is_available() else "cpu"},
        "data": {**{k: v for k, v in data.items() if k != "log"},
                 "root": _relative(runs_root / "data"), "train_scenarios": len(train),
                 "test_scenarios": len(test)},
        "data_seconds": data_seconds, "train": cfg.to_dict(), "seeds": args.seeds,
        "mesh_nodes": {n: int(m.num_nodes) for n, m in {**meshes, **test_meshes}.items()},
    }
    for kind in ("neural_process", "gen"):
        runs = []
        for seed in args.seeds:
            run = train_one("gen" if kind == "gen" else "np", cfg, train, test, meshes,
                            test_meshes, runs_root / f"{kind}_seed{seed}", seed)
            print(f"{kind} seed {seed}: " + ", ".join(
                f"{n} {v:.4f}" for n, v in run["test_mse"].items()), flush=True)
            runs.append(run)
        record[kind] = {"runs": runs, "summary": summarise(runs)}
    gen = record["gen"]["summary"]
    lat = [gen[f"latlong {k}"]["mse_mean"] for k in args.orders]
    np_mse = record["neural_process"]["summary"]["no mesh"]["mse_mean"]
    record["findings"] = {
        "latlong_monotone": all(a > b for a, b in itertools.pairwise(lat)),
        "best_latlong_over_np": min(lat) / np_mse,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    plot(record, RESULTS / f"{args.name}.png")
    print(f"findings: {record['findings']}; wrote {RESULTS / (args.name + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
