"""Cost of a GEN forward + backward pass as the mesh and the number of points grow.

GEN with sparse ``SoftNearest(k=8)``, T = 10 message-passing steps, paper sizes otherwise, on a
random mesh of N nodes (8-nearest-neighbour edges, both directions) and P = Q random points.
The mesh's nodes are renumbered along a Z-curve with ``gen_pyg.mesh.curve_order`` (the same
mesh; ``--node-order random`` keeps the generated numbering); the two cells of the linearity
target are also measured with the other numbering, for comparison.
Every configuration runs in a fresh subprocess so that its peak resident memory (ru_maxrss) is
its own; the import baseline of an empty run is reported too. With glibc's default (dynamic)
mmap threshold, freed multi-megabyte temporaries stay in the heap, so peak RSS overstates what
the computation holds (1216 vs 682 MiB for one N=1e4 forward); ``--mmap-threshold 65536``
sets ``MALLOC_MMAP_THRESHOLD_`` in the subprocesses for a tighter memory figure, at the cost
of time (every large temporary is then a fresh mmap). Timings use the default allocator.

Also: dense (exactly the paper) vs sparse soft nearest neighbours at the paper's sizes
(k x k meshes, k = 2..7, 32 scenarios x (up to 64 inputs + 256 queries)).

    python benchmarks/scaling.py            # full grid (about 10 minutes on 2 cores)
    python benchmarks/scaling.py --quick    # seconds: the same steps on tiny sizes

``--quick`` measures only (N, P) = (100, 1e3) and (1e3, 1e4), which also stand in for the
linearity pair, with one timed repeat and without the other node numbering's comparison,
and the paper sizes for k = 2, 3 only.

Writes benchmarks/results/scaling.json and benchmarks/results/scaling.png (``scaling_quick.*``
with ``--quick``, ``scaling_selected[_quick].*`` with ``--only``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from _harness import peak_rss_mb, timeit


def random_mesh_example(
    num_nodes: int, num_points: int, seed: int = 0, node_order: str = "curve"
) -> object:
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    from gen_pyg.ops import knn

    g = torch.Generator().manual_seed(seed)
    pos = torch.rand(num_nodes, 2, generator=g)
    k = min(8, num_nodes - 1)
    nbr = knn(pos, pos, k + 1)
    nbr = nbr[:, nbr[0] != nbr[1]]
    edge_index = to_undirected(nbr.flip(0), num_nodes=num_nodes)
    if node_order == "curve":  # renumber along a Z-curve, as gen_pyg.mesh.curve_order advises
        from gen_pyg.mesh import curve_order

        mesh = curve_order(Data(pos=pos, edge_index=edge_index))
        pos, edge_index = mesh.pos, mesh.edge_index
    return Data(
        pos=pos,
        edge_index=edge_index,
        input_pos=torch.rand(num_points, 2, generator=g),
        input_x=torch.rand(num_points, 1, generator=g),
        query_pos=torch.rand(num_points, 2, generator=g),
        y=torch.rand(num_points, 1, generator=g),
        num_nodes=num_nodes,
    )


def run_one(
    num_nodes: int, num_points: int, repeats: int, node_order: str = "curve"
) -> dict[str, float]:
    """Time forward + backward in this process (called in a subprocess)."""
    from gen_pyg.nn import GEN, SoftNearest

    torch.manual_seed(0)
    data = random_mesh_example(num_nodes, num_points, node_order=node_order)
    model = GEN.paper(num_steps=10, representation=SoftNearest(k=8))
    base = peak_rss_mb()

    def step() -> None:
        model.zero_grad(set_to_none=True)
        out = model(data)
        torch.nn.functional.mse_loss(out, data.y).backward()

    times = timeit(step, repeats=repeats, warmup=1)
    return {
        "seconds_min": min(times),
        "seconds_median": sorted(times)[len(times) // 2],
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": base,
    }


def paper_sizes(repeats: int, mesh_sizes: range = range(2, 8)) -> list[dict[str, float]]:
    """Dense vs sparse soft nearest neighbours on k x k meshes, batches of 32 scenarios."""
    from torch_geometric.data import Batch, Data

    from gen_pyg.mesh import grid
    from gen_pyg.nn import GEN, SoftNearest

    rows = []
    for k in mesh_sizes:
        mesh = grid(k)  # the paper's k x k grid with Delaunay edges
        pos, edge_index = mesh.pos, mesh.edge_index
        g = torch.Generator().manual_seed(k)
        examples = [
            Data(
                pos=pos,
                edge_index=edge_index,
                input_pos=torch.rand(64, 2, generator=g),
                input_x=torch.rand(64, 1, generator=g),
                query_pos=torch.rand(256, 2, generator=g),
                y=torch.rand(256, 1, generator=g),
            )
            for _ in range(32)
        ]
        batch = Batch.from_data_list(examples, follow_batch=["input_pos", "query_pos"])
        row: dict[str, float] = {"k": k, "nodes": k * k}
        for name, rep in (("dense", SoftNearest()), ("sparse_k8", SoftNearest(k=8))):
            model = GEN.paper(num_steps=2 * (k - 1), representation=rep)

            def step(model: GEN = model) -> None:
                model.zero_grad(set_to_none=True)
                torch.nn.functional.mse_loss(model(batch), batch.y).backward()

            row[f"{name}_ms"] = 1e3 * min(timeit(step, repeats=repeats))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__)  # --quick: tiny sizes, seconds
    parser.add_argument("--one", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (default 3)")
    parser.add_argument(
        "--mmap-threshold",
        type=int,
        default=None,
        help="set MALLOC_MMAP_THRESHOLD_ (bytes) in the subprocesses (tighter peak RSS)",
    )
    parser.add_argument(
        "--only",
        nargs=2,
        type=int,
        action="append",
        help="measure only these (N, P) pairs (repeatable)",
    )
    parser.add_argument(
        "--node-order",
        choices=["curve", "random"],
        default="curve",
        help="mesh node numbering: along a Z-curve (gen_pyg.mesh.curve_order) or as generated",
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    threads = h.set_threads(args.threads)
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], args.repeats, args.node_order)))
        return 0
    header = h.header("scaling.py", argv, quick=args.quick)

    if args.quick:  # the linearity pair scaled down 100 times, and just that
        big_cell, small_cell = (1_000, 10_000), (100, 1_000)
        grid_pairs = [small_cell, big_cell]
    else:
        big_cell, small_cell = (100_000, 1_000_000), (10_000, 100_000)
        nodes, points = [100, 1_000, 10_000, 100_000], [1_000, 10_000, 100_000, 1_000_000]
        grid_pairs = [(n, p) for n in nodes for p in points]
    pairs = [tuple(x) for x in args.only] if args.only else grid_pairs
    env = dict(os.environ)
    if args.mmap_threshold is not None:
        env["MALLOC_MMAP_THRESHOLD_"] = str(args.mmap_threshold)
    # --quick is a smoke test: its cells run in this process (no new interpreter per cell;
    # their peak RSS then includes the imports and the cells before)
    baseline = run_one(2, 1, 1, args.node_order) if args.quick else json.loads(
        subprocess.run(
            [sys.executable, __file__, "--one", "2", "1", "--repeats", "1",
             "--threads", str(threads)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
    )

    def measure(n: int, p: int, node_order: str) -> dict[str, object]:
        # one timed run for the big cells, except the two of the linearity target
        big = n * 10 + p >= 1_000_000 and (n, p) != big_cell
        repeats = 1 if big else args.repeats
        if args.quick:
            rec = {"nodes": n, "points": p, **run_one(n, p, repeats, node_order)}
            print(f"N={n:>7} P=Q={p:>8} ({node_order} order): {rec['seconds_min']:8.3f} s")
            return rec
        command = [sys.executable, __file__, "--one", str(n), str(p), "--repeats", str(repeats),
                   "--threads", str(threads)]
        proc = subprocess.run(
            [*command, "--node-order", node_order], capture_output=True, text=True, env=env
        )
        if proc.returncode != 0:
            print(f"N={n:>7} P=Q={p:>8} ({node_order} order): failed")
            return {"nodes": n, "points": p, "error": proc.stderr.strip()[-500:]}
        rec = {"nodes": n, "points": p, **json.loads(proc.stdout)}
        print(
            f"N={n:>7} P=Q={p:>8} ({node_order} order): {rec['seconds_min']:8.3f} s  "
            f"peak RSS {rec['peak_rss_mb']:8.0f} MiB",
            flush=True,
        )
        return rec

    grid = [measure(n, p, args.node_order) for n, p in pairs]

    def linearity_of(records: list[dict[str, object]]) -> dict[str, float]:
        times = {
            (r["nodes"], r["points"]): float(r["seconds_min"])  # type: ignore[arg-type]
            for r in records
            if "seconds_min" in r
        }
        big, small = times.get(big_cell), times.get(small_cell)
        if big is None or small is None:
            return {}
        return {
            f"t_N{sci(big_cell[0])}_P{sci(big_cell[1])}": big,
            f"t_N{sci(small_cell[0])}_P{sci(small_cell[1])}": small,
            "ratio_vs_10x": big / (10 * small),
        }

    linearity = linearity_of(grid)
    other_order = "random" if args.node_order == "curve" else "curve"
    linearity_other = {}
    # the same two cells with the other node numbering, for comparison (two more subprocesses,
    # left out of quick runs)
    if linearity and not args.quick:
        linearity_other = linearity_of(
            [measure(n, p, other_order) for n, p in (small_cell, big_cell)]
        )
        print(
            f"linearity t({sci(big_cell[0])}, {sci(big_cell[1])}) / "
            f"(10 t({sci(small_cell[0])}, {sci(small_cell[1])})): "
            f"{linearity['ratio_vs_10x']:.2f} "
            f"({args.node_order} order), {linearity_other.get('ratio_vs_10x', float('nan')):.2f} "
            f"({other_order} order)"
        )
    paper = [] if args.only else paper_sizes(args.repeats,
                                             range(2, 4) if args.quick else range(2, 8))
    for r in paper:
        print(f"k={r['k']}: dense {r['dense_ms']:.1f} ms, sparse(k=8) {r['sparse_k8_ms']:.1f} ms")
    name = h.result_name(args, "scaling_selected" if args.only else "scaling")
    path = h.write_record(
        name,
        {
            **header,
            "setup": "GEN paper sizes, SoftNearest(k=8), T=10, forward+backward, float32, CPU",
            "node_order": args.node_order,
            "import_baseline_rss_mb": baseline["peak_rss_mb"],
            "malloc_mmap_threshold": env.get("MALLOC_MMAP_THRESHOLD_", "glibc default"),
            "cells_in_own_process": not args.quick,
            "grid": grid,
            "linearity": linearity,
            f"linearity_{other_order}_order": linearity_other,
            "paper_sizes_dense_vs_sparse": paper,
        },
        h.out_dir(args),
    )
    plot(grid, path.with_suffix(".png"))
    print(f"wrote {path}")
    return 0


def sci(x: int) -> str:
    """10000 -> "1e4" (powers of ten; anything else as it is)."""
    exponent = len(str(x)) - 1
    return f"1e{exponent}" if x == 10**exponent else str(x)


def plot(grid: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for n in sorted({int(r["nodes"]) for r in grid}):
        rows = [r for r in grid if r["nodes"] == n and "seconds_min" in r]
        ps = [r["points"] for r in rows]
        axes[0].loglog(ps, [r["seconds_min"] for r in rows], "o-", label=f"N={n:g}")
        axes[1].loglog(ps, [r["peak_rss_mb"] for r in rows], "o-", label=f"N={n:g}")
    axes[0].set(xlabel="P = Q points", ylabel="forward+backward (s)", title="time")
    axes[1].set(xlabel="P = Q points", ylabel="peak RSS (MiB)", title="memory")
    for ax in axes:
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
