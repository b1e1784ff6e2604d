"""The ``gen-pyg`` command line: a thin layer over :mod:`gen_pyg.training`.

Every argument is checked before any work starts; a user mistake (unknown flag, bad value,
missing folder, a run folder of another configuration) prints one line and exits with status 2,
like argparse. An interrupted training (Ctrl-C, SIGTERM) writes its checkpoint and exits with
128 + the signal number; the same command resumes it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXAMPLES = """examples:
  gen-pyg demo                                  GEN vs Neural Process, figures in runs/demo
  gen-pyg demo --quick                          the same in seconds
  gen-pyg generate --out data/poisson           generate and solve the Poisson houses once
  gen-pyg train --out runs/gen --epochs 60      train a GEN on meshes 2x2..7x7 (rerun resumes)
  gen-pyg train --out runs/np --model neural_process
  torchrun --nproc_per_node=2 -m gen_pyg.cli train --out runs/ddp
  gen-pyg evaluate runs/gen --mesh-sizes 2 7 10 14
  gen-pyg plot runs/gen runs/np --out curves.png
  gen-pyg bench poisson_square --quick
"""


class UsageError(ValueError):
    """A mistake in the command line (reported in one line, exit status 2)."""


# ----------------------------------------------------------------------------- helpers
def _number(text: str, kind: type[int] | type[float], ok: Callable[[float], bool],
            expected: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value: int = _number(text, int, lambda v: v >= 1, "a positive integer")
    return value


def _nonneg_int(text: str) -> int:
    value: int = _number(text, int, lambda v: v >= 0, "an integer >= 0")
    return value


def _positive_float(text: str) -> float:
    value: float = _number(text, float, lambda v: 0 < v < float("inf"),
                           "a positive finite number")
    return value


def _finite_float(text: str) -> float:
    value: float = _number(text, float, lambda v: abs(v) < float("inf"), "a finite number")
    return value


def _num_steps(text: str) -> int:
    from gen_pyg.nn._checks import MAX_STEPS

    value: int = _number(text, int, lambda v: 0 <= v <= MAX_STEPS,
                         f"an integer in [0, {MAX_STEPS}]")
    return value


def _device(text: str) -> str:
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a torch device such as cpu, cuda or "
                                         f"cuda:1, got {text!r}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index is not None and device.index >= count):
            raise argparse.ArgumentTypeError(f"{text!r} is not available here ({count} CUDA "
                                             "device(s))")
    elif device.type not in ("cpu", "mps", "xpu"):
        raise argparse.ArgumentTypeError(f"expected a torch device such as cpu, cuda or "
                                         f"cuda:1, got {text!r}")
    return text


def _mesh_size(text: str) -> int:
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"mesh sizes must be at least 2, got {text!r}")
    return value


def _run_folder(text: str) -> Path:
    path = Path(text)
    if not (path / "config.json").is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a run folder (no config.json)")
    return path


# ----------------------------------------------------------------------------- commands
def _cmd_env(args: argparse.Namespace) -> int:
    from gen_pyg import environment_report

    report = environment_report()
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from gen_pyg import __version__
    from gen_pyg.demo import config_from_args, run_demo

    config = config_from_args(args)
    print(f"gen_pyg {__version__}: GEN vs Neural Process on generated Poisson houses")
    run_demo(config, args.out)
    return 0


def _cmd_spring(args: argparse.Namespace) -> int:
    from gen_pyg.training import run_spring_experiment

    m = run_spring_experiment(
        args.out, epochs=args.epochs, batch_size=args.batch_size, num_train=args.num_train,
        num_test=args.num_test, num_steps=args.steps, num_rollout_chains=args.chains,
        seed=args.seed, progress=not args.quiet,
    )
    print(f"test MSE (acceleration) {m['test_mse']:.3g} after {m['train_seconds']:.1f} s")
    print(f"{'masses':>6}  {'RMSE vs Euler':>13}  {'RMSE vs exact':>13}  {'Euler vs exact':>14}")
    for n, r in m["rollout"].items():
        print(f"{n:>6}  {r['rmse_vs_euler']:>13.3g}  {r['rmse_vs_exact']:>13.3g}  "
              f"{r['integrator_rmse']:>14.3g}")
    print(f"figures and metrics.json in {args.out}")
    return 0


def _data_config(args: argparse.Namespace, root: Path) -> Any:
    from gen_pyg.training import DataConfig

    return DataConfig(root=str(root), num_houses=args.houses, num_test_houses=args.test_houses,
                      num_val_houses=args.val_houses, n=args.solver_n, seed=args.data_seed,
                      mesh_sizes=list(args.mesh_sizes))


def _experiment(args: argparse.Namespace) -> Any:
    from gen_pyg.training import ExperimentConfig, ModelConfig, TrainConfig

    root = args.data if args.data is not None else args.out / "data"
    model = ModelConfig(kind=args.model, representation=args.representation, k=args.k,
                        log_temperature=args.log_temperature, latent_channels=args.latent,
                        num_steps=args.steps, aggr=args.aggr,
                        offset_function=1 if args.wall_offset else None,
                        encoder_aggr=args.encoder_aggr, relative_pos=args.relative_pos,
                        encoder_hidden_channels=args.encoder_hidden,
                        decoder_hidden_channels=args.decoder_hidden, norm=args.norm)
    train = TrainConfig(epochs=args.epochs, lr=args.lr, schedule=args.schedule,
                        warmup_steps=args.warmup_steps, grad_clip=args.grad_clip,
                        groups_per_step=args.groups_per_step, augment=args.augment,
                        early_stopping_patience=args.patience, seed=args.seed,
                        progress=not args.quiet, tensorboard=args.tensorboard)
    exp = ExperimentConfig(model, _data_config(args, root), train)
    # settings that only conflict with each other, found before any data is generated
    if args.val_houses == 0:
        for flag, given in (("--patience", args.patience is not None),
                            ("--schedule plateau", args.schedule == "plateau")):
            if given:
                raise UsageError(f"{flag} watches the validation houses: pass --val-houses")
    if args.schedule == "plateau" and args.warmup_steps:
        raise UsageError("--warmup-steps is not supported with --schedule plateau")
    from gen_pyg.training import build_model

    build_model(exp.model)  # the model's own checks, before any work
    return exp


def _evaluate_table(model: Any, dataset: Any, meshes: dict[str, Any],
                    trainer: Any = None, symmetrize: str = "none") -> list[dict[str, Any]]:
    from gen_pyg.nn import SymmetryAverage
    from gen_pyg.training import TrainConfig, Trainer

    if trainer is None:
        trainer = Trainer(model, dataset, meshes=meshes, config=TrainConfig(progress=False))
    evaluated = SymmetryAverage(model, group=symmetrize) if symmetrize != "none" else None
    mse = trainer.evaluate(dataset, meshes, model=evaluated)
    rows = []
    for name, mesh in meshes.items():
        steps = model.steps_for(mesh) if hasattr(model, "steps_for") else 0
        rows.append({"mesh": name, "nodes": int(mesh.num_nodes), "steps": steps,
                     "test_mse": mse[name], "test_rmse": mse[name] ** 0.5})
    return rows


def _print_rows(rows: list[dict[str, Any]]) -> None:
    print(f"{'mesh':>8} {'nodes':>6} {'T':>3} {'test MSE':>10} {'test RMSE':>10}")
    for r in rows:
        print(f"{r['mesh']:>8} {r['nodes']:>6} {r['steps']:>3} {r['test_mse']:>10.5f} "
              f"{r['test_rmse']:>10.5f}")


def _cmd_train(args: argparse.Namespace) -> int:
    from gen_pyg.training import (
        Trainer,
        build_datasets,
        build_meshes,
        build_model,
        cleanup_distributed,
        init_distributed,
    )

    exp = _experiment(args)  # every value checked before any work
    info = init_distributed(args.backend)
    if info.is_main:
        splits = build_datasets(exp.data, log=not args.quiet)
    from gen_pyg.training.distributed import barrier

    barrier()  # rank 0 generates the data once; the others read it
    if not info.is_main:
        splits = build_datasets(exp.data, log=False)
    import torch

    torch.manual_seed(exp.train.seed)
    model = build_model(exp.model)
    meshes = build_meshes(exp.data)
    device = args.device
    if device is None and torch.cuda.is_available() and info.enabled:
        device = f"cuda:{info.local_rank}"
    trainer = Trainer(model, splits["train"], meshes=meshes, config=exp.train,
                      val_dataset=splits.get("val"), run_dir=args.out,
                      metadata=exp.metadata(), device=device)
    trainer.fit()
    rows = _evaluate_table(trainer.model, splits["test"], meshes, trainer)
    if info.is_main:
        (args.out / "test_metrics.json").write_text(json.dumps(rows, indent=2) + "\n")
        _print_rows(rows)
        print(f"run folder: {args.out} (config.json, metrics.jsonl, checkpoint.pt, "
              "test_metrics.json)")
    # Only a run that succeeded leaves the group collectively: after a failure, peers may be
    # inside another collective and a barrier would hang there; the launcher stops them.
    cleanup_distributed()
    return 0


def _load_run_model(run: Path, device: str | None) -> tuple[Any, Any]:
    import torch

    from gen_pyg.training import ExperimentConfig, build_model, load_checkpoint

    exp = ExperimentConfig.from_run(run)
    path = run / "checkpoint.pt"
    if not path.exists():
        raise UsageError(f"{run} has no checkpoint.pt yet (train it first)")
    state = load_checkpoint(path)
    model = build_model(exp.model)
    model.load_state_dict(state["model"])
    if device is not None:
        model.to(torch.device(device))
    return exp, model


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from gen_pyg.training import build_datasets, build_meshes

    exp, model = _load_run_model(args.run, args.device)
    data_cfg = exp.data if args.mesh_sizes is None else replace(
        exp.data, mesh_sizes=list(args.mesh_sizes))
    splits = build_datasets(data_cfg, log=False)
    if args.split not in splits:
        raise UsageError(f"split {args.split!r} is not in this run (it has {sorted(splits)})")
    rows = _evaluate_table(model, splits[args.split], build_meshes(data_cfg),
                           symmetrize=args.symmetrize)
    _print_rows(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from gen_pyg.training import build_datasets

    cfg = _data_config(args, args.out)
    splits = build_datasets(cfg, log=not args.quiet)
    for name, ds in splits.items():
        print(f"{name:>5}: {len(ds)} scenarios of {len(ds.houses)} houses")
    print(f"datasets in {args.out} (pass --data {args.out} to gen-pyg train)")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from gen_pyg.viz import plot_learning_curves

    histories = {}
    for run in args.runs:
        path = run / "metrics.jsonl"
        if not path.exists():
            raise UsageError(f"{run} has no metrics.jsonl yet (train it first)")
        histories[run.name] = [json.loads(line) for line in path.read_text().splitlines()
                               if line.strip()]
    out = args.out if args.out is not None else args.runs[0] / "learning_curves.png"
    plot_learning_curves(histories, path=out)
    print(f"wrote {out}")
    return 0


def benchmarks_folder() -> Path | None:
    """The source tree's ``benchmarks/`` folder (present in a clone, not in a wheel)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "benchmarks" / "run_all.py").is_file():
            return parent / "benchmarks"
    return None


def _cmd_bench(args: argparse.Namespace) -> int:
    # "bench NAME --quick": argparse's REMAINDER takes every flag after NAME
    extra = [a for a in args.extra if a != "--quick"]
    quick = args.quick or len(extra) < len(args.extra)
    folder = benchmarks_folder()
    if folder is None:
        raise UsageError("the benchmark scripts live in the source tree (benchmarks/); run "
                         "gen-pyg bench from a clone of the repository")
    names = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")
                   and p.stem not in ("run_all", "tables"))
    if args.name == "list":
        print("\n".join(names))
        return 0
    if args.name == "all":
        if extra:
            raise UsageError(f"bench all takes only --quick, got {' '.join(extra)}")
        cmd = [sys.executable, str(folder / "run_all.py"), *(["--quick"] if quick else [])]
    elif args.name in names:
        cmd = [sys.executable, str(folder / f"{args.name}.py"),
               *(["--quick"] if quick else []), *extra]
    else:
        raise UsageError(f"unknown benchmark {args.name!r}; choose from all, list, "
                         f"{', '.join(names)}")
    return subprocess.run(cmd).returncode


# ----------------------------------------------------------------------------- parser
def _add_data_options(p: argparse.ArgumentParser) -> None:
    from gen_pyg.training import DataConfig

    d = DataConfig()
    g = p.add_argument_group("data")
    g.add_argument("--houses", type=_positive_int, default=d.num_houses,
                   help=f"houses in all (default {d.num_houses})")
    g.add_argument("--test-houses", type=_positive_int, default=d.num_test_houses,
                   help=f"test houses (default {d.num_test_houses})")
    g.add_argument("--val-houses", type=_nonneg_int, default=d.num_val_houses,
                   help="validation houses, for early stopping (default 0)")
    g.add_argument("--solver-n", type=_positive_int, default=d.n,
                   help=f"solver grid nodes per axis (default {d.n})")
    g.add_argument("--data-seed", type=_nonneg_int, default=d.seed,
                   help="seed of the house generator (default 0)")
    g.add_argument("--mesh-sizes", type=_mesh_size, nargs="+", default=d.mesh_sizes,
                   help="grid sizes k, k x k nodes, one set of weights (default 2 3 4 5 6 7)")


def _add_train_options(p: argparse.ArgumentParser) -> None:
    from gen_pyg.training import ModelConfig, TrainConfig

    m, t = ModelConfig(), TrainConfig()
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=("gen", "neural_process"), default=m.kind)
    g.add_argument("--representation", choices=("soft_nearest", "bilinear", "barycentric"),
                   default=m.representation)
    g.add_argument("--k", type=_positive_int, default=None,
                   help="sparse soft nearest neighbours over the k nearest nodes")
    g.add_argument("--log-temperature", type=_finite_float, default=m.log_temperature)
    g.add_argument("--latent", type=_positive_int, default=m.latent_channels,
                   help="node state size")
    g.add_argument("--steps", type=_num_steps, default=None,
                   help="message-passing rounds (default: the mesh diameter, 2(k-1))")
    g.add_argument("--aggr", choices=("sum", "mean", "max"), default=m.aggr)
    g.add_argument("--encoder-aggr", choices=("sum", "mean", "max", "min"),
                   default=m.encoder_aggr, help="aggregation of the samples onto the nodes")
    g.add_argument("--wall-offset", action="store_true",
                   help="predict the temperature minus the wall temperature (the mean of the "
                        "wall samples, added back exactly: InputOffset(function=1))")
    g.add_argument("--relative-pos", action="store_true",
                   help="encode and decode every (point, node) pair with the point's offset "
                        "from the node (GEN relative_pos=True)")
    g.add_argument("--encoder-hidden", type=_positive_int, default=m.encoder_hidden_channels,
                   help="hidden width of the encoders")
    g.add_argument("--decoder-hidden", type=_positive_int, default=m.decoder_hidden_channels,
                   help="hidden width of the decoders")
    g.add_argument("--norm", choices=("post", "pre", "none"), default=m.norm,
                   help="layer normalisation of the message passing: post (the paper's), pre "
                        "(keeps training on fine meshes, which need many rounds) or none")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=_positive_int, default=t.epochs)
    g.add_argument("--lr", type=_positive_float, default=t.lr)
    g.add_argument("--schedule", choices=("constant", "cosine", "plateau"), default=t.schedule)
    g.add_argument("--warmup-steps", type=_nonneg_int, default=0)
    g.add_argument("--grad-clip", type=_positive_float, default=None)
    g.add_argument("--groups-per-step", type=_positive_int, default=1,
                   help="houses per optimiser step and process")
    g.add_argument("--augment", choices=("none", "square"), default=t.augment,
                   help="'square': random symmetry of the square per house and step")
    g.add_argument("--patience", type=_positive_int, default=None,
                   help="early stopping patience in epochs (needs --val-houses)")
    g.add_argument("--seed", type=_nonneg_int, default=t.seed)
    g.add_argument("--tensorboard", action="store_true", help="also log to TensorBoard")
    g.add_argument("--backend", choices=("gloo", "nccl"), default=None,
                   help="torch.distributed backend under torchrun (default: nccl on CUDA)")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gen-pyg`` (exposed for documentation and tests)."""
    from gen_pyg import __version__

    parser = _Parser(prog="gen-pyg", description="Graph Element Networks in PyTorch Geometric.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gen_pyg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("env", help="print versions of gen_pyg and its dependencies")
    p.set_defaults(func=_cmd_env)

    p = sub.add_parser("demo", help="train and evaluate GEN vs Neural Process on generated data")
    from gen_pyg.demo import add_arguments

    add_arguments(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("generate", help="generate and solve the Poisson houses into a folder")
    p.add_argument("--out", type=Path, required=True, help="dataset folder")
    p.add_argument("--quiet", action="store_true")
    _add_data_options(p)
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser(
        "train", help="train a model (rerun the same command to resume)",
        epilog="example: gen-pyg train --out runs/gen --epochs 60 --schedule cosine",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument("--data", type=Path, default=None,
                   help="dataset folder (default: OUT/data; generated on first use)")
    p.add_argument("--device", type=_device, default=None, help="e.g. cpu, cuda, cuda:1")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_data_options(p)
    _add_train_options(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="test MSE of a trained run per mesh size",
                       epilog="example: gen-pyg evaluate runs/gen --mesh-sizes 7 10 14")
    p.add_argument("run", type=_run_folder, help="run folder written by gen-pyg train")
    p.add_argument("--mesh-sizes", type=_mesh_size, nargs="+", default=None,
                   help="grid sizes to test on (default: those trained on)")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--symmetrize", default="none", choices=("none", "square"),
                   help="'square': average the predictions over the square's 8 rotations and "
                        "reflections (8 forward passes; gen_pyg.nn.SymmetryAverage)")
    p.add_argument("--device", type=_device, default=None)
    p.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("plot", help="learning curves of one or more run folders")
    p.add_argument("runs", type=_run_folder, nargs="+")
    p.add_argument("--out", type=Path, default=None, help="figure file (default RUN/...png)")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("bench", help="run a benchmark script (NAME, 'all' or 'list')")
    p.add_argument("name")
    p.add_argument("--quick", action="store_true", help="seconds instead of the full run")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="passed on to the script")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("spring", help="learn spring-mass chain dynamics and roll out")
    p.add_argument("--epochs", type=_positive_int, default=40)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--num-train", type=_positive_int, default=2000)
    p.add_argument("--num-test", type=_positive_int, default=200)
    p.add_argument("--steps", type=_positive_int, default=500, help="rollout steps")
    p.add_argument("--chains", type=_positive_int, default=20, help="chains per rollout set")
    p.add_argument("--seed", type=_nonneg_int, default=0)
    p.add_argument("--out", default="runs/spring", help="output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_spring)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gen-pyg`` console script."""
    from gen_pyg.training import TrainingInterrupted

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except TrainingInterrupted as exc:
        print(f"gen-pyg: {exc}; run the same command again to resume", file=sys.stderr)
        return 128 + exc.signum
    except (ValueError, TypeError) as exc:  # the library's checks name the bad setting
        if os.environ.get("GEN_PYG_DEBUG"):
            raise
        print(f"gen-pyg {args.command}: error: {exc} (GEN_PYG_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
