"""How long does the graph diameter (the GEN's default number of message-passing steps) take
to compute on the meshes gen_pyg builds: all-pairs breadth-first search versus the iFUB bound
used by :func:`gen_pyg.mesh.graph_diameter`, side by side in one run, same meshes.

Reproduce (about a minute on one core)::

    OMP_NUM_THREADS=1 python benchmarks/mesh_diameter.py

Writes ``benchmarks/results/mesh_diameter.json`` and ``mesh_diameter.png``. ``--quick`` (a
second) does the same on one small mesh of each kind and writes ``mesh_diameter_quick.*``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from gen_pyg.mesh import graph_diameter, grid, halton, icosphere, sphere_latlong


def all_pairs(edge_index: torch.Tensor, n: int) -> int:
    """The previous implementation: BFS from every node, in blocks of sources."""
    ei = edge_index.numpy()
    adj = coo_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n)).tocsr()
    block, best = max(1, 2**22 // n), 0
    for start in range(0, n, block):
        src = np.arange(start, min(n, start + block))
        dist = shortest_path(adj, directed=False, unweighted=True, indices=src)
        best = max(best, int(dist[np.isfinite(dist)].max()))
    return best


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__)  # --quick: small meshes only, a second
    args = parser.parse_args(argv)
    h.set_threads(args.threads or 1)
    header = h.header("mesh_diameter.py", argv, quick=args.quick)
    if args.quick:
        meshes = {
            "grid(10)": grid(10),
            "halton(200)": halton(200),
            "sphere_latlong(10)": sphere_latlong(10),
            "icosphere(2)": icosphere(2),
        }
    else:
        meshes = {
            "grid(10)": grid(10),
            "grid(30)": grid(30),
            "grid(60)": grid(60),
            "grid(100)": grid(100),
            "halton(500)": halton(500),
            "halton(2000)": halton(2000),
            "sphere_latlong(30)": sphere_latlong(30),
            "icosphere(4)": icosphere(4),
        }
    stem = h.result_name(args, "mesh_diameter")
    rows = []
    for name, mesh in meshes.items():
        n = mesh.num_nodes
        ref, t_ref = timed(all_pairs, mesh.edge_index, n)
        val, t_new = timed(lambda e, m: int(graph_diameter(e, m)), mesh.edge_index, n)
        assert val == ref, (name, val, ref)
        rows.append({"mesh": name, "num_nodes": n, "diameter": val, "all_pairs_s": t_ref,
                     "ifub_s": t_new, "speedup": t_ref / max(t_new, 1e-9)})  # fmt: skip
        print(f"{name:>20} N={n:6d} T={val:4d} all-pairs {t_ref:8.3f} s  iFUB {t_new:7.4f} s")
    record = {**header, "question": "graph diameter: all-pairs BFS vs iFUB", "rows": rows}
    path = h.write_record(stem, record, h.out_dir(args))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["all_pairs_s"] for r in rows], 0.4, label="all-pairs BFS")
    ax.bar(x + 0.2, [r["ifub_s"] for r in rows], 0.4, label="iFUB (graph_diameter)")
    ax.set_xticks(x, [f"{r['mesh']}\nN={r['num_nodes']}" for r in rows], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (1 thread)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png"), dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
