"""The ``gen-pyg`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


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

    print(f"gen_pyg {__version__}: GEN vs Neural Process on generated Poisson houses")
    run_demo(config_from_args(args), args.out)
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gen-pyg`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="gen-pyg", description="Graph Element Networks in PyTorch Geometric."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_env = sub.add_parser("env", help="print versions of gen_pyg and its dependencies")
    p_env.set_defaults(func=_cmd_env)
    p_demo = sub.add_parser("demo", help="train and evaluate a GEN on generated data")
    from gen_pyg.demo import add_arguments

    add_arguments(p_demo)
    p_demo.set_defaults(func=_cmd_demo)
    p_spring = sub.add_parser("spring", help="learn spring-mass chain dynamics and roll out")
    p_spring.add_argument("--epochs", type=int, default=40)
    p_spring.add_argument("--batch-size", type=int, default=64)
    p_spring.add_argument("--num-train", type=int, default=2000)
    p_spring.add_argument("--num-test", type=int, default=200)
    p_spring.add_argument("--steps", type=int, default=500, help="rollout steps")
    p_spring.add_argument("--chains", type=int, default=20, help="chains per rollout set")
    p_spring.add_argument("--seed", type=int, default=0)
    p_spring.add_argument("--out", default="runs/spring", help="output directory")
    p_spring.add_argument("--quiet", action="store_true", help="no progress bar")
    p_spring.set_defaults(func=_cmd_spring)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gen-pyg`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
