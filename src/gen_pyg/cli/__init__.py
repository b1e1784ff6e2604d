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
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gen_pyg.tasks  # noqa: F401  (registers the built-in tasks: --task names them)
from gen_pyg.cli._args import (
    UsageError,
    _device,
    _mesh_size,
    _nonneg_int,
    _positive_int,
    _run_folder,
    add_options,
    flag_of,
)
from gen_pyg.cli._commands import (
    _cmd_bench,
    _cmd_demo,
    _cmd_env,
    _cmd_evaluate,
    _cmd_generate,
    _cmd_plot,
    _cmd_spring,
    _cmd_tasks,
    _cmd_train,
    benchmarks_folder,
)

__all__ = ["UsageError", "benchmarks_folder", "build_parser", "main"]

EXAMPLES = """examples:
  gen-pyg demo                                  GEN vs Neural Process, figures in runs/demo
  gen-pyg demo --quick                          the same in seconds (in runs/demo-quick)
  gen-pyg generate --out data/poisson           generate and solve the Poisson houses once
  gen-pyg train --out runs/gen --epochs 60      train a GEN on meshes 2x2..7x7 (rerun resumes)
  gen-pyg train --out runs/np --model neural_process
  gen-pyg train --task poisson_sphere --out runs/sphere
  torchrun --nproc_per_node=2 -m gen_pyg.cli train --out runs/ddp
  gen-pyg evaluate runs/gen --mesh-sizes 2 7 10 14
  gen-pyg evaluate --pretrained poisson_square  a shipped model on freshly generated data
  gen-pyg plot runs/gen runs/np --out curves.png
  gen-pyg bench poisson_square --quick
"""


# ----------------------------------------------------------------------------- parser
def _add_data_options(p: argparse.ArgumentParser) -> None:
    from gen_pyg.training import TASKS, DataConfig

    title = "data (defaults: the task's; a folder made by gen-pyg generate gives its own)"
    g = p.add_argument_group(title)
    g.add_argument("--task", choices=sorted(TASKS), default="poisson_square",
                   help="the task (default: poisson_square): " + "; ".join(
                       f"{t.name}: {t.description}" for t in TASKS.values()))
    add_options(p, DataConfig, "data", {"data": g})
    g.add_argument("--data-option", action="append", metavar="KEY=VALUE",
                   help="a task's own data setting, VALUE in JSON (n=51, noise=[0.1,0.01], "
                        "m=[1,2]); repeat for several. The options and their defaults: "
                        + "; ".join(f"{t.name}: " + ", ".join(
                            f"{k}={json.dumps(v, separators=(',', ':'))}"
                            for k, v in t.options.items()) for t in TASKS.values()
                            if t.options)
                        + " (gen-pyg tasks says what each sets)")


def _add_train_options(p: argparse.ArgumentParser) -> None:
    from gen_pyg.training import ModelConfig, TrainConfig

    add_options(p, ModelConfig, "model")
    groups: dict[str, Any] = {}
    add_options(p, TrainConfig, "train", groups, skip=("progress",))
    groups["train"].add_argument(
        "--backend", choices=("gloo", "nccl"), default=None,
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

    p = sub.add_parser("tasks", help="the tasks of --task: their data, defaults and data "
                                     "options")
    p.set_defaults(func=_cmd_tasks)

    p = sub.add_parser("demo", help="train and evaluate GEN vs Neural Process on generated data")
    from gen_pyg.demo import add_arguments

    add_arguments(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("generate", help="generate a task's data into a folder, once")
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

    p = sub.add_parser("evaluate", help="test metrics of a trained run (or a pretrained model) "
                                        "per mesh",
                       epilog="examples: gen-pyg evaluate runs/gen --mesh-sizes 7 10 14; "
                              "gen-pyg evaluate --pretrained poisson_square")
    p.add_argument("run", type=_run_folder, nargs="?", default=None,
                   help="run folder written by gen-pyg train")
    p.add_argument("--pretrained", default=None,
                   help="a model shipped with the package (gen_pyg.pretrained.available())")
    p.add_argument("--data", type=Path, default=None,
                   help="dataset folder (default: the run's; data/TASK for --pretrained)")
    p.add_argument("--mesh-sizes", type=_mesh_size, nargs="+", default=None,
                   help="meshes to test on (default: those trained on)")
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


def _flags() -> dict[str, str]:
    """The command-line flag of each library setting (from the options' declarations)."""
    from dataclasses import fields

    from gen_pyg.training import DataConfig, ModelConfig, TrainConfig

    out = {"options": "--data-option"}
    for cls in (DataConfig, TrainConfig, ModelConfig):
        out.update({f.name: flag_of(f) for f in fields(cls) if f.metadata.get("cli")})
    return out


def _name_flag(message: str) -> str:
    """:obj:`message` led by the flag of the setting it starts with (``num_steps=4 ...`` ->
    ``--steps: num_steps=4 ...``), so that a library check names what the user typed."""
    found = re.match(r"(\w+)(=|\[)", message)
    flag = _flags().get(found.group(1)) if found else None
    return f"{flag}: {message}" if flag is not None else message


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
        print(f"gen-pyg {args.command}: error: {_name_flag(str(exc))} (GEN_PYG_DEBUG=1 shows "
              "the traceback)", file=sys.stderr)
        return 2
    return code

