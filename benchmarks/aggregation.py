"""Is torch_scatter faster than what the package does now? The two aggregations of a GEN,
timed side by side in one run for every implementation on the same tensors, forward and
forward + backward, at N = 1e3..1e5 nodes:

* ``genconv``: the sum of edge messages ``[E, H]`` onto their target nodes (edges sorted by
  target, as ``curve_order`` leaves them): ``index_add`` (what ``ElementConv``'s fused backend
  does, in chunks), PyG's ``utils.scatter``, ``torch_scatter.segment_coo`` and
  ``segment_csr`` on the CSR pointer of the sorted targets;
* ``encoder``: the spatial encoder's weighted sum of point features onto nodes,
  ``out[r] = sum_e w_e x[c_e]`` over (node, point) pairs grouped by node: the package's
  chunked ``ops.spmm``, an unchunked gather + ``index_add``, ``segment_coo``, ``segment_csr``
  and ``torch.sparse.mm`` on a CSR matrix (what ``torch_geometric.utils.spmm`` calls);
* ``genconv_layer sum`` / ``max``: a whole ``ElementConv(32, backend="propagate")`` round on a
  grid with edges sorted by target, PyG's scatter (``pyg_scatter``) against the CSR pointer
  path (``segment_csr``) that ``ElementConv`` takes from ``CSR_MIN_NODES`` nodes on; this decides
  that threshold.

Every implementation is checked against ``index_add`` (forward values and gradients) before
it is timed. Reproduce (about two minutes on 2 cores)::

    python benchmarks/aggregation.py            # --quick: seconds

Writes ``benchmarks/results/aggregation.json`` and ``aggregation.png`` (``_quick`` with
``--quick``).
"""

from __future__ import annotations

import statistics
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

import _harness as h
from _harness import timeit
from gen_pyg.mesh import grid
from gen_pyg.ops._sparse import spmm

try:
    import torch_scatter
except ImportError:  # pragma: no cover - the stack requires it; the record says so
    torch_scatter = None


def _rowptr(index: Tensor, size: int) -> Tensor:
    counts = torch.bincount(index, minlength=size)
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


def genconv_ops(dst: Tensor, n: int) -> dict[str, Callable[[Tensor], Tensor]]:
    """Sum of messages ``m`` [E, H] onto the sorted targets ``dst``."""
    from torch_geometric.utils import scatter

    ptr = _rowptr(dst, n)
    ops: dict[str, Callable[[Tensor], Tensor]] = {
        "index_add": lambda m: m.new_zeros(n, m.size(1)).index_add(0, dst, m),
        "pyg_scatter": lambda m: scatter(m, dst, 0, n, reduce="sum"),
    }
    if torch_scatter is not None:
        ops["segment_coo"] = lambda m: torch_scatter.segment_coo(m, dst, dim_size=n)
        ops["segment_csr"] = lambda m: torch_scatter.segment_csr(m, ptr)
    return ops


def encoder_ops(row: Tensor, col: Tensor, n: int) -> dict[str, Callable[[Tensor, Tensor], Tensor]]:
    """``out[r] = sum_e w_e x[col_e]`` over pairs sorted by ``row``."""
    ptr = _rowptr(row, n)

    def sparse_mm(w: Tensor, x: Tensor) -> Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            a = torch.sparse_csr_tensor(ptr, col, w, (n, x.size(0)))
        return torch.sparse.mm(a, x)

    ops: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
        "index_add": lambda w, x: x.new_zeros(n, x.size(1)).index_add(
            0, row, x.index_select(0, col) * w.unsqueeze(1)),
        "ops_spmm": lambda w, x: spmm(row, col, w, x, n),
        "torch_sparse_mm": sparse_mm,
    }
    if torch_scatter is not None:
        ops["segment_coo"] = lambda w, x: torch_scatter.segment_coo(
            x.index_select(0, col) * w.unsqueeze(1), row, dim_size=n)
        ops["segment_csr"] = lambda w, x: torch_scatter.segment_csr(
            x.index_select(0, col) * w.unsqueeze(1), ptr)
    return ops


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    return 1e3 * statistics.median(timeit(fn, repeats))


def time_ops(ops: dict[str, Callable[..., Tensor]], inputs: list[Tensor], repeats: int,
             rounds: int) -> dict[str, dict[str, Any]]:
    """Check every op against ``index_add`` (values and gradients), then time forward and
    forward + backward, the ops interleaved over ``rounds`` so load changes hit all. An op
    that cannot run (out of memory) is recorded with its error instead of a time."""
    ops = dict(ops)
    grads: dict[str, list[Tensor]] = {}
    ref_out = None
    failed: dict[str, str] = {}
    for name, op in list(ops.items()):
        leaves = [t.detach().requires_grad_(True) for t in inputs]
        try:
            out = op(*leaves)
            out.backward(torch.ones_like(out))
        except RuntimeError as exc:  # e.g. a backward that densifies the sparse matrix
            failed[name] = str(exc).splitlines()[0][:200]
            del ops[name]
            continue
        grads[name] = [leaf.grad for leaf in leaves if leaf.grad is not None]
        if ref_out is None:
            ref_out = out.detach()
        else:
            torch.testing.assert_close(out.detach(), ref_out, rtol=1e-4, atol=1e-4, msg=name)
            for a, b in zip(grads[name], grads["index_add"], strict=True):
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4, msg=name)
    fwd: dict[str, list[float]] = {n: [] for n in ops}
    both: dict[str, list[float]] = {n: [] for n in ops}
    for _ in range(rounds):
        for name, op in ops.items():
            with torch.no_grad():
                fwd[name].append(_median_ms(lambda op=op: op(*inputs), repeats))
            leaves = [t.detach().requires_grad_(True) for t in inputs]

            def step(op: Callable[..., Tensor] = op, leaves: list[Tensor] = leaves) -> None:
                op(*leaves).sum().backward()

            both[name].append(_median_ms(step, repeats))
    timed: dict[str, dict[str, Any]] = {
        n: {"forward_ms": min(fwd[n]), "forward_backward_ms": min(both[n])} for n in ops}
    return {**timed, **{n: {"error": msg} for n, msg in failed.items()}}


def fused_chunks(k: int, channels: int, repeats: int, rounds: int) -> dict[str, Any]:
    """ElementConv's fused kernel sums its edges in chunks of ``EDGE_CHUNK`` (so no ``[E, H]``
    tensor exists): ``index_add_`` per chunk, as it does, against ``segment_csr`` on each
    chunk's node range, forward, on a k x k grid."""
    from gen_pyg.ops._fused_edges import EDGE_CHUNK

    mesh = grid(k)
    n = mesh.num_nodes
    dst = torch.sort(mesh.edge_index[1]).values
    m = torch.randn(dst.numel(), channels)

    def with_index_add() -> Tensor:
        out = m.new_zeros(n, channels)
        for s in range(0, dst.numel(), EDGE_CHUNK):
            out.index_add_(0, dst[s : s + EDGE_CHUNK], m[s : s + EDGE_CHUNK])
        return out

    def with_segment_csr() -> Tensor:
        out = m.new_zeros(n, channels)
        for s in range(0, dst.numel(), EDGE_CHUNK):
            i = dst[s : s + EDGE_CHUNK]
            lo, hi = int(i[0]), int(i[-1]) + 1
            ptr = torch.searchsorted(i, torch.arange(lo, hi + 1))
            out[lo:hi] += torch_scatter.segment_csr(m[s : s + EDGE_CHUNK], ptr)
        return out

    torch.testing.assert_close(with_segment_csr(), with_index_add())
    times: dict[str, list[float]] = {"index_add": [], "segment_csr": []}
    for _ in range(rounds):
        times["index_add"].append(_median_ms(with_index_add, repeats))
        times["segment_csr"].append(_median_ms(with_segment_csr, repeats))
    return {"nodes": n, "pairs": int(dst.numel()), "chunk": EDGE_CHUNK,
            "forward_ms": {name: min(t) for name, t in times.items()}}


def genconv_layer(k: int, aggr: str, repeats: int, rounds: int) -> dict[str, Any]:
    """One propagate-backend ElementConv round, forward and forward + backward, with and without
    the CSR pointer (the threshold forced either way), same weights and inputs."""
    import gen_pyg.nn.conv.element_conv as gen_conv
    from gen_pyg.nn import ElementConv

    mesh = grid(k).sort(sort_by_row=False)
    conv = ElementConv(32, aggr=aggr, backend="propagate")
    x = torch.randn(mesh.num_nodes, 32)
    attr = conv.edge_geometry(mesh.pos, mesh.edge_index)
    saved = gen_conv.CSR_MIN_NODES

    def op(threshold: int) -> Callable[[Tensor], Tensor]:
        def call(h: Tensor) -> Tensor:
            gen_conv.CSR_MIN_NODES = threshold
            try:
                return conv(h, mesh.edge_index, geometry=attr)
            finally:
                gen_conv.CSR_MIN_NODES = saved
        return call

    ops = {"index_add": op(2**62), "segment_csr": op(0)}  # the reference comes first
    res = time_ops(ops, [x], repeats, rounds)
    res["pyg_scatter"] = res.pop("index_add")  # PyG's scatter is what the layer calls
    return {"what": f"genconv_layer {aggr}", "nodes": mesh.num_nodes,
            "pairs": int(mesh.edge_index.size(1)), "ops": res}


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--chunks", action="store_true",
                        help="only the fused kernel's chunked sum at 1e5 nodes "
                             "(writes aggregation_chunks.json)")
    args = parser.parse_args(argv)
    h.set_threads(args.threads)
    header = h.header("aggregation.py", argv, quick=args.quick)
    if args.chunks and torch_scatter is not None:
        torch.manual_seed(0)
        row = fused_chunks(316, args.channels, 15, args.rounds)
        print(f"fused kernel chunks, N={row['nodes']}: " + "  ".join(
            f"{k} {v:.2f} ms" for k, v in row["forward_ms"].items()))
        h.write_record("aggregation_chunks", {
            **header, "what": "median of 15 forward calls, best of rounds, ms",
            "torch_scatter": torch_scatter.__version__, "row": row}, h.out_dir(args))
        return 0
    sizes = [32, 100, 316]  # k x k grids: 1e3, 1e4, 1e5 nodes
    if args.quick:
        sizes, args.repeats, args.rounds = [10], 2, 1
    torch.manual_seed(0)
    rows: list[dict[str, Any]] = []
    for k in sizes:
        mesh = grid(k)
        n = mesh.num_nodes
        dst = mesh.edge_index[1]
        order = torch.argsort(dst, stable=True)  # sorted by target, as curve_order leaves them
        dst = dst[order].contiguous()
        m = torch.randn(dst.numel(), args.channels)
        res = time_ops(genconv_ops(dst, n), [m], args.repeats, args.rounds)
        rows.append({"what": "genconv", "nodes": n, "pairs": int(dst.numel()), "ops": res})
        # encoder: 4 points per node, each in about 4 distinct (node, point) pairs
        points = 4 * n
        pair = torch.unique(torch.randint(0, n * points, (4 * points,)))  # sorted by row
        pair_row, pair_col = pair // points, pair % points
        w = torch.rand(pair_row.numel())
        x = torch.randn(points, args.channels)
        res = time_ops(encoder_ops(pair_row, pair_col, n), [w, x], args.repeats, args.rounds)
        rows.append({"what": "encoder", "nodes": n, "pairs": int(pair_row.numel()), "ops": res})
        if torch_scatter is not None:
            rows += [genconv_layer(k, aggr, args.repeats, args.rounds) for aggr in ("sum", "max")]
        for r in rows[-4 if torch_scatter is not None else -2:]:
            ok = [o for o in r["ops"] if "error" not in r["ops"][o]]
            best = min(ok, key=lambda o: r["ops"][o]["forward_backward_ms"])
            r["fastest_forward_backward"] = best
            line = "  ".join(f"{o} {v['forward_ms']:.2f}/{v['forward_backward_ms']:.2f}"
                             if "error" not in v else f"{o} FAILED ({v['error'][:60]})"
                             for o, v in r["ops"].items())
            print(f"{r['what']:>8} N={n:>6} pairs={r['pairs']:>7}: {line}  (ms fwd/fwd+bwd; "
                  f"fastest {best})", flush=True)
    record = {
        **header, "channels": args.channels, "repeats": args.repeats,
        "rounds": args.rounds, "torch_scatter": getattr(torch_scatter, "__version__", None),
        "what": "median over repeats, best of rounds, of one call (forward) or one call and "
                "its backward (forward_backward), ms",
        "rows": rows,
    }
    path = h.write_record(h.result_name(args, "aggregation"), record, h.out_dir(args))
    plot(rows, path.with_suffix(".png"))
    print(f"wrote {path}")
    return 0


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, what in zip(axes, ("genconv", "encoder"), strict=True):
        mine = [r for r in rows if r["what"] == what]
        for op in mine[0]["ops"]:
            ok = [r for r in mine if "error" not in r["ops"].get(op, {"error": ""})]
            ax.plot([r["nodes"] for r in ok],
                    [r["ops"][op]["forward_backward_ms"] for r in ok], "o-", label=op)
        ax.set(xscale="log", yscale="log", xlabel="nodes", ylabel="forward + backward [ms]",
               title=f"{what} aggregation")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
