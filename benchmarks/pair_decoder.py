"""The kernel pair decoder, per pair against fused, side by side in one run on the same batches.

The mesh-independent GEN decodes every query from the nodes within three bandwidths of it
(``PairDecoder`` with ``GaussianKernel(0.08, normalize=True)``): about 30 nodes per query on a
14x14 grid, about 1,100 on 80x80, so on fine meshes the decoder is most of the work. Its pair
MLP ``d'(z_n, delta_qn) = W2 relu(Wz z_n + Wd delta_qn + b1) + b2`` used to be applied to every
(query, node) pair, in chunks of 4,096 pairs ("per pair", the implementation before round 9,
kept here as the baseline). ``PairDecoder`` now computes ``Wz z_n`` once per node, sums the
weighted hidden layer over each query's pairs in the fused kernel the processor uses
(``edge_relu_sum``), and applies ``W2`` once per query ("fused"); the answers are the same up
to float round-off (``max_abs_difference``, float32).

Each size k (a k x k grid) times a batch of 32 examples of 256 queries each (latent 32, pair
width 64): the decoder's forward with no gradient (inference), and forward + backward of
both with gradients to the states (a training step's decoder part), best of ``--repeats``.

    python benchmarks/pair_decoder.py --threads 1
    python benchmarks/pair_decoder.py --quick      # k = 4, 7: seconds

Writes ``benchmarks/results/pair_decoder.json`` and ``.png`` (``pair_decoder_quick.*`` with
--quick).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from gen_pyg.mesh import grid
from gen_pyg.nn import GaussianKernel, PairDecoder

EXAMPLES, QUERIES, LATENT = 32, 256, 32


def per_pair(dec: PairDecoder, z: Tensor, pos: Tensor, query_pos: Tensor, batch: Tensor,
             query_batch: Tensor, chunk: int = 4096) -> Tensor:
    """The pair MLP on every (query, node) pair, weighted and summed chunk by chunk (the
    decoder before it was fused)."""
    point, node, weight = dec.representation(query_pos, pos, query_batch, batch)
    scale = dec.representation.node_scale(pos)
    zq = z.new_zeros(query_pos.size(0), dec.pair_channels)
    for start in range(0, point.numel(), chunk):
        p, n = point[start:start + chunk], node[start:start + chunk]
        offset = (query_pos[p] - pos[n]) / scale[n].unsqueeze(-1)
        states = dec.pair(torch.cat([z[n], offset], 1))
        zq = zq.index_add(0, p, states * weight[start:start + chunk].unsqueeze(-1))
    return zq


def one_size(k: int, repeats: int, train: bool) -> dict[str, Any]:
    torch.manual_seed(k)
    dec = PairDecoder(LATENT, 1, GaussianKernel(0.08, normalize=True))
    mesh = grid(k)
    nodes = mesh.num_nodes
    pos = mesh.pos.repeat(EXAMPLES, 1)
    batch = torch.arange(EXAMPLES).repeat_interleave(nodes)
    query = torch.rand(EXAMPLES * QUERIES, 2)
    query_batch = torch.arange(EXAMPLES).repeat_interleave(QUERIES)
    z = torch.randn(EXAMPLES * nodes, LATENT)
    pairs = dec.representation(query, pos, query_batch, batch)[0].numel()
    ways = {"per_pair": lambda x: per_pair(dec, x, pos, query, batch, query_batch),
            "fused": lambda x: dec.interpolate(x, pos, query, batch, query_batch)}
    with torch.no_grad():
        diff = (ways["fused"](z) - ways["per_pair"](z)).abs().max().item()
    row: dict[str, Any] = {"k": k, "nodes_per_example": nodes, "pairs": pairs,
                           "pairs_per_query": pairs / query.size(0),
                           "max_abs_difference": diff, "inference_ms": {},
                           "forward_backward_ms": {}}
    for name, fn in ways.items():
        with torch.no_grad():
            row["inference_ms"][name] = 1e3 * min(h.timeit(lambda: fn(z), repeats))
        if train:
            zg = z.clone().requires_grad_(True)
            row["forward_backward_ms"][name] = 1e3 * min(
                h.timeit(lambda: fn(zg).square().sum().backward(), repeats))
    row["inference_speedup"] = row["inference_ms"]["per_pair"] / row["inference_ms"]["fused"]
    if train:
        row["forward_backward_speedup"] = (row["forward_backward_ms"]["per_pair"]
                                           / row["forward_backward_ms"]["fused"])
    return row


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name="pair_decoder")
    parser.add_argument("--sizes", type=int, nargs="+", default=[7, 14, 20, 40, 80])
    parser.add_argument("--train-up-to", type=int, default=40,
                        help="time forward + backward for k up to this (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = [4, 7], 1
    threads = h.set_threads(args.threads)
    record = h.header("pair_decoder.py", argv, quick=args.quick)
    rows = []
    for k in args.sizes:
        row = one_size(k, args.repeats, k <= args.train_up_to)
        rows.append(row)
        fb = row["forward_backward_ms"]
        print(f"{k}x{k}: {row['pairs_per_query']:.0f} pairs/query; inference per pair "
              f"{row['inference_ms']['per_pair']:.1f} ms, fused {row['inference_ms']['fused']:.1f}"
              f" ms ({row['inference_speedup']:.1f}x)"
              + (f"; forward+backward {fb['per_pair']:.1f} / {fb['fused']:.1f} ms "
                 f"({row['forward_backward_speedup']:.1f}x)" if fb else "")
              + f"; max |difference| {row['max_abs_difference']:.1e}", flush=True)
    record.update({"threads": threads, "examples": EXAMPLES, "queries": QUERIES,
                   "latent": LATENT, "kernel": "GaussianKernel(0.08, normalize=True)",
                   "what": "best of repeats, ms per batch", "rows": rows})
    path = h.write_record(h.result_name(args), record, h.out_dir(args))
    plot(rows, path.with_suffix(".png"))
    print(f"wrote {h.relative(path)} and its figure")
    return 0


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for kind, style in (("inference_ms", "-"), ("forward_backward_ms", "--")):
        for name, color in (("per_pair", "tab:red"), ("fused", "tab:blue")):
            pts = [(r["pairs_per_query"], r[kind][name]) for r in rows if name in r[kind]]
            ax.plot(*zip(*pts, strict=True), style, marker="o", color=color,
                    label=f"{name}, {kind.removesuffix('_ms').replace('_', ' + ')}")
    for r in rows:
        ax.annotate(f"{r['k']}x{r['k']}", (r["pairs_per_query"], r["inference_ms"]["fused"]),
                    textcoords="offset points", xytext=(4, -12), fontsize=7)
    ax.set(xscale="log", yscale="log", xlabel="nodes per query (pairs)",
           ylabel="ms per batch (32 x 256 queries)", title="PairDecoder, kernel 0.08")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
