"""Training throughput at the paper's Poisson sizes, side by side with an authors-style baseline.

A training step is forward + backward + Adam on a batch of the 32 scenarios of one house
(up to 64 input samples in two input functions and 256 queries each) on a k x k grid mesh with
Delaunay edges, latent size 32, T = 2(k-1), for k = 2..7. Throughput is scenario-passes per
second (32 / step time); "all meshes" weighs the six mesh sizes equally, as the paper's
multi-mesh training does (total scenarios / total time).

The baseline (``_authors.py``) re-implements the structure of the authors' public PyG code
(github.com/FerranAlet/graph_element_networks, GEN.py): dense soft-nearest-neighbour weights
applied with ``bmm`` over all nodes, a ``Batch`` rebuilt from a list on every forward pass, and
``GCNConv`` + LayerNorm message passing. gen_pyg's GEN is heavier per step (edge and node MLPs,
as the paper's appendix describes), so the comparison favours the baseline.

Every row also gives a FLOP bound: the matrix-product FLOPs of one step of the paper-size GEN
(counted from the architecture, element-wise work left out) divided by the best matrix-product
rate this CPU reaches on the step's shapes, measured at the start of the same run. No
implementation of that architecture can beat the bound on this machine. The JSON also holds
what ``torch.utils.flop_counter`` counts on gen_pyg's step (it agrees within a few per cent).
gen_pyg's step is also timed with its NaN/inf input scans switched off
(``gen_pyg.set_value_checks``), right after the default, to give their cost.

    python benchmarks/throughput.py [--seconds 2.0]
    python benchmarks/throughput.py --quick    # k = 2, 3 and 0.05 s per cell: seconds

Writes benchmarks/results/throughput.json and benchmarks/results/throughput.png
(``throughput_quick.*`` with ``--quick``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode
from torch_geometric.data import Batch, Data

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from _authors import AuthorsStyleGEN
from gen_pyg.mesh import grid

SCENARIOS, HEATER_INPUTS, WALL_INPUTS, QUERIES = 32, 27, 37, 256


def house_batch(k: int, g: torch.Generator) -> Batch:
    mesh = grid(k)
    heater_pos = torch.rand(HEATER_INPUTS, 2, generator=g)  # shared by the house's scenarios
    wall_pos = torch.rand(WALL_INPUTS, 2, generator=g)
    examples = []
    for _ in range(SCENARIOS):
        examples.append(
            Data(
                pos=mesh.pos,
                edge_index=mesh.edge_index,
                num_nodes=mesh.num_nodes,
                diameter=mesh.diameter,
                input_pos=torch.cat([heater_pos, wall_pos]),
                input_x=torch.rand(HEATER_INPUTS + WALL_INPUTS, 1, generator=g),
                input_fn=torch.cat([torch.zeros(HEATER_INPUTS), torch.ones(WALL_INPUTS)]).long(),
                query_pos=torch.rand(QUERIES, 2, generator=g),
                y=torch.rand(QUERIES, 1, generator=g),
            )
        )
    return Batch.from_data_list(examples, follow_batch=["input_pos", "query_pos"])


def paper_step_flops(k: int, num_edges: int) -> float:
    """Matrix-product FLOPs of one training step of the default (paper-size) GEN on a house
    batch: forward products counted from the architecture, backward as two products per forward
    one (input and weight gradients) except for the encoders' first layers, whose inputs need no
    gradient. Element-wise work (ReLU, LayerNorm, softmax, gathers and scatters, Adam) is left
    out, so time = FLOPs / peak matmul rate is a lower bound on the step time."""
    latent, message, edge_h, node_h, enc_h, dec_h = 32, 16, 48, 64, 48, 32
    n = SCENARIOS * k * k  # mesh nodes in the batch
    e = SCENARIOS * num_edges  # directed mesh edges in the batch
    # the edge MLP's first layer: node terms (2 per node) and an edge term of 3 features; its
    # last layer once per node (after aggregation); the node MLP on [h, u]
    inputs, queries = SCENARIOS * (HEATER_INPUTS + WALL_INPUTS), SCENARIOS * QUERIES
    enc_first = inputs * (1 + 2) * enc_h
    enc = enc_first + inputs * enc_h * latent
    spatial = SCENARIOS * k * k * (HEATER_INPUTS + WALL_INPUTS + QUERIES) * latent
    edge_mlp = n * (latent * 2 * edge_h + edge_h * message) + e * 3 * edge_h
    node_mlp = n * ((latent + message) * node_h + node_h * latent)
    per_round = edge_mlp + node_mlp
    rounds = 2 * (k - 1) * per_round
    dec = queries * ((latent + 2) * dec_h + dec_h * 1)
    forward_macs = enc + spatial + rounds + dec
    return 2.0 * (3 * forward_macs - enc_first)


def peak_matmul_flops(seconds: float) -> float:
    """Best matrix-product rate (FLOP/s) of this CPU on the step's typical shapes."""
    best = 0.0
    for rows, inner, cols in [(1568, 48, 64), (1568, 32, 96), (8192, 34, 32)]:
        a, b = torch.randn(rows, inner), torch.randn(inner, cols)
        t = measure(lambda a=a, b=b: a @ b, seconds / 3, best=True)
        best = max(best, 2.0 * rows * inner * cols / t)
    return best


def measure(step: object, seconds: float, best: bool = False) -> float:
    """Median (or best) seconds per call of ``step`` over at least ``seconds`` of calls."""
    step()  # type: ignore[operator]
    times = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(times) < 5:
        t0 = time.perf_counter()
        step()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times) if best else sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    from gen_pyg import value_checks
    from gen_pyg.nn import GEN

    parser = h.parser(__doc__)  # --quick: meshes k = 2, 3 only and a tiny timing budget
    parser.add_argument("--seconds", type=float, default=None,
                        help="timing budget per cell (default 2.0, 0.05 with --quick)")
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 0.05 if args.quick else 2.0
    mesh_sizes = range(2, 4) if args.quick else range(2, 8)
    name = h.result_name(args, "throughput")
    h.set_threads(args.threads)
    header = h.header("throughput.py", argv, quick=args.quick)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)

    ours = GEN.paper(in_channels=[1, 1], out_channels=1)
    ours_opt = torch.optim.Adam(ours.parameters(), lr=3e-3)
    base = AuthorsStyleGEN()
    base_opt = torch.optim.Adam(base.parameters(), lr=3e-3)
    peak = peak_matmul_flops(args.seconds)
    print(f"peak matrix-product rate on this CPU: {peak / 1e9:.0f} GFLOP/s")
    rows = []
    for k in mesh_sizes:
        batch = house_batch(k, g)
        mesh = grid(k)
        heat = batch.input_fn == 0
        inputs = [
            (
                batch.input_pos[heat].view(SCENARIOS, -1, 2),
                batch.input_x[heat].view(SCENARIOS, -1, 1),
            ),
            (
                batch.input_pos[~heat].view(SCENARIOS, -1, 2),
                batch.input_x[~heat].view(SCENARIOS, -1, 1),
            ),
        ]
        queries = batch.query_pos.view(SCENARIOS, QUERIES, 2)
        target = batch.y.view(SCENARIOS, QUERIES, 1)

        def ours_step() -> None:
            ours_opt.zero_grad(set_to_none=True)
            torch.nn.functional.mse_loss(ours(batch), batch.y).backward()
            ours_opt.step()

        def base_step() -> None:
            base_opt.zero_grad(set_to_none=True)
            out = base(inputs, queries, mesh, 2 * (k - 1))
            torch.nn.functional.mse_loss(out, target).backward()
            base_opt.step()

        t_ours = measure(ours_step, args.seconds)
        with value_checks(False):  # the NaN/inf scans' cost, measured next to the default
            t_unchecked = measure(ours_step, args.seconds)
        t_base = measure(base_step, args.seconds)
        flops = paper_step_flops(k, mesh.edge_index.size(1))
        with FlopCounterMode(display=False) as counter:  # cross-check of the count
            torch.nn.functional.mse_loss(ours(batch), batch.y).backward()
        ours_opt.zero_grad(set_to_none=True)
        rows.append(
            {
                "k": k,
                "steps": 2 * (k - 1),
                "paper_step_gflop": flops / 1e9,
                "flop_counter_step_gflop": counter.get_total_flops() / 1e9,
                "flop_floor_step_ms": 1e3 * flops / peak,
                "flop_bound_scenarios_per_s": SCENARIOS * peak / flops,
                "ours_step_ms": 1e3 * t_ours,
                "ours_step_ms_value_checks_off": 1e3 * t_unchecked,
                "value_checks_cost": t_ours / t_unchecked,
                "baseline_step_ms": 1e3 * t_base,
                "ours_scenarios_per_s": SCENARIOS / t_ours,
                "baseline_scenarios_per_s": SCENARIOS / t_base,
                "speedup": t_base / t_ours,
            }
        )
        print(
            f"k={k}: ours {SCENARIOS / t_ours:9.0f}/s  authors-style {SCENARIOS / t_base:9.0f}/s"
            f"  x{t_base / t_ours:.2f}   FLOP bound {SCENARIOS * peak / flops:9.0f}/s"
            f"   value checks x{t_ours / t_unchecked:.3f}"
        )
    total_ours = sum(r["ours_step_ms"] for r in rows)
    total_base = sum(r["baseline_step_ms"] for r in rows)
    summary = {
        "ours_scenarios_per_s": 1e3 * SCENARIOS * len(rows) / total_ours,
        "baseline_scenarios_per_s": 1e3 * SCENARIOS * len(rows) / total_base,
        "speedup": total_base / total_ours,
        "flop_bound_scenarios_per_s": 1e3
        * SCENARIOS
        * len(rows)
        / sum(r["flop_floor_step_ms"] for r in rows),
        "peak_matmul_gflops": peak / 1e9,
    }
    print(
        f"all meshes: ours {summary['ours_scenarios_per_s']:.0f}/s, authors-style "
        f"{summary['baseline_scenarios_per_s']:.0f}/s, x{summary['speedup']:.2f}; "
        f"the paper-size GEN's FLOP bound at {peak / 1e9:.0f} GFLOP/s: "
        f"{summary['flop_bound_scenarios_per_s']:.0f}/s"
    )
    record = {**header, "seconds_per_cell": args.seconds, "rows": rows, "all_meshes": summary}
    path = h.write_record(name, record, h.out_dir(args))
    plot(rows, h.figure_path(args, default="throughput"))
    print(f"wrote {path}")
    return 0


def plot(rows: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ks = [r["k"] for r in rows]
    ax.semilogy(ks, [r["ours_scenarios_per_s"] for r in rows], "o-", label="gen_pyg GEN")
    ax.semilogy(ks, [r["baseline_scenarios_per_s"] for r in rows], "s--", label="authors-style")
    ax.semilogy(
        ks, [r["flop_bound_scenarios_per_s"] for r in rows], "k:", label="paper-size FLOP bound"
    )
    ax.axhline(20000, color="tab:red", lw=0.8, label="issue target (10 x 2,000/s)")
    ax.set(
        xlabel="mesh k (k x k nodes, T = 2(k-1))",
        ylabel="scenario-passes / s",
        title="training throughput (fwd+bwd+Adam)",
    )
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
