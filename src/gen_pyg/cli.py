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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gen-pyg`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
