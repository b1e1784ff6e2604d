"""The ``gen-pyg`` commands (each ``_cmd_NAME(args) -> exit status``)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from gen_pyg.cli._args import (
    UsageError,
    _data_config,
    _experiment,
    _folder_arg,
    _stored_root,
)


# ----------------------------------------------------------------------------- commands
def _cmd_env(args: argparse.Namespace) -> int:
    from gen_pyg import environment_report

    report = environment_report()
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    from gen_pyg.training import TASKS

    for task in TASKS.values():
        meshes = (" ".join(map(str, task.mesh_sizes)) if task.mesh_sizes
                  else "none (each example carries its own)")
        grouping = (f"all examples of one {task.group_by}" if task.group_by is not None
                    else "plain mini-batches of group_size examples")
        print(f"{task.name}: {task.description}")
        print(f"  instances: {task.num_instances} {task.instance}s, "
              f"{task.num_test_instances} of them for testing; --mesh-sizes: {meshes}")
        loss = task.loss if isinstance(task.loss, str) else task.loss.name
        print(f"  loss {loss}; metrics {', '.join(task.metric_names())}; a step's group: "
              f"{grouping}")
        if task.options:
            print("  data options (--data-option KEY=VALUE, VALUE in JSON), with defaults:")
            for key, value in task.options.items():
                shown = json.dumps(value, separators=(",", ":"))
                print(f"    {key}={shown}  {task.option_help.get(key, '')}".rstrip())
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from gen_pyg import __version__
    from gen_pyg.demo import config_from_args, run_demo

    config = config_from_args(args)
    out = args.out if args.out is not None else Path("runs/demo-quick" if args.quick
                                                     else "runs/demo")
    _folder_arg(out, "--out")
    print(f"gen_pyg {__version__}: GEN vs Neural Process on generated Poisson houses")
    run_demo(config, out)
    return 0


def _cmd_spring(args: argparse.Namespace) -> int:
    from gen_pyg.tasks.spring_mass import run_spring_experiment

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


def _evaluate_table(trainer: Any, dataset: Any, meshes: dict[str, Any] | None,
                    symmetrize: str = "none", task: Any = None) -> list[dict[str, Any]]:
    from gen_pyg.nn import SymmetryAverage

    if task is not None and task.evaluate is not None:  # the task's own rows
        rows: list[dict[str, Any]] = task.evaluate(trainer, dataset)
        return rows
    model = trainer.model
    evaluated = SymmetryAverage(model, group=symmetrize) if symmetrize != "none" else None
    values = trainer.evaluate_all(dataset, meshes, model=evaluated)
    rows = []
    for name, metrics in values.items():
        mesh = (meshes or {}).get(name)
        steps = int(model.steps_for(mesh)) if mesh is not None and hasattr(
            model, "steps_for") else 0
        nodes = int(mesh.num_nodes) if mesh is not None else 0
        row: dict[str, Any] = {"mesh": name, "nodes": nodes, "steps": steps}
        row.update({f"test_{k}": v for k, v in metrics.items()})
        if "test_mse" in row:
            row["test_rmse"] = row["test_mse"] ** 0.5
        rows.append(row)
    return rows


def _print_rows(rows: list[dict[str, Any]]) -> None:
    metrics = [k for k in rows[0] if k.startswith("test_")]

    def title(key: str) -> str:
        name = key[5:]
        return "test " + (name.upper() if name in ("mse", "rmse", "mae") else
                          name.replace("_", " "))

    print(f"{'mesh':>10} {'nodes':>6} {'T':>3} " + " ".join(f"{title(m):>12}" for m in metrics))
    for r in rows:
        print(f"{r['mesh']:>10} {r['nodes']:>6} {r['steps']:>3} " + " ".join(
            f"{r[m]:>12.5f}" for m in metrics))


def _cmd_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from gen_pyg.training import (
        build_datasets,
        build_meshes,
        build_model,
        build_trainer,
        cleanup_distributed,
        init_distributed,
    )

    exp = _experiment(args)  # every value checked before any work
    data = exp.data
    exp.data = replace(exp.data, root=_stored_root(Path(str(data.root)), args.out))
    info = init_distributed(args.backend)
    if info.is_main:
        splits = build_datasets(data, log=not args.quiet)
        _record_data_config(data)
    from gen_pyg.training.distributed import barrier

    barrier()  # rank 0 generates the data once; the others read it
    if not info.is_main:
        splits = build_datasets(data, log=False)
    import torch

    torch.manual_seed(exp.train.seed)
    model = build_model(exp.model, exp.task)
    device = args.device
    if device is None and torch.cuda.is_available() and info.enabled:
        device = f"cuda:{info.local_rank}"
    trainer = build_trainer(exp, model, splits, run_dir=args.out, device=device)
    trainer.fit()
    stored = args.out / "test_metrics.json"
    if trainer.fit_epochs == 0 and stored.is_file():  # nothing trained: the results stand
        rows = json.loads(stored.read_text())
        if info.is_main:
            print(f"{args.out} holds a complete run ({trainer.epoch} of {exp.train.epochs} "
                  "epochs); its test results (a larger --epochs trains longer):")
            _print_rows(rows)
    else:
        rows = _evaluate_table(trainer, splits["test"], build_meshes(data),
                               task=exp.task)
        if info.is_main:
            stored.write_text(json.dumps(rows, indent=2) + "\n")
            _print_rows(rows)
    if info.is_main:
        print(f"run folder: {args.out} (config.json, metrics.jsonl, checkpoint.pt, "
              "test_metrics.json)")
    # Only a run that succeeded leaves the group collectively: after a failure, peers may be
    # inside another collective and a barrier would hang there; the launcher stops them.
    cleanup_distributed()
    return 0


def _evaluation_data(exp: Any, data_root: Path | None) -> Any:
    from dataclasses import replace

    if data_root is not None:
        _folder_arg(data_root, "--data")
        return replace(exp.data, root=str(data_root))
    root = Path(str(exp.data.root))
    if not root.exists():
        print(f"gen-pyg evaluate: the data folder {root} is missing; generating it again from "
              f"the stored settings (task {exp.data.task}, seed {exp.data.seed})",
              file=sys.stderr)
    return exp.data


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from gen_pyg.training import (
        build_datasets,
        build_meshes,
        build_model,
        build_trainer,
        load_model_weights,
    )

    if (args.run is None) == (args.pretrained is None):
        raise UsageError("give a run folder or --pretrained NAME (one of them)")
    if args.pretrained is not None:
        from gen_pyg.pretrained import load as load_pretrained

        model, exp = load_pretrained(args.pretrained, with_config=True)
        exp.data = replace(exp.data, root=str(args.data or Path("data") / exp.data.task))
        data = exp.data
    else:
        from gen_pyg.training import ExperimentConfig

        exp = ExperimentConfig.from_run(args.run)
        if not (args.run / "checkpoint.pt").exists():
            raise UsageError(f"{args.run} has no checkpoint.pt yet (train it first)")
        model = load_model_weights(build_model(exp.model, exp.task), args.run)
        data = _evaluation_data(exp, args.data)
    if args.mesh_sizes is not None:
        data = replace(data, mesh_sizes=list(args.mesh_sizes))
    if args.symmetrize != "none" and "square" not in exp.task.augmentations:
        raise UsageError(f"--symmetrize {args.symmetrize} does not fit the task {exp.task.name}")
    if args.device is not None:
        model.to(args.device)
    splits = build_datasets(data, log=True)  # a generation says what and where, first
    if args.split not in splits:
        raise UsageError(f"split {args.split!r} is not in this run (it has {sorted(splits)})")
    trainer = build_trainer(replace(exp, data=data), model, splits)
    rows = _evaluate_table(trainer, splits[args.split], build_meshes(data), args.symmetrize,
                           exp.task)
    _print_rows(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def _record_data_config(data: Any) -> None:
    """Write the data folder's ``data_config.json`` (what ``train --data`` reads) unless it
    has one."""
    from dataclasses import asdict

    file = Path(str(data.root)) / "data_config.json"
    if not file.exists():
        file.write_text(json.dumps({**asdict(data), "root": "."}, indent=2) + "\n")


def _cmd_generate(args: argparse.Namespace) -> int:

    from gen_pyg.training import build_datasets, get_task

    _folder_arg(args.out, "--out")
    cfg = _data_config(args, args.out)
    splits = build_datasets(cfg, log=not args.quiet)
    task = get_task(cfg.task)
    for name, ds in splits.items():
        print(f"{name:>5}: {len(ds)} examples")
    _record_data_config(cfg)
    print(f"{task.name} data in {args.out} (train on it with gen-pyg train --task {task.name} "
          f"--data {args.out})")
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
    """The source tree's ``benchmarks/`` folder: above the installed package (an editable
    install) or above the working directory (a wheel used inside a clone); :obj:`None` when
    neither holds one."""
    here = Path(__file__).resolve()
    for parent in (*here.parents, Path.cwd(), *Path.cwd().parents):
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


