"""ElementConv's fused sum backend against its readable PyG ``propagate`` definition, side by side
in one run on the same graphs: one forward + backward round, from the paper's 7x7 house batch
(32 meshes of 49 nodes) to a 1e5-node grid.

Reproduce (about a minute on 2 cores)::

    python benchmarks/genconv_backends.py          # --quick: seconds

Writes ``benchmarks/results/genconv_backends.json`` (``_quick`` with --quick).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from gen_pyg.mesh import grid
from gen_pyg.nn import ElementConv


def batched_grid(k: int, copies: int) -> tuple[torch.Tensor, torch.Tensor]:
    mesh = grid(k)
    n = mesh.num_nodes
    pos = mesh.pos.repeat(copies, 1)
    ei = torch.cat([mesh.edge_index + i * n for i in range(copies)], dim=1)
    return pos, ei


def time_round(conv: ElementConv, x: torch.Tensor, ei: torch.Tensor, pos: torch.Tensor,
               repeats: int) -> list[float]:
    edge_attr = ElementConv.edge_geometry(pos, ei)
    times = []
    for r in range(repeats + 3):
        xx = x.detach().requires_grad_(True)
        t0 = time.perf_counter()
        conv(xx, ei, geometry=edge_attr).square().sum().backward()
        if r >= 3:  # the first calls warm up (allocator, first-call dispatch)
            times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    h.set_threads(args.threads)
    header = h.header("genconv_backends.py", argv, quick=args.quick)
    cases = {"7x7 house batch (32 x 49 nodes)": (7, 32), "100x100 grid": (100, 1),
             "316x316 grid": (316, 1)}
    if args.quick:
        cases, args.repeats = {"7x7 house batch (32 x 49 nodes)": (7, 32)}, 2
    torch.manual_seed(0)
    fused = ElementConv(32, backend="fused")
    plain = ElementConv(32, backend="propagate")
    plain.load_state_dict(fused.state_dict())
    rows = []
    for name, (k, copies) in cases.items():
        pos, ei = batched_grid(k, copies)
        x = torch.randn(pos.size(0), 32)
        t_fused, t_plain = [], []
        for _ in range(2):  # interleaved, so that load changes hit both
            t_fused += time_round(fused, x, ei, pos, args.repeats)
            t_plain += time_round(plain, x, ei, pos, args.repeats)
        row = {"case": name, "nodes": int(pos.size(0)), "edges": int(ei.size(1)),
               "fused_ms": 1e3 * statistics.median(t_fused),
               "propagate_ms": 1e3 * statistics.median(t_plain)}
        row["speedup"] = row["propagate_ms"] / row["fused_ms"]
        rows.append(row)
        print(f"{name:>32}: fused {row['fused_ms']:8.2f} ms  propagate "
              f"{row['propagate_ms']:8.2f} ms  x{row['speedup']:.2f}", flush=True)
    record: dict[str, Any] = {
        **header, "what": "median of one forward+backward ElementConv round, 32 channels, edge "
        "features precomputed", "rows": rows,
    }
    path = h.write_record(h.result_name(args, "genconv_backends"), record, h.out_dir(args))
    plot(rows, path.with_suffix(".png"))
    return 0


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r["fused_ms"] for r in rows], 0.4, label="fused")
    ax.bar([x + 0.2 for x in xs], [r["propagate_ms"] for r in rows], 0.4, label="propagate")
    ax.set_xticks(list(xs), [r["case"] for r in rows], fontsize=7)
    ax.set(ylabel="forward + backward [ms]", yscale="log", title="ElementConv backends")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
