"""The kernel pair encoder and decoder, per pair against fused, side by side in one run.

The mesh-independent GEN encodes every sample onto the nodes within three bandwidths of it
(``PairEncoder`` with ``GaussianKernel(0.08)``) and decodes every query from the nodes within
three bandwidths (``PairDecoder`` with ``GaussianKernel(0.08, normalize=True)``): about 30
nodes per point on a 14x14 grid and 900 on 80x80, so on fine meshes these pairs are most of
the work. Both layers' pair MLPs ``W2 relu(W1 [u, delta] + b1) + b2`` used to run on every
(point, node) pair ("per pair", the implementation before round 9, kept here as the
baseline). Now the first layer's term of ``u`` (a node's state, or a sample's value and
position) is computed once per node or sample, the weighted hidden layer is summed over the
pairs in the fused kernel the processor uses (``edge_relu_sum``), and ``W2`` is applied once
per query or node, after the sum ("fused"). The results are the same up to float round-off
(``max_abs_difference``, float32).

Each size k (a k x k grid) times a batch of 32 examples (256 queries, or 64 samples of two
input functions, each; latent 32, pair width 64, encoder width 48): the layer's forward with
no gradient (inference), and forward + backward with gradients to the node states or the
samples (a training step's part), best of ``--repeats``. A whole training step (forward,
backward, Adam) of the shipped model's architecture (random weights and data) is timed with
both layers per pair and both fused on 10x10 and 14x14 (``steps``).

    python benchmarks/pair_layers.py --threads 1
    python benchmarks/pair_layers.py --quick      # k = 4, 7: seconds

Writes ``benchmarks/results/pair_layers.json`` and ``.png`` (``pair_layers_quick.*`` with
--quick).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from gen_pyg.mesh import grid
from gen_pyg.nn import GaussianKernel, PairDecoder, PairEncoder

EXAMPLES, QUERIES, SAMPLES, LATENT = 32, 256, 64, 32


def decode_per_pair(dec: PairDecoder, z: Tensor, pos: Tensor, query_pos: Tensor,
                    batch: Tensor, query_batch: Tensor, chunk: int = 4096) -> Tensor:
    """The pair MLP on every (query, node) pair, weighted and summed chunk by chunk (the
    decoder's interpolation before it was fused)."""
    point, node, weight = dec.representation(query_pos, pos, query_batch, batch)
    scale = dec.representation.node_scale(pos)
    zq = z.new_zeros(query_pos.size(0), dec.pair_channels)
    for start in range(0, point.numel(), chunk):
        p, n = point[start:start + chunk], node[start:start + chunk]
        offset = (query_pos[p] - pos[n]) / scale[n].unsqueeze(-1)
        states = dec.pair(torch.cat([z[n], offset], 1))
        zq = zq.index_add(0, p, states * weight[start:start + chunk].unsqueeze(-1))
    return zq


def encode_per_pair(enc: PairEncoder, x: Tensor, xpos: Tensor, pos: Tensor, xbatch: Tensor,
                    batch: Tensor, fn: Tensor) -> Tensor:
    """Each sample's function head on every (sample, node) pair, then the weighted sum (the
    encoder before it was fused)."""
    point, node, weight = enc.representation(xpos, pos, xbatch, batch)
    offset = (xpos[point] - pos[node]) / enc.representation.node_scale(pos)[node].unsqueeze(-1)
    states = enc.heads(x[point], torch.cat([xpos[point], offset], 1), fn[point])
    pairs = torch.arange(point.numel())
    out: Tensor = enc.spatial(states, xpos[point], pos, assignment=(pairs, node, weight))
    return out


def time_both(ways: dict[str, Callable[[Tensor], Tensor]], u: Tensor, repeats: int,
              train: bool) -> dict[str, Any]:
    """Inference and forward + backward times of each way, and their largest difference."""
    with torch.no_grad():
        diff = (ways["fused"](u) - ways["per_pair"](u)).abs().max().item()
    row: dict[str, Any] = {"max_abs_difference": diff, "inference_ms": {},
                           "forward_backward_ms": {}}
    for name, fn in ways.items():
        with torch.no_grad():
            row["inference_ms"][name] = 1e3 * min(h.timeit(lambda: fn(u), repeats))
        if train:
            ug = u.clone().requires_grad_(True)
            row["forward_backward_ms"][name] = 1e3 * min(
                h.timeit(lambda: fn(ug).square().sum().backward(), repeats))
    row["inference_speedup"] = row["inference_ms"]["per_pair"] / row["inference_ms"]["fused"]
    if train:
        row["forward_backward_speedup"] = (row["forward_backward_ms"]["per_pair"]
                                           / row["forward_backward_ms"]["fused"])
    return row


def one_size(k: int, repeats: int, train: bool) -> dict[str, Any]:
    torch.manual_seed(k)
    mesh = grid(k)
    nodes = mesh.num_nodes
    pos = mesh.pos.repeat(EXAMPLES, 1)
    batch = torch.arange(EXAMPLES).repeat_interleave(nodes)
    query = torch.rand(EXAMPLES * QUERIES, 2)
    query_batch = torch.arange(EXAMPLES).repeat_interleave(QUERIES)
    z = torch.randn(EXAMPLES * nodes, LATENT)
    dec = PairDecoder(LATENT, 1, GaussianKernel(0.08, normalize=True))
    decoder = time_both(
        {"per_pair": lambda u: decode_per_pair(dec, u, pos, query, batch, query_batch),
         "fused": lambda u: dec.interpolate(u, pos, query, batch, query_batch)},
        z, repeats, train)
    enc = PairEncoder([1, 1], LATENT, GaussianKernel(0.08))
    xpos = torch.rand(EXAMPLES * SAMPLES, 2)
    xbatch = torch.arange(EXAMPLES).repeat_interleave(SAMPLES)
    fn = torch.arange(2).repeat(EXAMPLES * SAMPLES // 2)
    x = torch.rand(EXAMPLES * SAMPLES, 1)
    encoder = time_both(
        {"per_pair": lambda u: encode_per_pair(enc, u, xpos, pos, xbatch, batch, fn),
         "fused": lambda u: enc(u, xpos, pos, xbatch, batch, input_fn=fn)},
        x, repeats, train)
    decoder["pairs_per_query"] = (dec.representation(query, pos, query_batch, batch)[0].numel()
                                  / query.size(0))
    encoder["pairs_per_sample"] = (enc.representation(xpos, pos, xbatch, batch)[0].numel()
                                   / xpos.size(0))
    return {"k": k, "nodes_per_example": nodes, "decoder": decoder, "encoder": encoder}


def stencil_gen() -> torch.nn.Module:
    """The architecture of the shipped ``poisson_square`` model (recipe
    ``bilinear_relative_kernel_stencil``), random weights."""
    from gen_pyg.training import ModelConfig

    return ModelConfig(representation="bilinear", relative_pos=True, encoder_kernel=0.08,
                       processor_radius=0.36, processor_stencil=16, num_steps=6, aggr="mean",
                       decoder_kernel=0.08).build_gen(in_channels=[1, 1])


def whole_step(k: int, repeats: int) -> dict[str, Any]:
    """A training step (forward, backward, Adam) of the whole GEN on a batch of 32 examples
    (64 samples of two functions, 256 queries) on the k x k grid, its encoder and decoder
    per pair and fused."""
    g = torch.Generator().manual_seed(k)
    mesh = grid(k)
    batch = Batch.from_data_list([
        Data(pos=mesh.pos, edge_index=mesh.edge_index, num_nodes=mesh.num_nodes,
             input_pos=torch.rand(SAMPLES, 2, generator=g),
             input_x=torch.rand(SAMPLES, 1, generator=g),
             input_fn=torch.arange(2).repeat(SAMPLES // 2),
             query_pos=torch.rand(QUERIES, 2, generator=g),
             y=torch.rand(QUERIES, 1, generator=g)) for _ in range(EXAMPLES)],
        follow_batch=["input_pos", "query_pos"])
    torch.manual_seed(0)
    model = stencil_gen()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    enc, dec = model.encoder, model.decoder

    def decode(z: Tensor, pos: Tensor, query_pos: Tensor, batch: Tensor, query_batch: Tensor,
               **_: Any) -> Tensor:
        return decode_per_pair(dec, z, pos, query_pos, batch, query_batch)

    def encode(x: Tensor, xpos: Tensor, pos: Tensor, xbatch: Tensor, batch: Tensor, *,
               input_fn: Tensor, **_: Any) -> Tensor:
        return encode_per_pair(enc, x, xpos, pos, xbatch, batch, input_fn)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(model(batch), batch.y).backward()
        optimizer.step()

    row: dict[str, Any] = {"k": k, "step_ms": {}}
    for name in ("per_pair", "fused"):
        if name == "per_pair":  # instance attributes shadow the fused methods
            dec.interpolate, enc.forward = decode, encode  # type: ignore[method-assign]
        else:
            del dec.interpolate, enc.forward
        row["step_ms"][name] = 1e3 * min(h.timeit(step, repeats))
    row["step_speedup"] = row["step_ms"]["per_pair"] / row["step_ms"]["fused"]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name="pair_layers")
    parser.add_argument("--sizes", type=int, nargs="+", default=[7, 14, 20, 40, 80])
    parser.add_argument("--train-up-to", type=int, default=40,
                        help="time forward + backward for k up to this (default %(default)s)")
    parser.add_argument("--step-sizes", type=int, nargs="+", default=[10, 14],
                        help="grids of the whole-GEN training steps (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.step_sizes, args.repeats = [4, 7], [4], 1
    threads = h.set_threads(args.threads)
    record = h.header("pair_layers.py", argv, quick=args.quick)
    rows = []
    for k in args.sizes:
        row = one_size(k, args.repeats, k <= args.train_up_to)
        rows.append(row)
        for layer in ("decoder", "encoder"):
            r = row[layer]
            inf, fb = r["inference_ms"], r["forward_backward_ms"]
            print(f"{k}x{k} {layer}: inference per pair {inf['per_pair']:.1f} ms, fused "
                  f"{inf['fused']:.1f} ms ({r['inference_speedup']:.1f}x)"
                  + (f"; forward+backward {fb['per_pair']:.1f} / {fb['fused']:.1f} ms "
                     f"({r['forward_backward_speedup']:.1f}x)" if fb else "")
                  + f"; max |difference| {r['max_abs_difference']:.1e}", flush=True)
    steps = []
    for k in args.step_sizes:
        steps.append(whole_step(k, args.repeats))
        ms = steps[-1]["step_ms"]
        print(f"training step of the stencil GEN, {k}x{k}: per pair {ms['per_pair']:.0f} ms, "
              f"fused {ms['fused']:.0f} ms ({steps[-1]['step_speedup']:.2f}x)", flush=True)
    record.update({"threads": threads, "examples": EXAMPLES, "queries": QUERIES,
                   "samples": SAMPLES, "latent": LATENT,
                   "kernels": {"encoder": "GaussianKernel(0.08)",
                               "decoder": "GaussianKernel(0.08, normalize=True)"},
                   "what": "best of repeats, ms per batch", "rows": rows, "steps": steps})
    path = h.write_record(h.result_name(args), record, h.out_dir(args))
    plot(rows, path.with_suffix(".png"))
    print(f"wrote {h.relative(path)} and its figure")
    return 0


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, layer in zip(axes, ("decoder", "encoder"), strict=True):
        for kind, style in (("inference_ms", "-"), ("forward_backward_ms", "--")):
            for name, color in (("per_pair", "tab:red"), ("fused", "tab:blue")):
                pts = [(r["nodes_per_example"], r[layer][kind][name]) for r in rows
                       if name in r[layer][kind]]
                ax.plot(*zip(*pts, strict=True), style, marker="o", color=color,
                        label=f"{name}, {kind.removesuffix('_ms').replace('_', ' + ')}")
        ax.set(xscale="log", yscale="log", xlabel="mesh nodes per example (k x k)",
               ylabel="ms per batch of 32 examples", title=f"Pair{layer.capitalize()}, "
               "kernel 0.08")
        ax.set_xticks([r["nodes_per_example"] for r in rows],
                      [f"{r['k']}x{r['k']}" for r in rows])
        ax.minorticks_off()
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
