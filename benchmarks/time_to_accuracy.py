"""Time to accuracy on the paper's Poisson task: how long a user waits for a given 7x7 test
error, the authors-style baseline and the package's recipes side by side in one run.

Both train on the same generated houses and split (250 houses, 200 train / 50 test by house,
solver grid 101). The baseline is :class:`AuthorsTrainingGEN`: the structure of
``_authors.AuthorsStyleGEN`` (the authors' GEN.py: dense soft nearest over all nodes,
``GCNConv`` + LayerNorm, a ``Batch`` rebuilt on every forward pass) with the encoder, decoder
and learnt soft-nearest strength of the authors' Poisson experiment, trained their way: uniform
4-neighbour grids 2x2..7x7 with T = 2k - 1 rounds; an epoch passes over all training houses
once per mesh, each mesh size twice; Adam 3e-3, one step per 8 houses. The package's recipes
are named recipes of ``benchmarks/poisson_square.py``, trained by
:class:`~gen_pyg.training.Trainer` (checkpoint written every epoch, as a user runs it).

The clock of each model is its whole training process: turning the dataset into what it
trains on (the baseline's dense tensors, the Trainer's pre-collated groups), building the
model, every step. The 7x7 test MSE is measured after each baseline epoch and every
``--package-eval-every`` package steps with the clock stopped (instrumentation: nothing feeds
back into training). Data generation, shared by both, is timed separately. The result is the
wall time at which each first reaches the baseline's final 7x7 test MSE.

    python benchmarks/time_to_accuracy.py --recipes bilinear   # about 45 min on 2 cores
    python benchmarks/time_to_accuracy.py --quick              # seconds

The baseline's 60 epochs (18,000 steps) take about half an hour of that.
Writes ``benchmarks/results/time_to_accuracy.json`` and ``.png`` (``_quick`` with ``--quick``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as harness
import _recipes
from _authors import AuthorsStyleGEN
from gen_pyg.mesh import grid
from gen_pyg.training import DataConfig, Trainer, build_datasets, build_meshes, build_model


class AuthorsTrainingGEN(AuthorsStyleGEN):
    """:class:`_authors.AuthorsStyleGEN` with the parts of the authors' Poisson experiment
    that matter for accuracy rather than speed: one encoder on ``[position, value, one-hot
    function]`` (5 inputs), encoder and decoder with two hidden layers of 32, and soft nearest
    weights ``softmax(-exp(s) * squared distance)`` with a learnt log-strength ``s`` (0 at
    the start). Message passing (``GCNConv`` + LayerNorm on a ``Batch`` rebuilt per forward)
    is the parent's."""

    def __init__(self, latent: int = 32) -> None:
        super().__init__(latent)

        def three_layer(i: int, o: int) -> nn.Module:
            return nn.Sequential(nn.Linear(i, latent), nn.ReLU(), nn.Linear(latent, latent),
                                 nn.ReLU(), nn.Linear(latent, o))

        del self.encoders
        self.encoder = three_layer(5, latent)
        self.decoder = three_layer(latent + 2, 1)
        self.log_strength = nn.Parameter(torch.zeros(1))

    def repr_fn(self, node_pos: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        # cdist-mm-ok: softmax weights of a timed baseline, never compared exactly
        sq = torch.cdist(x, node_pos.unsqueeze(0).expand(x.size(0), -1, -1)) ** 2
        return torch.softmax(-self.log_strength.exp() * sq, dim=-1)

    def forward_dense(self, pos: Tensor, x: Tensor, fn: Tensor, queries: Tensor,
                      mesh: Data, steps: int) -> Tensor:
        onehot = torch.nn.functional.one_hot(fn, 2).to(x.dtype)
        encoded = self.encoder(torch.cat([pos, x, onehot], -1))
        return self._process(pos, encoded, queries, mesh, steps)


def four_neighbour_grid(k: int) -> Data:
    """The authors' uniform k x k mesh: nodes on the grid, edges to the 4 neighbours."""
    mesh = grid(k)
    ids = torch.arange(k * k).view(k, k)  # grid(k) numbers nodes in C order
    a = torch.cat([ids[:-1, :].flatten(), ids[:, :-1].flatten()])
    b = torch.cat([ids[1:, :].flatten(), ids[:, 1:].flatten()])
    edge_index = torch.stack([torch.cat([a, b]), torch.cat([b, a])])
    return Data(pos=mesh.pos, edge_index=edge_index, num_nodes=k * k)


def dense_houses(dataset: Any) -> list[dict[str, Tensor]]:
    """The examples of :obj:`dataset` as one dense tensor set per house (the baseline's
    input): ``pos [S, P, 2]``, ``x [S, P, 1]``, ``fn [S, P]``, ``query [S, Q, 2]``,
    ``y [S, Q, 1]``."""
    by_house: dict[int, list[Any]] = {}
    for data in dataset:
        by_house.setdefault(int(data.house), []).append(data)
    out = []
    for house, examples in by_house.items():
        sizes = {(d.input_pos.size(0), d.query_pos.size(0)) for d in examples}
        if len(sizes) != 1:
            raise ValueError(f"house {house}: the dense baseline needs one input and query "
                             f"count per house, got {sorted(sizes)}")
        out.append({
            "pos": torch.stack([d.input_pos for d in examples]),
            "x": torch.stack([d.input_x for d in examples]),
            "fn": torch.stack([d.input_fn for d in examples]),
            "query": torch.stack([d.query_pos for d in examples]),
            "y": torch.stack([d.y for d in examples]),
        })
    return out


def stack(houses: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Several houses as one batch of scenarios (houses have equal counts in this data)."""
    return {key: torch.cat([h[key] for h in houses]) for key in houses[0]}


class Clock:
    """Wall time of a training process with the evaluations taken out."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.paused = 0.0

    def now(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def pause(self) -> _Pause:
        return _Pause(self)


class _Pause:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.clock.paused += time.perf_counter() - self.t0


@torch.no_grad()
def baseline_mse(model: AuthorsTrainingGEN, houses: list[dict[str, Tensor]], k: int) -> float:
    model.eval()
    mesh, sq, count = four_neighbour_grid(k), 0.0, 0
    for h in houses:
        pred = model.forward_dense(h["pos"], h["x"], h["fn"], h["query"], mesh, 2 * k - 1)
        sq += float(((pred - h["y"]) ** 2).sum())
        count += h["y"].numel()
    model.train()
    return sq / count


def train_baseline(splits: dict[str, Any], epochs: int, houses_per_step: int, seed: int,
                   sizes: list[int]) -> dict[str, Any]:
    """The authors' schedule: an epoch goes over all training houses once per mesh, for
    every mesh size twice (12 passes for 2x2..7x7), one optimiser step per 8 houses (their
    gradients summed: here one forward over the 8 houses' scenarios and a summed loss),
    T = 2k - 1 rounds."""
    clock = Clock()
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    train = dense_houses(splits["train"])
    model = AuthorsTrainingGEN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    meshes = {k: four_neighbour_grid(k) for k in sizes}
    largest = max(sizes)
    with clock.pause():
        test = dense_houses(splits["test"])
    per_house = train[0]["y"].numel()
    curve, step = [], 0
    for _ in range(epochs):
        for k in sizes * 2:
            order = torch.randperm(len(train), generator=g).tolist()
            for i in range(0, len(order), houses_per_step):
                b = stack([train[j] for j in order[i:i + houses_per_step]])
                opt.zero_grad(set_to_none=True)
                pred = model.forward_dense(b["pos"], b["x"], b["fn"], b["query"], meshes[k],
                                           2 * k - 1)
                (((pred - b["y"]) ** 2).sum() / per_house).backward()
                opt.step()
                step += 1
        with clock.pause():  # after every epoch
            curve.append({"step": step, "seconds": clock.now(),
                          "test_mse": baseline_mse(model, test, largest)})
        print(f"  baseline epoch {len(curve)}: {curve[-1]['seconds']:.0f} s, "
              f"{largest}x{largest} test MSE "
              f"{curve[-1]['test_mse']:.4f}", flush=True)
    return {"curve": curve, "seconds": clock.now(), "steps": step,
            "final_test_mse": curve[-1]["test_mse"]}


def train_package(recipe: str, splits: dict[str, Any], meshes: dict[str, Any], epochs: int | None,
                  eval_every: int, seed: int, run_dir: Path) -> dict[str, Any]:
    clock = Clock()
    chosen = _recipes.recipes()[recipe]
    model_cfg, train_cfg = chosen.model, chosen.train
    cfg = replace(train_cfg, seed=seed, progress=False,
                  epochs=train_cfg.epochs if epochs is None else epochs)
    torch.manual_seed(seed)
    model = build_model(model_cfg, "poisson_square")
    largest = {name: meshes[name] for name in list(meshes)[-1:]}
    curve: list[dict[str, Any]] = []

    def measure(trainer: Trainer, info: dict[str, Any]) -> None:
        if info["global_step"] % eval_every == 0:
            with clock.pause():
                mse = trainer.evaluate(splits["test"], meshes=largest)
                curve.append({"step": info["global_step"], "seconds": clock.now(),
                              "test_mse": next(iter(mse.values()))})

    trainer = Trainer(model, splits["train"], meshes=meshes, config=cfg, run_dir=run_dir,
                      callbacks=[measure])
    trainer.fit()
    if not curve or curve[-1]["step"] != trainer.global_step:
        with clock.pause():
            mse = trainer.evaluate(splits["test"], meshes=largest)
            curve.append({"step": trainer.global_step, "seconds": clock.now(),
                          "test_mse": next(iter(mse.values()))})
    return {"recipe": recipe, "model": asdict(model_cfg), "train": cfg.to_dict(),
            "curve": curve, "seconds": clock.now(), "steps": trainer.global_step,
            "final_test_mse": curve[-1]["test_mse"]}


def first_reaching(curve: list[dict[str, Any]], mse: float) -> float | None:
    """Seconds at the first evaluation with a test MSE at or below :obj:`mse`."""
    return next((p["seconds"] for p in curve if p["test_mse"] <= mse), None)


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    curves = {"authors-style GEN": record["baseline"]["curve"]}
    curves.update({f"gen_pyg {r}": run["curve"] for r, run in record["package"].items()})
    for label, c in curves.items():
        ax.plot([p["seconds"] for p in c], [p["test_mse"] for p in c], marker=".", label=label)
    ax.axhline(record["target_mse"], color="k", ls="--", label="baseline's final MSE")
    ax.set(xlabel="training wall time (s, evaluations excluded)", ylabel="7x7 test MSE",
           yscale="log", title="time to accuracy, Poisson on a square")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--houses", type=int, default=250)
    parser.add_argument("--test-houses", type=int, default=50)
    parser.add_argument("--solver-n", type=int, default=101)
    parser.add_argument("--recipes", nargs="+", default=["bilinear_long", "bilinear"],
                        choices=sorted(_recipes.recipes()),
                        help="the package's recipes to time (benchmarks/recipes.toml)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the recipe's epochs (the baseline keeps its 60)")
    parser.add_argument("--baseline-epochs", type=int, default=60)
    parser.add_argument("--houses-per-step", type=int, default=8)
    parser.add_argument("--package-eval-every", type=int, default=50,
                        help="steps between the package's 7x7 test evaluations")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [2, 3, 4, 5, 6, 7]
    if args.quick:
        args.houses, args.test_houses, args.solver_n = 6, 2, 21
        args.epochs, args.baseline_epochs, sizes = 1, 2, [2, 3]
        args.package_eval_every = 2
    harness.set_threads(args.threads)
    name = harness.result_name(args, "time_to_accuracy")
    header = harness.header("time_to_accuracy.py", argv, quick=args.quick, seeds=[args.seed])
    work = Path(tempfile.mkdtemp(prefix="gen_pyg_tta_"))
    try:
        data_cfg = DataConfig("poisson_square", root=str(work / "data"),
                              num_instances=args.houses, num_test_instances=args.test_houses,
                              options={"n": args.solver_n}, seed=0, mesh_sizes=sizes)
        t0 = time.perf_counter()
        splits = build_datasets(data_cfg, log=False)  # generated: the folder is new
        data_seconds = time.perf_counter() - t0
        meshes = build_meshes(data_cfg)
        print(f"data: {len(splits['train'])} train / {len(splits['test'])} test scenarios "
              f"in {data_seconds:.1f} s", flush=True)
        baseline = train_baseline(splits, args.baseline_epochs, args.houses_per_step,
                                  args.seed, sizes)
        print(f"baseline: {baseline['steps']} steps, {baseline['seconds']:.0f} s, final 7x7 "
              f"MSE {baseline['final_test_mse']:.4f}", flush=True)
        package = {}
        for recipe in args.recipes:
            package[recipe] = train_package(recipe, splits, meshes, args.epochs,
                                            args.package_eval_every, args.seed,
                                            work / recipe)
            run = package[recipe]
            print(f"gen_pyg ({recipe}): {run['steps']} steps, {run['seconds']:.0f} s, final "
                  f"7x7 MSE {run['final_test_mse']:.4f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    target = baseline["final_test_mse"]
    t_base = first_reaching(baseline["curve"], target)
    for run in package.values():
        run["seconds_to_target"] = t = first_reaching(run["curve"], target)
        run["time_ratio"] = t / t_base if t is not None and t_base else None
    reached = [r for r in package.values() if r["time_ratio"] is not None]
    best = min(reached, key=lambda r: r["time_ratio"]) if reached else None
    ratio = best["time_ratio"] if best else None
    record = {
        **header,
        "data": {**asdict(data_cfg), "root": "(a temporary folder)"},
        "data_seconds": data_seconds, "houses_per_step_baseline": args.houses_per_step,
        "package_eval_every_steps": args.package_eval_every,
        "baseline": {"epochs": args.baseline_epochs, **baseline},
        "package": package, "target_mse": target,
        "baseline_seconds_to_target": t_base,
        "fastest_recipe": best["recipe"] if best else None, "time_ratio": ratio,
        "target_ratio_at_most_0.1": ratio is not None and ratio <= 0.1,
    }
    path = harness.write_record(name, record, harness.out_dir(args))
    plot(record, path.with_suffix(".png"))
    print(f"baseline's final 7x7 MSE {target:.4f}: baseline reaches it at {t_base:.0f} s")
    for recipe, run in package.items():
        t = run["seconds_to_target"]
        print(f"  gen_pyg {recipe}: " + ("never" if t is None else
                                          f"{t:.0f} s ({run['time_ratio']:.3f}x)"))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
