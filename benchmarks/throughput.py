"""Training throughput at the paper's Poisson sizes, side by side with an authors-style baseline.

A training step is forward + backward + Adam on a batch of the 32 scenarios of one house
(up to 64 input samples in two input functions and 256 queries each) on a k x k grid mesh with
Delaunay edges, latent size 32, T = 2(k-1), for k = 2..7. Throughput is scenario-passes per
second (32 / step time); "all meshes" weighs the six mesh sizes equally, as the paper's
multi-mesh training does (total scenarios / total time).

The baseline re-implements, in this file, the structure of the authors' public PyG code
(github.com/FerranAlet/graph_element_networks, GEN.py): dense soft-nearest-neighbour weights
applied with ``bmm`` over all nodes, a ``Batch`` rebuilt from a list on every forward pass, and
``GCNConv`` + LayerNorm message passing. gen_pyg's GEN is heavier per step (edge and node MLPs,
as the paper's appendix describes), so the comparison favours the baseline.

    python benchmarks/throughput.py [--seconds 2.0]

Writes benchmarks/results/throughput.json and benchmarks/results/throughput.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GCNConv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, write_json
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


class AuthorsStyleGEN(nn.Module):
    """The structure of the authors' GEN.py, written afresh for this comparison."""

    def __init__(self, latent: int = 32) -> None:
        super().__init__()

        def two_layer(i: int, h: int, o: int) -> nn.Module:
            return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))

        self.encoders = nn.ModuleList([two_layer(3, 48, latent), two_layer(3, 48, latent)])
        self.decoder = two_layer(latent + 2, 32, 1)
        self.conv = GCNConv(latent + 2, latent)
        self.norm = nn.LayerNorm(latent)

    @staticmethod
    def repr_fn(node_pos: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # [B, P, N] softmax over all nodes of minus the distance
        dist = torch.cdist(x, node_pos.unsqueeze(0).expand(x.size(0), -1, -1))
        return torch.softmax(-dist, dim=-1)

    def forward(
        self,
        inputs: list[tuple[torch.Tensor, torch.Tensor]],
        queries: torch.Tensor,
        mesh: Data,
        steps: int,
    ) -> torch.Tensor:
        encoded = torch.cat(
            [enc(torch.cat(inp, -1)) for inp, enc in zip(inputs, self.encoders, strict=False)], 1
        )
        x_inp = torch.cat([inp[0] for inp in inputs], 1)
        nodes = torch.bmm(self.repr_fn(mesh.pos, x_inp).transpose(1, 2), encoded)
        bs, n, f = nodes.shape
        graph = Batch.from_data_list(
            [
                Data(x=x.squeeze(0), pos=mesh.pos, edge_index=mesh.edge_index)
                for x in torch.split(nodes, 1, dim=0)
            ]
        )
        h = graph.x
        for _ in range(steps):
            h = self.norm(h + self.conv(torch.cat([graph.pos, h], -1), graph.edge_index))
        h = h.reshape(bs, n, f)
        lat = torch.bmm(self.repr_fn(mesh.pos, queries), h)
        return self.decoder(torch.cat([lat, queries], -1))


def measure(step: object, seconds: float) -> float:
    """Median seconds per call of ``step`` over at least ``seconds`` of calls."""
    step()  # type: ignore[operator]
    times = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(times) < 5:
        t0 = time.perf_counter()
        step()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    from gen_pyg.nn import GEN

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timing budget per cell")
    args = parser.parse_args()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)

    ours = GEN(in_channels=[1, 1], out_channels=1)
    ours_opt = torch.optim.Adam(ours.parameters(), lr=3e-3)
    base = AuthorsStyleGEN()
    base_opt = torch.optim.Adam(base.parameters(), lr=3e-3)
    rows = []
    for k in range(2, 8):
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
        t_base = measure(base_step, args.seconds)
        rows.append(
            {
                "k": k,
                "steps": 2 * (k - 1),
                "ours_step_ms": 1e3 * t_ours,
                "baseline_step_ms": 1e3 * t_base,
                "ours_scenarios_per_s": SCENARIOS / t_ours,
                "baseline_scenarios_per_s": SCENARIOS / t_base,
                "speedup": t_base / t_ours,
            }
        )
        print(
            f"k={k}: ours {SCENARIOS / t_ours:9.0f}/s  authors-style {SCENARIOS / t_base:9.0f}/s"
            f"  x{t_base / t_ours:.2f}"
        )
    total_ours = sum(r["ours_step_ms"] for r in rows)
    total_base = sum(r["baseline_step_ms"] for r in rows)
    summary = {
        "ours_scenarios_per_s": 1e3 * SCENARIOS * len(rows) / total_ours,
        "baseline_scenarios_per_s": 1e3 * SCENARIOS * len(rows) / total_base,
        "speedup": total_base / total_ours,
    }
    print(
        f"all meshes: ours {summary['ours_scenarios_per_s']:.0f}/s, authors-style "
        f"{summary['baseline_scenarios_per_s']:.0f}/s, x{summary['speedup']:.2f}"
    )
    path = write_json(
        "throughput",
        {"command": "python benchmarks/throughput.py", "rows": rows, "all_meshes": summary},
    )
    plot(rows)
    print(f"wrote {path}")


def plot(rows: list[dict[str, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ks = [r["k"] for r in rows]
    ax.semilogy(ks, [r["ours_scenarios_per_s"] for r in rows], "o-", label="gen_pyg GEN")
    ax.semilogy(ks, [r["baseline_scenarios_per_s"] for r in rows], "s--", label="authors-style")
    ax.set(
        xlabel="mesh k (k x k nodes, T = 2(k-1))",
        ylabel="scenario-passes / s",
        title="training throughput (fwd+bwd+Adam)",
    )
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / "throughput.png", dpi=120)


if __name__ == "__main__":
    main()
