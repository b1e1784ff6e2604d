"""Where the one weight set fails on meshes bigger than it was trained on: a profile, round by
round, of the shipped ``poisson_square_relative`` model (one weight set trained on grids
2x2..7x7; the package's ``poisson_square`` model until round 8).

For every grid size k and every number of message-passing rounds t = 0..T (the mesh diameter
2(k-1) is what the model uses; more are run to see what extra rounds do), the test MSE of the
predictions decoded after t rounds and the mean norm of the node states, next to the mean
norm of the encoded states z0 (how much input each node sees, which falls as the nodes get
denser). No training: the weights are the shipped ones (``gen_pyg.pretrained``).

    python benchmarks/size_profile.py            # k = 4, 7, 10, 14 on 10 test houses
    python benchmarks/size_profile.py --quick    # k = 3, 4 on 1 house, seconds
    python benchmarks/size_profile.py --pair size_screen:bilinear_relative_recall \
        --name size_profile_recall                # a trained run of a record instead

``--shared-with K`` compares every size k whose grid contains the K x K grid's nodes ((k - 1)
a multiple of (K - 1): 13 and 19 for K = 7) with K x K on the nodes they share: the relative
difference of the node states there after each round, and the test MSE of k's final states
decoded on the K x K grid from those shared nodes alone. It tells the processor's drift from
the decoder's: where k's states decoded on K's nodes beat K, the finer mesh computed better
states and only its decoding lost.

Writes ``benchmarks/results/size_profile.json`` and ``size_profile.png``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from _poisson import data_config, model_config
from gen_pyg import pretrained
from gen_pyg.mesh import grid
from gen_pyg.training import (
    TrainConfig,
    Trainer,
    build_datasets,
    build_model,
    load_checkpoint,
)


def model_rounds(model: Any, k: int) -> int:
    """The rounds the model runs on the k x k grid (its num_steps, else the diameter)."""
    return int(model.steps_for(grid(k)))


def shared_nodes(k: int, coarse: int) -> torch.Tensor:
    """Indices in the k x k grid of the nodes of the coarse grid (row-major, as grid())."""
    step = (k - 1) // (coarse - 1)
    return torch.tensor([k * step * i + step * j for i in range(coarse)
                         for j in range(coarse)])


@torch.no_grad()
def shared_profile(model: Any, trainer: Trainer, groups: list[Any], k: int,
                   coarse: int) -> dict[str, Any]:
    """k x k against the coarse grid on their shared nodes: the relative state difference
    there after each round, and the MSE of k's final states decoded on the coarse grid."""
    rounds = model_rounds(model, k)
    if model_rounds(model, coarse) != rounds:
        raise ValueError("--shared-with needs a model with a fixed number of rounds "
                         "(num_steps), so that both grids run the same rounds")
    fine_mesh, coarse_mesh, idx = grid(k), grid(coarse), shared_nodes(k, coarse)
    diff, ref = [0.0] * (rounds + 1), [0.0] * (rounds + 1)
    sq = {"coarse": 0.0, "fine": 0.0, "fine states decoded on coarse": 0.0}
    count = 0
    for g in groups:
        fb, cb = trainer.batch(g, fine_mesh, {}), trainer.batch(g, coarse_mesh, {})
        n = int(fb.num_graphs)
        # the shared nodes of every example of the batch (each example has k*k nodes)
        rows = (idx.view(1, -1) + (k * k) * torch.arange(n).view(-1, 1)).view(-1)
        zf, zc = model.encode(fb), model.encode(cb)
        zf0, zc0 = zf, zc
        for t in range(rounds + 1):
            if t:
                zf = model.process(zf, fb, num_steps=1, z0=zf0)
                zc = model.process(zc, cb, num_steps=1, z0=zc0)
            diff[t] += float((zf[rows] - zc).norm())
            ref[t] += float(zc.norm())

        def decode(z: torch.Tensor, b: Any) -> torch.Tensor:
            return model.decode(z, b)

        for key, pred in (("coarse", decode(zc, cb)), ("fine", decode(zf, fb)),
                          ("fine states decoded on coarse", decode(zf[rows], cb))):
            sq[key] += float(((pred - cb.y) ** 2).sum())
        count += cb.y.numel()
    return {"k": k, "coarse": coarse, "rounds": rounds,
            "relative_state_difference_after_round": [d / r for d, r in zip(diff, ref,
                                                                             strict=True)],
            "mse": {key: v / count for key, v in sq.items()}}


@torch.no_grad()
def profile(model: Any, trainer: Trainer, groups: list[Any], k: int, rounds: int,
            z0_scale: float = 1.0) -> dict[str, Any]:
    """MSE and mean node-state norm after each round t = 0..rounds on the k x k grid (with the
    encoded states multiplied by :obj:`z0_scale`)."""
    mesh = grid(k)
    sq = [0.0] * (rounds + 1)
    norms = [0.0] * (rounds + 1)
    count, nodes = 0, 0
    for g in groups:
        b = trainer.batch(g, mesh, {})
        z = z0 = model.encode(b) * z0_scale
        for t in range(rounds + 1):
            if t:  # a model with recall=True feeds back the encoding, not the last states
                z = model.process(z, b, num_steps=1, z0=z0)
            pred = model.decode(z, b)
            sq[t] += float(((pred - b.y) ** 2).sum())
            norms[t] += float(z.norm(dim=1).sum())
        count += b.y.numel()
        nodes += z.size(0)
    return {"k": k, "model_rounds": model_rounds(model, k), "z0_scale": z0_scale,
            "mse_after_round": [s / count for s in sq],
            "node_norm_after_round": [n / nodes for n in norms]}


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for row, scaled in zip(record["rows"], record["rows_z0_rescaled"], strict=True):
        t = range(len(row["mse_after_round"]))
        line = a.plot(t, row["mse_after_round"], label=f"{row['k']}x{row['k']}")[0]
        a.plot(t, scaled["mse_after_round"], color=line.get_color(), ls="--", lw=1)
        a.axvline(row["model_rounds"], color=line.get_color(), ls=":", lw=1)
        b.plot(t, row["node_norm_after_round"], color=line.get_color(),
               label=f"{row['k']}x{row['k']}")
    a.set(yscale="log", xlabel="message-passing rounds t", ylabel="test MSE decoded after t",
          title=f"{record.get('pair', 'shipped poisson_square_relative')} "
                "(trained on 2x2..7x7);"
                "\ndashed: z0 x k^2/49")
    b.set(xlabel="message-passing rounds t", ylabel="mean node-state norm")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name="size_profile")
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 7, 10, 14])
    parser.add_argument("--houses", type=int, default=10, help="test houses profiled")
    parser.add_argument("--extra-rounds", type=int, default=8,
                        help="rounds past the largest mesh's diameter")
    parser.add_argument("--shared-with", type=int, default=None, metavar="K",
                        help="compare each size whose grid contains K x K's nodes with K x K "
                             "on the shared nodes (see above)")
    parser.add_argument("--pair", default=None,
                        help="RECORD:RECIPE: profile seed 0 of a poisson_square record's runs "
                             "(on its own test houses) instead of the shipped model")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.houses, args.extra_rounds = [3, 4], 1, 2
    h.set_threads(args.threads)
    record = h.header("size_profile.py", argv, quick=args.quick, seeds=[0])
    if args.pair is not None:
        name, recipe = args.pair.split(":")
        source = json.loads((h.out_dir(args) / f"{name}.json").read_text())
        model = build_model(model_config(source["recipes"][recipe]["model"]), "poisson_square")
        model.load_state_dict(load_checkpoint(h.run_folder(name) / recipe / "seed0"
                                              / "checkpoint.pt")["model"])
        model.eval()
        data = data_config(source["data"], root=str(h.run_folder(name) / "data"))
        record["pair"] = args.pair
    else:
        model, exp = pretrained.load("poisson_square_relative", with_config=True)
        data = replace(exp.data, root=str(h.run_folder(h.result_name(args)) / "data"))
    if args.quick and args.pair is None:
        data = replace(data, num_instances=3, num_test_instances=1, options={"n": 21})
    test = build_datasets(data, log=False)["test"]
    trainer = Trainer(model, test, meshes=grid(2),
                      config=TrainConfig(progress=False, group_by="house"))
    groups = trainer._train_groups[: args.houses]
    # one round at a time is the model's own loop: checked on the trained 7x7 (or the first size)
    k0 = 7 if 7 in args.sizes else args.sizes[0]
    b = trainer.batch(groups[0], grid(k0), {})
    with torch.no_grad():
        z0 = model.encode(b)
        stepped = z0
        for _ in range(model_rounds(model, k0)):
            stepped = model.process(stepped, b, num_steps=1, z0=z0)
        torch.testing.assert_close(stepped, model.process(z0, b), rtol=1e-5, atol=1e-5)
    rounds = max(model_rounds(model, k) for k in args.sizes) + args.extra_rounds
    record["rows"] = []
    for k in args.sizes:
        row = profile(model, trainer, groups, k, rounds)
        record["rows"].append(row)
        t = row["model_rounds"]
        best = min(range(rounds + 1), key=lambda i: row["mse_after_round"][i])
        print(f"{k}x{k}: MSE at its {t} rounds {row['mse_after_round'][t]:.4f}, best "
              f"{row['mse_after_round'][best]:.4f} after {best} rounds; node norm z0 "
              f"{row['node_norm_after_round'][0]:.2f}, z{t} {row['node_norm_after_round'][t]:.2f}",
              flush=True)
    # the encoder sums weighted samples onto the nodes: with bilinear weights a node of a
    # k x k grid collects about 1/k^2 of the samples, so z0 shrinks with density. Rescaled to
    # the 7x7 grid's density (k^2 / 49), the states enter the rounds at the trained scale.
    record["rows_z0_rescaled"] = []
    for k in args.sizes:
        row = profile(model, trainer, groups, k, rounds, z0_scale=k * k / 49)
        record["rows_z0_rescaled"].append(row)
        t = row["model_rounds"]
        print(f"{k}x{k} z0 x {k * k / 49:.2f}: MSE at its {t} rounds "
              f"{row['mse_after_round'][t]:.4f}, best {min(row['mse_after_round']):.4f}",
              flush=True)
    if args.shared_with is not None:
        c = args.shared_with
        record["shared_with"] = []
        for k in args.sizes:
            if k > c and (k - 1) % (c - 1) == 0:
                row = shared_profile(model, trainer, groups, k, c)
                record["shared_with"].append(row)
                print(f"{k}x{k} on {c}x{c}'s nodes: relative state difference after each round "
                      + " ".join(f"{v:.3f}" for v in
                                 row["relative_state_difference_after_round"])
                      + "; MSE " + ", ".join(f"{key} {v:.4f}" for key, v in row["mse"].items()),
                      flush=True)
    record["houses"] = args.houses
    record["scenarios"] = sum(int(g.num_graphs) for g in groups)
    path = h.write_record(h.result_name(args), record, args.out)
    plot(record, h.figure_path(args))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
