"""Figures of the concepts page, drawn by the package at docs build time (``conf.py`` calls
:func:`make_figures`; ``python docs/make_figures.py OUT`` draws them by hand).

- ``pipeline.png``: one Poisson house through a GEN: input samples, the node states after
  encoding, after the message-passing rounds, and the queries with their targets;
- ``representation.png``: the weights of one point on the nodes, for each representation;
- ``meshes.png``: the mesh kinds side by side;
- ``stages.png``: the three stages of a GEN (encoder, processor, decoder) with the pairs and
  edges the package's own modules compute on one mesh.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

#: The point whose representation weights are drawn.
POINT = (0.37, 0.61)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _draw_edges(ax: Any, mesh: Any, color: str = "0.75") -> None:
    from matplotlib.collections import LineCollection

    pos, edges = mesh.pos.numpy(), mesh.edge_index.numpy()
    segments = [(pos[a], pos[b]) for a, b in edges.T if a < b]
    ax.add_collection(LineCollection(segments, colors=color, linewidths=0.8, zorder=1))


def _square(ax: Any, title: str) -> None:
    ax.set(xlim=(-0.04, 1.04), ylim=(-0.04, 1.04), aspect="equal", title=title)
    ax.set_xticks([0, 0.5, 1])
    ax.set_yticks([0, 0.5, 1])


def pipeline_figure(path: Path) -> None:
    """One house, one scenario, through an untrained GEN on a 5x5 grid (bilinear weights), so
    that the figure shows where information sits at each stage, not a trained answer."""
    from gen_pyg.datasets import PoissonSquare
    from gen_pyg.mesh import grid
    from gen_pyg.mesh.batching import collate_group, replicate_mesh
    from gen_pyg.nn import GEN, Bilinear

    plt = _pyplot()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as root:
        (example,) = PoissonSquare(root, "all", houses=[3], num_houses=4, num_scenarios=1,
                                   n=41, log=False)
    mesh = grid(5)
    model = GEN.paper(in_channels=[1, 1], representation=Bilinear()).eval()
    batch = replicate_mesh(collate_group([example], with_mesh=False), mesh)
    with torch.no_grad():
        z0 = model.encode(batch)
        steps = model.steps_for(batch)
        zt = model.process(z0, batch)

    def first_component(z: torch.Tensor) -> torch.Tensor:
        centred = z - z.mean(0)
        return centred @ torch.linalg.svd(centred, full_matrices=False).Vh[0]

    fig, grid_axes = plt.subplots(2, 2, figsize=(10.5, 9.5))
    axes = grid_axes.flatten()
    pos, fn, val = example.input_pos, example.input_fn, example.input_x[:, 0]
    heat, wall = fn == 0, fn == 1
    axes[0].scatter(pos[wall, 0], pos[wall, 1], c=val[wall], cmap="coolwarm", vmin=-1, vmax=1,
                    s=22, marker="o", label="walls (input_fn 1): temperature")
    sc = axes[0].scatter(pos[heat, 0], pos[heat, 1], c=val[heat], cmap="PiYG", vmin=-0.5,
                         vmax=0.5, s=40, marker="s", edgecolors="k", linewidths=0.4,
                         label="heaters (input_fn 0): heat / 768")
    fig.colorbar(sc, ax=axes[0], fraction=0.046)
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8, frameon=False)
    _square(axes[0], f"1. input samples ({pos.size(0)})")

    def nodes(ax: Any, values: torch.Tensor, title: str, label: str) -> None:
        _draw_edges(ax, mesh)
        s = ax.scatter(mesh.pos[:, 0], mesh.pos[:, 1], c=values, cmap="viridis", s=90,
                       edgecolors="k", linewidths=0.5, zorder=2)
        fig.colorbar(s, ax=ax, fraction=0.046, label=label)
        _square(ax, title)

    nodes(axes[1], z0.norm(dim=1), "2. encode onto the 25 nodes: $z^0$",
          "$\\|z^0_n\\|$ (0: no sample near)")
    nodes(axes[2], first_component(zt), f"3. after T = {steps} rounds: $z^T$",
          "first principal component")
    q = example.query_pos
    s3 = axes[3].scatter(q[:, 0], q[:, 1], c=example.y[:, 0], cmap="viridis", s=12)
    _draw_edges(axes[3], mesh, "0.85")
    fig.colorbar(s3, ax=axes[3], fraction=0.046, label="target temperature")
    _square(axes[3], f"4. decode at {q.size(0)} queries")
    fig.suptitle("One scenario of one house through a GEN\n(untrained weights: where the "
                 "information is, not the answer)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def representation_figure(path: Path) -> None:
    """The weights :math:`r(x)_n` of one point on each representation and mesh kind."""
    from gen_pyg.mesh import grid, halton
    from gen_pyg.nn import Barycentric, Bilinear, SoftNearest

    plt = _pyplot()
    point = torch.tensor([POINT])
    cases = [
        ("soft nearest (dense, $s = 2$) on a grid", SoftNearest(log_temperature=2.0), grid(5)),
        ("bilinear on a grid", Bilinear(), grid(5)),
        ("barycentric on a Halton/Delaunay mesh", Barycentric(), halton(25, seed=0)),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6))
    for ax, (title, rep, mesh) in zip(axes, cases, strict=True):
        with torch.no_grad():
            _, node, weight = rep(point, mesh.pos, mesh=mesh)
        w = torch.zeros(mesh.num_nodes).index_add_(0, node, weight)
        _draw_edges(ax, mesh)
        s = ax.scatter(mesh.pos[:, 0], mesh.pos[:, 1], c=w, cmap="Reds", vmin=0, vmax=0.6,
                       s=40 + 900 * w, edgecolors="k", linewidths=0.5, zorder=2)
        for n in torch.nonzero(w > 0.04).flatten().tolist():
            ax.annotate(f"{w[n]:.2f}", mesh.pos[n].tolist(), textcoords="offset points",
                        xytext=(7, 7), fontsize=8, zorder=4)
        ax.scatter(*POINT, marker="*", s=220, c="gold", edgecolors="k", zorder=3)
        nonzero = int((w > 1e-6).sum())
        _square(ax, f"{title}\n{nonzero} nodes with weight, sum {float(w.sum()):.2f}")
    fig.colorbar(s, ax=list(axes), fraction=0.02, label="weight $r(x)_n$")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def meshes_figure(path: Path) -> None:
    """A grid, a Halton/Delaunay mesh and the paper's sphere mesh, side by side."""
    from gen_pyg.mesh import grid, halton, sphere_latlong
    from gen_pyg.viz import plot_mesh

    plt = _pyplot()
    fig = plt.figure(figsize=(13, 4.4))
    kinds = [("grid(5): 25 nodes, diameter 8", grid(5)),
             ("halton(25): 25 nodes, Delaunay", halton(25, seed=0)),
             ("sphere_latlong(5): 26 nodes", sphere_latlong(5))]
    for i, (title, mesh) in enumerate(kinds):
        ax = fig.add_subplot(1, 3, i + 1, projection="3d" if i == 2 else None)
        with warnings.catch_warnings():  # the sphere's nodes are one colour, not a field
            warnings.filterwarnings("ignore", "No data for colormapping")
            plot_mesh(mesh, ax=ax, edge_color="0.4", node_color="tab:blue", node_size=30,
                      title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def stages_figure(path: Path) -> None:
    """Encoder, processor and decoder of a GEN on a 5x5 grid, each panel drawn from what the
    modules compute: the (sample, node) pairs of the encoder's representation, the edges the
    processor runs on (the mesh's, and a radius graph's around one node), the (query, node)
    pairs of the decoder."""
    from matplotlib.collections import LineCollection

    from gen_pyg.mesh import grid
    from gen_pyg.nn import Bilinear, GaussianKernel, RadiusGraph

    plt = _pyplot()
    mesh = grid(5)
    g = torch.Generator().manual_seed(3)
    samples, queries = torch.rand(6, 2, generator=g), torch.rand(3, 2, generator=g)
    fig, axes = plt.subplots(1, 3, figsize=(15, 6.2))

    def pairs(ax: Any, points: torch.Tensor, rep: Any, color: str, marker: str) -> None:
        with torch.no_grad():
            point, node, weight = rep(points, mesh.pos, mesh=mesh)
        segments = [(points[p].tolist(), mesh.pos[n].tolist()) for p, n in
                    zip(point.tolist(), node.tolist(), strict=True)]
        ax.add_collection(LineCollection(segments, colors=color, alpha=0.7,
                                         linewidths=0.4 + 3 * weight.numpy(), zorder=2))
        ax.scatter(points[:, 0], points[:, 1], marker=marker, s=90, c=color, edgecolors="k",
                   zorder=4)

    for ax in axes:
        _draw_edges(ax, mesh, "0.85")
        ax.scatter(mesh.pos[:, 0], mesh.pos[:, 1], s=25, c="0.3", zorder=3)
    pairs(axes[0], samples, Bilinear(), "tab:orange", "o")
    pairs(axes[0], samples[:2] + 0.02, GaussianKernel(0.15), "tab:purple", "o")
    _square(axes[0], "encoder: samples $\\to$ node states $z^0$\n"
            "PointEncoder / PairEncoder with a representation\n(orange: Bilinear, purple: "
            "GaussianKernel(0.15))")
    radius = RadiusGraph(0.55)(mesh.pos)
    centre = 12
    around = radius[:, radius[1] == centre]
    segments = [(mesh.pos[a].tolist(), mesh.pos[b].tolist()) for a, b in around.t().tolist()]
    axes[1].add_collection(LineCollection(segments, colors="tab:green", linewidths=2, zorder=2))
    _draw_edges(axes[1], mesh, "0.45")
    axes[1].scatter(*mesh.pos[centre].tolist(), s=160, c="tab:green", edgecolors="k", zorder=4)
    _square(axes[1], "processor: $T$ rounds $z^t \\to z^{t+1}$\n"
            "ElementProcessor over the mesh's edges (grey)\nor a graph builder "
            f"(green: RadiusGraph(0.55), {around.size(1)} in-edges)")
    pairs(axes[2], queries, Bilinear(), "tab:blue", "*")
    pairs(axes[2], queries[:1] + 0.02, GaussianKernel(0.15, normalize=True), "tab:red", "*")
    _square(axes[2], "decoder: node states $\\to$ answers\n"
            "PointDecoder / PairDecoder (or SumReadout)\n(blue: Bilinear, red: "
            "normalised GaussianKernel(0.15))")
    for ax in axes:
        ax.title.set_fontsize(9.5)
    fig.suptitle("GEN(encoder, processor, decoder): line widths are the weights the modules "
                 "compute", fontsize=11, y=0.99)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


FIGURES = {"pipeline.png": pipeline_figure, "representation.png": representation_figure,
           "meshes.png": meshes_figure, "stages.png": stages_figure}


def make_figures(out: str | Path) -> list[Path]:
    """Draw every figure into :obj:`out` and return their paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in FIGURES.items():
        draw(folder / name)
        paths.append(folder / name)
    return paths


if __name__ == "__main__":
    for p in make_figures(sys.argv[1] if len(sys.argv) > 1 else "docs/_generated"):
        print(p)
