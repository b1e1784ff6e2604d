"""The paper's scene-representation experiment (section 4.3, appendix A.5, figures 6 and 9):
GEN vs Neural Process choosing the image a query camera pose sees, trained on 1x1 and 2x2
supermazes, tested on 1x1 to 5x5, with learning curves per supermaze size.

Both models are the ``scenes`` task of the engine (``gen-pyg train --task scenes``): a
:class:`~gen_pyg.nn.SceneRetrieval` with a GEN core (bilinear representation on a grid of
4 m + 1 nodes per side over the supermaze, 4 message-passing rounds) or a Neural Process core.
Training batches hold ``--batch`` supermazes (half 1x1, half 2x2); every test batch holds about
16 mazes (``ceil(16 / m^2)`` supermazes of side m), so every m is tested among about as many
candidates (the record states K and the chance level 1/K per m).

Reproduce (one thread; the time of each stage is in the JSON)::

    python benchmarks/scenes.py --threads 1          # full mode, the committed record:
                                                     # 3 seeds, 20 epochs (1 h 54 min)
    python benchmarks/scenes.py --quick              # seconds (the test suite runs it)

Each model trained to its plateau and tested at a fixed number of candidates
(``scenes_plateau.json``): 200 validation supermazes (m = 1, 2), the learning rate halved
after 2 epochs without a better validation accuracy, each run stopped after ``--patience``
such epochs (at most ``--epochs``; the best epoch's weights are tested), the same rule for
both. Besides the batch protocol above, every m is then tested with the candidates of each
query drawn from its own supermaze's rendered views: K = ``--views`` drawn at random (the same
K at every m, chance 1/K), the views of its own maze, and all the supermaze's views
(:func:`~gen_pyg.tasks.scenes.fixed_k_accuracy`), with the standard error over the test
supermazes, and the own-maze test once more with every supermaze given the context views of
another (the control ``maze_other_contexts``: a model that keeps its accuracy there answers
from the query pose alone). ``--kinds`` trains one model only: two processes train the two at
once (one core each, about 24 minutes per seed and model), then a last run with both finds
their runs complete and writes the record (3 minutes)::

    python benchmarks/scenes.py --name scenes_plateau --seeds 0 1 2 --val-supermazes 200 \
        --patience 8 --epochs 40 --schedule plateau --threads 1 --kinds gen &
    python benchmarks/scenes.py --name scenes_plateau --seeds 0 1 2 --val-supermazes 200 \
        --patience 8 --epochs 40 --schedule plateau --threads 1 --kinds neural_process
    wait
    python benchmarks/scenes.py --name scenes_plateau --seeds 0 1 2 --val-supermazes 200 \
        --patience 8 --epochs 40 --schedule plateau --threads 2

The Neural Process alone at a constant learning rate for 45 epochs (11,250 steps, three times
the GEN's steps to its best epoch in ``scenes_plateau``), its best validation epoch tested
(``--write-one``: a record of one model)::

    python benchmarks/scenes.py --name scenes_np_long --seeds 0 --kinds neural_process \
        --write-one --val-supermazes 200 --patience 45 --epochs 45 --threads 2

Writes ``benchmarks/results/NAME.json``, ``NAME.png`` (learning curves, accuracy vs steps per
m) and ``NAME_queries.png`` (a few test queries: context views, true and chosen image); run
folders (checkpoints: an interrupted run resumes) go to ``benchmarks/runs/NAME/``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from gen_pyg.tasks.scenes import (
    candidates_per_batch,
    evaluate_scenes,
    fixed_k_accuracy,
    scenes_test_split,
    supermazes_per_batch,
)
from gen_pyg.training import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    build_datasets,
    build_model,
    build_trainer,
)

KINDS = ("gen", "neural_process")
#: the fixed-candidate tests: K = --views drawn from the supermaze (the headline), the
#: query's own maze's views, every view of the supermaze
CANDIDATES = ("sample", "maze", "supermaze")
#: the control: the own maze's views as candidates, the context views of another supermaze
#: of the same side (a model that keeps its accuracy answers from the query pose alone)
CONTROL = "maze_other_contexts"
TEST_M = (1, 2, 3, 4, 5)


def _test_sizes(mazes: int) -> dict[int, int]:
    """Test supermazes per m: about :obj:`mazes` mazes each, whole batches."""
    out = {}
    for m in TEST_M:
        per = supermazes_per_batch(m)
        out[m] = max(per, round(mazes / (m * m) / per) * per)
    return out


def experiment(args: Any, kind: str, root: Path, seed: int) -> ExperimentConfig:
    model = ModelConfig(kind=kind, representation="bilinear",
                        num_steps=4 if kind == "gen" else None,  # the NP has no rounds
                        latent_channels=args.latent, encoder_hidden_channels=args.cnn)
    data = DataConfig(task="scenes", root=str(root),
                      num_instances=args.supermazes + args.val_supermazes + 1,
                      num_test_instances=1, num_val_instances=args.val_supermazes, seed=0,
                      options={"m": [1, 2], "views": args.views, "draws": args.draws})
    train = TrainConfig(epochs=args.epochs, lr=args.lr, group_size=args.batch, seed=seed,
                        progress=False, schedule=args.schedule,
                        early_stopping_patience=args.patience)
    return ExperimentConfig(model, data, train)


def evaluate(trainer: Any, tests: dict[int, Any]) -> dict[str, dict[str, float]]:
    return {str(m): evaluate_scenes(trainer, ds, supermazes_per_batch(m))
            for m, ds in tests.items()}


def train_one(args: Any, kind: str, seed: int, root: Path, run_dir: Path,
              curve_tests: dict[int, Any], tests: dict[int, Any]) -> dict[str, Any]:
    exp = experiment(args, kind, root, seed)
    splits = build_datasets(exp.data, log=False)
    torch.manual_seed(seed)
    model = build_model(exp.model, exp.task)
    # the run folder stores the data root relative to itself, so runs and data can move
    stored = replace(exp, data=replace(exp.data, root=os.path.relpath(root.resolve(),
                                                                      run_dir.resolve())))
    trainer = build_trainer(stored, model, splits, run_dir=run_dir)
    curve_file = run_dir / "curve.json"
    curve: list[dict[str, Any]] = (json.loads(curve_file.read_text())
                                   if curve_file.exists() else [])

    def point() -> None:
        step = trainer.global_step
        if curve and curve[-1]["step"] >= step:
            return
        acc = {m: v["retrieval_accuracy"] for m, v in evaluate(trainer, curve_tests).items()}
        curve.append({"step": step, "seconds": trainer.train_seconds, "accuracy": acc})
        run_dir.mkdir(parents=True, exist_ok=True)
        curve_file.write_text(json.dumps(curve) + "\n")

    def callback(tr: Any, info: dict[str, Any]) -> None:
        if info["global_step"] % args.curve_every == 0:
            point()

    trainer.callbacks.append(callback)
    if not curve:
        point()  # step 0
    t0 = time.perf_counter()
    trainer.fit()
    if args.patience is None:
        point()  # with early stopping the weights are the best epoch's, not the last step's
    t_eval = time.perf_counter()
    final = evaluate(trainer, tests)
    fixed = {str(m): {c: fixed_k_accuracy(model, ds, c, k=args.views) for c in CANDIDATES}
             for m, ds in tests.items()} if args.fixed_k else None
    if fixed is not None:
        for m, ds in tests.items():  # (a side tested on one supermaze has no other)
            if len(ds) > 1:
                fixed[str(m)][CONTROL] = fixed_k_accuracy(model, ds, "maze", contexts="other")
    extra: dict[str, Any] = {}
    if trainer.best is not None and args.patience is not None:
        extra["best_epoch"] = int(trainer.best["epoch"])
        extra["best_step"] = int(trainer.history[extra["best_epoch"] - 1]["step"])
        extra["val_curve"] = [{"epoch": r["epoch"], "step": r["step"],
                               "val_accuracy": r["val_retrieval_accuracy"]}
                              for r in trainer.history]
    if fixed is not None:
        extra["fixed_k"] = fixed
    return {"seed": seed, "steps": trainer.global_step, **extra,
            "params": sum(p.numel() for p in model.parameters()),
            "train_seconds": trainer.train_seconds, "fit_wall_seconds": t_eval - t0,
            "eval_seconds": time.perf_counter() - t_eval, "test": final, "curve": curve,
            "final_train_loss": trainer.history[-1]["train_retrieval_cross_entropy"],
            "trainer": trainer}


def steps_to_reach(curve: list[dict[str, Any]], m: str, level: float) -> int | None:
    for p in curve:
        if p["accuracy"][m] >= level:
            return int(p["step"])
    return None


def accuracies(record: dict[str, Any], kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
    """Batch-protocol test accuracy per model and m, mean and std over seeds."""
    out: dict[str, Any] = {}
    for kind in kinds:
        runs = record[kind]["runs"]
        out[kind] = {}
        for m in map(str, TEST_M):
            mean, std = h.mean_std([r["test"][m]["retrieval_accuracy"] for r in runs])
            out[kind][m] = {"accuracy_mean": mean, "accuracy_std": std}
    return out


def summarise(record: dict[str, Any]) -> dict[str, Any]:
    out = accuracies(record)
    gen, np_ = out["gen"], out["neural_process"]
    # steps for the GEN to reach the NP's final (plateau: best-epoch) m = 1 accuracy on the
    # curve, over the NP's own steps to reach it, per seed
    ratios = []
    for g, n in zip(record["gen"]["runs"], record["neural_process"]["runs"], strict=True):
        if "best_step" in n:
            level = max(p["accuracy"]["1"] for p in n["curve"] if p["step"] <= n["best_step"])
            own = steps_to_reach(n["curve"], "1", level)
        else:
            level, own = n["curve"][-1]["accuracy"]["1"], n["steps"]
        reached = steps_to_reach(g["curve"], "1", level)
        ratios.append(None if reached is None or not own else reached / own)
    if all("fixed_k" in r for kind in KINDS for r in record[kind]["runs"]):
        out["fixed_k"] = fixed_k_summary(record)
    drop_gen = gen["1"]["accuracy_mean"] - gen["5"]["accuracy_mean"]
    drop_np = np_["1"]["accuracy_mean"] - np_["5"]["accuracy_mean"]
    gap = gen["1"]["accuracy_mean"] - np_["1"]["accuracy_mean"]
    out["targets"] = {
        "m1_gen_minus_np_points": 100 * gap,
        "m1_within_2_points": bool(abs(gap) <= 0.02),
        "gen_steps_to_np_final_over_np_steps": ratios,
        "gen_reaches_np_in_0.6x": all(r is not None and r <= 0.6 for r in ratios),
        "gen_drop_m1_to_m5_points": 100 * drop_gen,
        "np_drop_m1_to_m5_points": 100 * drop_np,
        "gen_drop_at_most_5": bool(drop_gen <= 0.05),
        "np_drop_at_least_10": bool(drop_np >= 0.10),
    }
    return out


def fixed_k_summary(record: dict[str, Any], kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
    """Per model and candidate set: accuracy per m (mean over seeds; the standard error over
    test supermazes, root-mean-square over seeds; the std over seeds) and the drop from m = 1
    to m = 5 with its standard error."""
    out: dict[str, Any] = {}
    for kind in kinds:
        runs = record[kind]["runs"]
        out[kind] = {}
        for cands in (*CANDIDATES, CONTROL):
            if not all(cands in r["fixed_k"][m] for r in runs for m in map(str, TEST_M)):
                continue  # records written before the control; a side of one supermaze
            rows: dict[str, Any] = {}
            for m in map(str, TEST_M):
                acc = [r["fixed_k"][m][cands]["accuracy"] for r in runs]
                se = [r["fixed_k"][m][cands]["stderr"] for r in runs]
                mean, std = h.mean_std(acc)
                rows[m] = {"accuracy_mean": mean, "accuracy_std_over_seeds": std,
                           "stderr_over_supermazes": (sum(v * v for v in se) / len(se)) ** 0.5,
                           "candidates": runs[0]["fixed_k"][m][cands]["candidates"],
                           "supermazes": runs[0]["fixed_k"][m][cands]["supermazes"]}
            drops = [r["fixed_k"]["1"][cands]["accuracy"] - r["fixed_k"]["5"][cands]["accuracy"]
                     for r in runs]
            drop_se = [(r["fixed_k"]["1"][cands]["stderr"] ** 2
                        + r["fixed_k"]["5"][cands]["stderr"] ** 2) ** 0.5 for r in runs]
            rows["drop_m1_to_m5_points"] = 100 * sum(drops) / len(drops)
            rows["drop_stderr_points"] = 100 * (sum(v * v for v in drop_se)
                                                / len(drop_se)) ** 0.5 / len(drop_se) ** 0.5
            out[kind][cands] = rows
    if kinds != KINDS:
        return out
    out["targets"] = {}
    for cands in CANDIDATES:
        g, n = (out[k][cands]["drop_m1_to_m5_points"] for k in KINDS)
        n_se = out["neural_process"][cands]["drop_stderr_points"]
        # the NP's drop must be real (above two standard errors), not only twice a gain
        out["targets"][cands] = {
            "gen_drop_points": g, "np_drop_points": n,
            "gen_drop_at_most_3_points": bool(g <= 3.0),
            "np_drop_at_least_twice_gen": bool(n >= 2 * max(g, 0.0) and n > 2 * n_se)}
    return out


def plot_curves(record: dict[str, Any], path: Path,
                kinds: tuple[str, ...] = KINDS) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    titles = {"gen": "GEN", "neural_process": "Neural Process"}
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 4), sharey=True,
                             squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        for i, m in enumerate(map(str, TEST_M)):
            for j, run in enumerate(record[kind]["runs"]):
                steps = [p["step"] for p in run["curve"]]
                acc = [100 * p["accuracy"][m] for p in run["curve"]]
                ax.plot(steps, acc, color=f"C{i}", alpha=1.0 if j == 0 else 0.5,
                        label=f"{m}x{m}" if j == 0 else None)
            ax.axhline(100 * record["chance"][m], color=f"C{i}", ls=":", lw=0.8)
        ax.set(xlabel="training steps", title=f"{titles[kind]} (dotted: chance)")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("test accuracy (%)")
    axes[0][-1].legend(title="supermaze", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_queries(trainer: Any, dataset: Any, path: Path) -> None:
    from gen_pyg.mesh.batching import collate_group
    from gen_pyg.viz import plot_scene_retrieval

    batch = collate_group([dataset[i] for i in range(supermazes_per_batch(1))], True)
    model = trainer.model.eval()
    with torch.no_grad():
        pred = model(batch)
    plot_scene_retrieval(batch, pred, queries=6, path=path)


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name="scenes", seeds=[0, 1, 2])
    parser.add_argument("--supermazes", type=int, default=1000, help="training supermazes")
    parser.add_argument("--views", type=int, default=32, help="rendered views per maze")
    parser.add_argument("--draws", type=int, default=4,
                        help="(context, query) draws per training supermaze")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16, help="supermazes per training step")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--cnn", type=int, default=32, help="channels of the first convolution")
    parser.add_argument("--test-mazes", type=int, default=320,
                        help="test mazes per m (final accuracy)")
    parser.add_argument("--curve-mazes", type=int, default=64,
                        help="test mazes per m for the learning curves")
    parser.add_argument("--curve-every", type=int, default=250, help="steps between points")
    parser.add_argument("--val-supermazes", type=int, default=0,
                        help="validation supermazes (m = 1, 2), for early stopping")
    parser.add_argument("--patience", type=int, default=None,
                        help="stop a run after this many epochs without a better validation "
                             "accuracy (needs --val-supermazes); --epochs is then the cap")
    parser.add_argument("--schedule", choices=["constant", "plateau"], default="constant",
                        help="learning-rate schedule (plateau: halve after 2 epochs without "
                             "a better validation accuracy)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS),
                        help="train these models only (the record needs both)")
    parser.add_argument("--no-fixed-k", dest="fixed_k", action="store_false",
                        help="skip the fixed-candidate test (K = views per maze)")
    parser.add_argument("--write-one", action="store_true",
                        help="with one of --kinds: write a record of that model alone")
    args = parser.parse_args(argv)
    if args.write_one and len(args.kinds) != 1:
        parser.error("--write-one needs exactly one of --kinds")
    if (args.patience is not None or args.schedule == "plateau") and args.val_supermazes < 1:
        parser.error("--patience and --schedule plateau need --val-supermazes of at least 1")
    if args.quick:
        args.supermazes, args.views, args.draws, args.epochs, args.seeds = 16, 10, 1, 2, [0]
        if args.val_supermazes:
            args.val_supermazes = 4
        args.batch, args.latent, args.cnn, args.curve_every = 8, 16, 8, 2
        args.test_mazes, args.curve_mazes = 16, 16
    name = h.result_name(args)
    h.set_threads(args.threads)
    runs_root = h.run_folder(name)
    root = runs_root / "data"
    header = h.header("scenes.py", argv, quick=args.quick, seeds=args.seeds)
    cfg = experiment(args, "gen", root, 0).data
    t0 = time.perf_counter()
    build_datasets(cfg, log=False)
    train_data_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    sizes = _test_sizes(args.test_mazes)
    tests = {m: scenes_test_split(cfg, m, n) for m, n in sizes.items()}
    curve_sizes = _test_sizes(args.curve_mazes)
    # the learning curves use the first test supermazes of each m (a prefix of the test split)
    curve_tests = {m: tests[m][:n] if n <= len(tests[m]) else scenes_test_split(cfg, m, n)
                   for m, n in curve_sizes.items()}
    test_data_seconds = time.perf_counter() - t0
    per_batch = {str(m): supermazes_per_batch(m) for m in TEST_M}
    cands = {str(m): candidates_per_batch(m, per_batch[str(m)]) for m in TEST_M}
    record: dict[str, Any] = {
        **header,
        "data": {"root": h.relative(root), "train_supermazes": args.supermazes,
                 "train_m": [1, 2], "views_per_maze": args.views, "draws": args.draws,
                 "image_size": 32, "context_per_maze": 8, "queries_per_maze": 1,
                 "test_supermazes": {str(m): n for m, n in sizes.items()},
                 "curve_supermazes": {str(m): n for m, n in curve_sizes.items()},
                 "train_seconds": train_data_seconds, "test_seconds": test_data_seconds},
        "test_batch": {"supermazes": per_batch, "candidates": cands,
                       "rule": "ceil(16 / m^2) supermazes of side m per test batch"},
        "chance": {m: 1.0 / k for m, k in cands.items()},
        "train_batch": {"supermazes": args.batch, "mazes": args.batch * 5 // 2,
                        "candidates": args.batch * 5 // 2 * 9},
        "model": {"latent": args.latent, "cnn_channels": args.cnn, "gen_steps": 4,
                  "representation": "bilinear", "mesh": "grid of 4 m + 1 nodes per side",
                  "np": "one vector per supermaze, decoder depth 4 and width 4 x latent, "
                        "32 pose copies (GEN: depth 2, width 2 x latent, 8 copies)"},
        "train": experiment(args, "gen", root, 0).train.to_dict(),
    }
    record["rule"] = None if args.patience is None else (
        f"{args.val_supermazes} validation supermazes (m = 1, 2); learning rate "
        f"{args.schedule}; stopped after {args.patience} epochs without a better validation "
        f"accuracy, at most {args.epochs}; the best epoch's weights tested; the same rule for "
        "both models")
    record["fixed_k_protocol"] = (
        "candidates of each query: 'sample', the true view and views - 1 others drawn at "
        "random among its supermaze's rendered views (K = views at every m, the headline); "
        "'maze', the views of its own maze (K = views); 'supermaze', every view of its "
        "supermaze (K = m^2 x views); standard error over test supermazes") if args.fixed_k \
        else None
    last: dict[str, Any] = {}
    for kind in args.kinds:
        runs = []
        for seed in args.seeds:
            run = train_one(args, kind, seed, root, runs_root / f"{kind}_seed{seed}",
                            curve_tests, tests)
            last[kind] = run.pop("trainer")
            print(f"{kind} seed {seed}: " + ", ".join(
                f"m={m} {100 * v['retrieval_accuracy']:.1f}%" for m, v in run["test"].items())
                + f" ({run['train_seconds']:.0f} s)", flush=True)
            runs.append(run)
        record[kind] = {"runs": runs}
    if set(args.kinds) != set(KINDS):
        if not args.write_one:
            print(f"trained {args.kinds} only; run with both kinds to write the record")
            return 0
        kind = args.kinds[0]  # a record of one model: its accuracies, no comparison
        record["summary"] = accuracies(record, (kind,))
        if args.fixed_k:
            record["summary"]["fixed_k"] = fixed_k_summary(record, (kind,))
        path = h.write_record(name, record, h.out_dir(args))
        plot_curves(record, path.with_suffix(".png"), (kind,))
        if kind == "gen":
            plot_queries(last["gen"], tests[1], path.with_name(f"{name}_queries.png"))
        print(f"wrote {path} and its figures")
        return 0
    record["summary"] = summarise(record)
    path = h.write_record(name, record, h.out_dir(args))
    plot_curves(record, path.with_suffix(".png"))
    plot_queries(last["gen"], tests[1], path.with_name(f"{name}_queries.png"))
    print(f"targets: {record['summary']['targets']}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
