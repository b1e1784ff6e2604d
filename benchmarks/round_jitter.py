"""Does training with a random number of extra message-passing rounds turn the GEN's
processor from a clock into a solver? The shipped ``poisson_square_relative`` model (the
package's ``poisson_square`` model until round 8; one weight set on 2x2..7x7;
``size_profile.py`` shows its error is lowest exactly at the trained rounds and rises after)
is fine-tuned for a few epochs on its own training houses, each step running the mesh diameter
plus 0..``--extra`` rounds drawn at random (an augmentation that raises the batch's
``diameter``, beside the square's symmetries), then tested on 4x4..14x14 at the model's own
rounds, with 8 rounds more, and at the 7x7's 12 rounds; the same fine-tuning without the
extra rounds is the control.

    python benchmarks/round_jitter.py            # 5 epochs each, 250 houses
    python benchmarks/round_jitter.py --quick    # seconds

Writes ``benchmarks/results/round_jitter.json`` and ``round_jitter.png``.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from gen_pyg import pretrained
from gen_pyg.mesh import grid
from gen_pyg.training import SquareSymmetry, TrainConfig, Trainer, build_datasets


class JitterRounds:
    """The square's symmetries, and 0..``extra`` more rounds than the batch's mesh diameter."""

    def __init__(self, extra: int) -> None:
        self.extra = extra
        self.square = SquareSymmetry()

    def __call__(self, batch: Any, generator: torch.Generator) -> Any:
        out = self.square(batch, generator)
        r = int(torch.randint(self.extra + 1, (1,), generator=generator))
        if r:
            out = out.clone()
            out.diameter = out.diameter + r
        return out


@torch.no_grad()
def test_table(model: Any, test: Any, sizes: list[int]) -> dict[str, dict[str, float]]:
    """Test MSE per grid size at the model's rounds, 8 more, and 12 (the 7x7's)."""
    out: dict[str, dict[str, float]] = {}
    for k in sizes:
        row = {}
        for name, steps in (("own", None), ("own_plus_8", 2 * (k - 1) + 8), ("fixed_12", 12)):
            model.processor.num_steps = steps
            trainer = Trainer(model, test, meshes={f"{k}x{k}": grid(k)},
                              config=TrainConfig(progress=False, group_by="house"))
            row[name] = trainer.evaluate(test)[f"{k}x{k}"]
        model.processor.num_steps = None
        out[f"{k}x{k}"] = row
    return out


def plot(record: dict[str, Any], path: Path) -> None:
    """Test MSE per mesh at the model's rounds (solid) and 8 more (dashed), per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("shipped", "control", "jitter"):
        sizes = list(record[name])
        line = ax.plot(sizes, [record[name][k]["own"] for k in sizes], "o-", label=name)[0]
        ax.plot(sizes, [record[name][k]["own_plus_8"] for k in sizes], "s--",
                color=line.get_color(), lw=1)
    ax.set(yscale="log", xlabel="mesh", ylabel="test MSE",
           title="own rounds T (solid) and T + 8 (dashed)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name="round_jitter")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--extra", type=int, default=8, help="extra rounds drawn in 0..EXTRA")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 7, 10, 14])
    args = parser.parse_args(argv)
    h.set_threads(args.threads)
    record = h.header("round_jitter.py", argv, quick=args.quick, seeds=[0])
    _, exp = pretrained.load("poisson_square_relative", with_config=True)
    data = replace(exp.data, root=str(h.run_folder(h.result_name(args)) / "data"))
    if args.quick:
        data = replace(data, num_instances=4, num_test_instances=1, options={"n": 21})
        args.epochs, args.sizes = 1, [3, 4]
    splits = build_datasets(data, log=False)
    meshes = {f"{k}x{k}": grid(k) for k in exp.data.mesh_sizes or ()}
    record.update({"epochs": args.epochs, "extra": args.extra, "lr": args.lr,
                   "test_scenarios": len(splits["test"])})
    record["shipped"] = test_table(pretrained.load("poisson_square_relative"), splits["test"],
                                   args.sizes)
    for name, extra in (("control", 0), ("jitter", args.extra)):
        torch.manual_seed(0)
        model = pretrained.load("poisson_square_relative").train()
        trainer = Trainer(model, splits["train"], meshes=meshes, augment=JitterRounds(extra),
                          config=TrainConfig(epochs=args.epochs, lr=args.lr, schedule="cosine",
                                             progress=False, group_by="house"))
        trainer.fit()
        record[name] = test_table(model.eval(), splits["test"], args.sizes)
        record[f"{name}_train_seconds"] = trainer.train_seconds
    for name in ("shipped", "control", "jitter"):
        print(name + ": " + "; ".join(
            f"{k} {v['own']:.4f} / +8 {v['own_plus_8']:.4f} / T=12 {v['fixed_12']:.4f}"
            for k, v in record[name].items()), flush=True)
    path = h.write_record(h.result_name(args), record, args.out)
    plot(record, h.figure_path(args))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
