"""The ``gen-pyg demo`` job: train and evaluate a GEN on Poisson data it generates itself.

Houses with box heaters and coolers (the GEN paper's §4.1) are generated and solved offline,
a GEN is trained on several mesh sizes at once with one set of weights (as in the paper), the
Neural Process baseline is trained for the same number of steps, and both are evaluated on
unseen houses. Progress is shown with tqdm; a checkpoint is written after every epoch and a
rerun resumes from it. Outputs in ``--out``: ``results.json``, ``mse_vs_mesh.png``,
``fields.png``, ``checkpoint.pt``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Batch, Data
from tqdm.auto import tqdm

FOLLOW_BATCH = ["input_pos", "query_pos"]


@dataclass
class DemoConfig:
    """Settings of the demo (stored in the checkpoint; a resume must match all of them but
    ``epochs``, which may grow to train longer)."""

    houses: int = 80
    test_houses: int = 16
    mesh_sizes: list[int] = field(default_factory=lambda: [2, 3, 4, 5])
    epochs: int = 60
    log_temperature: float = 2.0
    lr: float = 3e-3
    seed: int = 0
    solver_n: int = 101


def _with_mesh(examples: list[Data], mesh: Data) -> Batch:
    from gen_pyg.mesh import AttachMesh

    attach = AttachMesh(mesh)
    return Batch.from_data_list([attach(d.clone()) for d in examples], follow_batch=FOLLOW_BATCH)


def _house_batches(dataset: Any, meshes: dict[int, Data]) -> dict[tuple[int, int], Batch]:
    """One pre-collated batch per (house, mesh size): collation happens once, not per step."""
    by_house: dict[int, list[Data]] = {}
    for data in dataset:
        by_house.setdefault(int(data.house), []).append(data)
    return {(h, k): _with_mesh(examples, mesh)
            for h, examples in sorted(by_house.items()) for k, mesh in meshes.items()}


def _mse(model: torch.nn.Module, batches: list[Batch]) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for b in batches:
            total += float(torch.nn.functional.mse_loss(model(b), b.y, reduction="sum"))
            count += b.y.numel()
    model.train()
    return total / count


def _load_checkpoint(path: Path, config: DemoConfig) -> dict[str, Any] | None:
    if not path.exists():
        return None
    state: dict[str, Any] = torch.load(path, weights_only=False)
    # Everything but the epoch count must match: a run may be resumed to train longer.
    saved = {k: v for k, v in state.get("config", {}).items() if k != "epochs"}
    if saved != {k: v for k, v in asdict(config).items() if k != "epochs"}:
        raise ValueError(
            f"checkpoint {path} was written with another configuration "
            f"({state.get('config')}); use another --out folder or delete it"
        )
    return state


def run_demo(config: DemoConfig, out: Path, progress: bool = True) -> dict[str, Any]:
    """Generate data, train GEN and Neural Process, evaluate, write results and figures."""
    from gen_pyg.datasets import PoissonSquare
    from gen_pyg.mesh import grid
    from gen_pyg.nn import GEN, NeuralProcess, SoftNearest

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    common = dict(num_houses=config.houses, num_test_houses=config.test_houses, n=config.solver_n,
                  seed=config.seed, log=progress)
    t0 = time.perf_counter()
    train_set = PoissonSquare(out / "data", split="train", **common)  # type: ignore[arg-type]
    test_set = PoissonSquare(out / "data", split="test", **common)  # type: ignore[arg-type]
    data_seconds = time.perf_counter() - t0
    meshes = {k: grid(k) for k in config.mesh_sizes}
    train = _house_batches(train_set, meshes)
    test = _house_batches(test_set, meshes)
    houses = sorted({h for h, _ in train})

    # The paper's Poisson sizes and dense soft nearest neighbours. The paper's softmax(-d) is
    # nearly uniform on the unit square (weights differ by at most e^1.4); training sharpens it
    # (the log-temperature is learnt), and the demo starts it sharper to train faster.
    rep = SoftNearest(log_temperature=config.log_temperature)
    gen = GEN(in_channels=[1, 1], out_channels=1, representation=rep)
    npr = NeuralProcess(in_channels=[1, 1], out_channels=1)
    models: dict[str, torch.nn.Module] = {"GEN": gen, "NeuralProcess": npr}
    optims = {name: torch.optim.Adam(m.parameters(), lr=config.lr) for name, m in models.items()}
    history: dict[str, list[float]] = {"GEN": [], "NeuralProcess": []}
    start_epoch = 0
    ckpt_path = out / "checkpoint.pt"
    state = _load_checkpoint(ckpt_path, config)
    if state is not None:
        for name in models:
            models[name].load_state_dict(state["models"][name])
            optims[name].load_state_dict(state["optims"][name])
        history, start_epoch = state["history"], state["epoch"]
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        print(f"resuming from {ckpt_path} after epoch {start_epoch}")

    t_train = time.perf_counter()
    bar = tqdm(range(start_epoch, config.epochs), desc="training", disable=not progress,
               initial=start_epoch, total=config.epochs)
    for epoch in bar:
        order = houses[:]
        rng.shuffle(order)
        sums = {name: 0.0 for name in models}
        for h in order:
            k = rng.choice(config.mesh_sizes)  # one model for every mesh size, as in the paper
            batch = train[(h, k)]
            for name, model in models.items():
                optims[name].zero_grad(set_to_none=True)
                loss: torch.Tensor = torch.nn.functional.mse_loss(model(batch), batch.y)
                torch.autograd.backward(loss)
                optims[name].step()
                sums[name] += loss.item()
        for name in models:
            history[name].append(sums[name] / len(order))
        bar.set_postfix(gen=f"{history['GEN'][-1]:.4f}", np=f"{history['NeuralProcess'][-1]:.4f}")
        torch.save({"config": asdict(config), "epoch": epoch + 1, "history": history,
                    "models": {n: m.state_dict() for n, m in models.items()},
                    "optims": {n: o.state_dict() for n, o in optims.items()},
                    "rng": rng.getstate(), "torch_rng": torch.get_rng_state()}, ckpt_path)
    train_seconds = time.perf_counter() - t_train

    rows = []
    test_houses = sorted({h for h, _ in test})
    # the Neural Process ignores the mesh: any mesh size gives the same batches for it
    np_mse = _mse(npr, [test[(h, config.mesh_sizes[0])] for h in test_houses])
    for k in config.mesh_sizes:
        batches = [b for (h, kk), b in test.items() if kk == k]
        rows.append({"mesh": f"{k}x{k}", "nodes": k * k, "steps": 2 * (k - 1),
                     "gen_test_mse": _mse(gen, batches), "np_test_mse": np_mse})
    results = {"config": asdict(config), "data_seconds": data_seconds,
               "train_seconds_this_run": train_seconds, "train_loss": history, "test": rows,
               "test_scenarios": len(test_set), "train_scenarios": len(train_set)}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    finest = max(config.mesh_sizes)
    _figures(out, rows, gen, test[(test_houses[0], finest)], meshes[finest])
    print_table(rows)
    print(f"data {data_seconds:.1f} s, training {train_seconds:.1f} s; wrote {out}/results.json, "
          f"{out}/mse_vs_mesh.png, {out}/fields.png")
    return results


def print_table(rows: list[dict[str, Any]]) -> None:
    """The results table: test MSE per mesh size, GEN vs Neural Process."""
    print(f"\n{'mesh':>6} {'nodes':>6} {'T':>3} {'GEN test MSE':>14} {'NP test MSE':>13}")
    for r in rows:
        print(f"{r['mesh']:>6} {r['nodes']:>6} {r['steps']:>3} {r['gen_test_mse']:>14.5f} "
              f"{r['np_test_mse']:>13.5f}")


def _figures(out: Path, rows: list[dict[str, Any]], gen: torch.nn.Module, batch: Batch,
             mesh: Data) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gen_pyg.viz import plot_mesh

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy([r["nodes"] for r in rows], [r["gen_test_mse"] for r in rows], "o-", label="GEN")
    ax.axhline(rows[0]["np_test_mse"], color="k", ls="--", label="Neural Process")
    ax.set(xlabel="mesh nodes (one set of weights)", ylabel="test MSE",
           title="Poisson on a square: test error")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "mse_vs_mesh.png", dpi=120)
    plt.close(fig)

    # One test scenario: truth at the query points, the GEN's field anywhere, the error.
    example = batch.get_example(0)
    res = 100
    axis = torch.linspace(0, 1, res)
    xy = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    dense = example.clone()
    dense.query_pos = xy
    gen.eval()
    with torch.no_grad():
        field_img = gen(dense).view(res, res)
        pred = gen(example)
    err = (pred - example.y).abs().squeeze(-1)
    q = example.query_pos
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    vmin, vmax = float(example.y.min()), float(example.y.max())
    s0 = axes[0].scatter(q[:, 0], q[:, 1], c=example.y.squeeze(-1), cmap="viridis", s=14,
                         vmin=vmin, vmax=vmax)
    axes[0].set(title="solver: temperature at the 256 queries", aspect="equal")
    fig.colorbar(s0, ax=axes[0])
    plot_mesh(mesh, field_img.numpy(), ax=axes[1], title="GEN prediction everywhere + mesh",
              colorbar=True)
    s2 = axes[2].scatter(q[:, 0], q[:, 1], c=err, cmap="magma", s=14)
    axes[2].set(title=f"|error| (MSE {float((err ** 2).mean()):.4f})", aspect="equal")
    fig.colorbar(s2, ax=axes[2])
    fig.tight_layout()
    fig.savefig(out / "fields.png", dpi=110)
    plt.close(fig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Command-line options of ``gen-pyg demo``."""
    d = DemoConfig()
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder")
    parser.add_argument("--houses", type=int, default=d.houses)
    parser.add_argument("--test-houses", type=int, default=d.test_houses)
    parser.add_argument("--mesh-sizes", type=int, nargs="+", default=d.mesh_sizes)
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--quick", action="store_true", help="a tiny run (seconds)")


def config_from_args(args: argparse.Namespace) -> DemoConfig:
    if args.quick:
        return DemoConfig(houses=6, test_houses=2, mesh_sizes=[2, 3], epochs=2, seed=args.seed,
                          solver_n=21)
    for name in ("houses", "test_houses", "epochs"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if args.test_houses >= args.houses:
        raise ValueError("--test-houses must be smaller than --houses")
    if any(k < 2 for k in args.mesh_sizes):
        raise ValueError("--mesh-sizes must all be at least 2")
    return DemoConfig(houses=args.houses, test_houses=args.test_houses,
                      mesh_sizes=list(args.mesh_sizes), epochs=args.epochs, seed=args.seed)

