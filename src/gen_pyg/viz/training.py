"""Figures of training runs: learning curves, error against mesh size, and one predicted field
against the truth with the mesh drawn on top."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch_geometric.data import Data

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_field_comparison", "plot_learning_curves", "plot_mse_vs_mesh"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: str | Path | None) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)


def _finish(fig: Figure, ax: Any, path: str | Path | None, **labels: str) -> Figure:
    """Log-scale y axis, grid, legend, tight layout; saved when :obj:`path` is given."""
    ax.set(yscale="log", **labels)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _save(fig, path)
    return fig


#: per-epoch record keys that are not learning curves (counters and timings)
_NOT_CURVES = ("epoch", "step", "lr", "examples_per_s", "train_seconds")


def _curves(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The quantities of a run's records: ``"mse"`` for ``train_mse`` and ``val_mse``, ...,
    the trained ones (the loss) first (per-mesh validation values, ``val_mse/3x3``, and
    counters are left out)."""
    names: list[str] = []
    for prefix in ("train_", "val_"):
        for r in records:
            for key, value in r.items():
                if (key in _NOT_CURVES or "/" in key or not isinstance(value, (int, float))
                        or not key.startswith(prefix)):
                    continue
                if key[len(prefix):] not in names:
                    names.append(key[len(prefix):])
    return names


def plot_learning_curves(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    path: str | Path | None = None,
    title: str = "Learning curves",
) -> Figure:
    """One panel per quantity a run recorded, per epoch: its training loss (solid; ``train_mse``,
    ``train_retrieval_cross_entropy``, ...) and every validation metric (dashed, where
    recorded), one colour per run; :obj:`histories` maps a run's name to its per-epoch records
    (the trainer's ``metrics.jsonl``). Every epoch is drawn as a point, so a run of one epoch
    shows; losses and errors are on a log scale, accuracies on a linear one.

    Example:
        >>> fig = plot_learning_curves({"GEN": [{"epoch": 1, "train_mse": 0.5},
        ...                                     {"epoch": 2, "train_mse": 0.2}]})
        >>> fig.axes[0].get_yscale(), fig.axes[0].get_ylabel()
        ('log', 'mse')
    """
    if not histories:
        raise ValueError("histories must name at least one run")
    names: list[str] = []
    for run, records in histories.items():
        found = _curves(records)
        if not found:
            raise ValueError(f"the records of {run!r} hold no train_* or val_* values to plot")
        names += [n for n in found if n not in names]
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig: Figure
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        values: list[float] = []
        for i, (run, records) in enumerate(histories.items()):
            for prefix, style, what in (("train_", "-", "train"), ("val_", "--", "validation")):
                points = [(r["epoch"], r[prefix + name]) for r in records if prefix + name in r]
                if points:
                    ax.plot(*zip(*points, strict=True), color=f"C{i}", ls=style, marker="o",
                            ms=3, label=f"{run} {what}")
                    values += [float(v) for _, v in points]
        log = "accuracy" not in name and all(v > 0 for v in values)
        ax.set(yscale="log" if log else "linear", xlabel="epoch", ylabel=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
    return fig


def plot_mse_vs_mesh(
    rows: Sequence[Mapping[str, Any]],
    *,
    baseline: float | None = None,
    baseline_label: str = "Neural Process",
    path: str | Path | None = None,
    title: str = "Test error against mesh size",
) -> Figure:
    """Test MSE against the number of mesh nodes (one set of weights for every mesh), with a
    mesh-free baseline as a horizontal line. :obj:`rows` hold ``nodes`` and ``mse`` (and
    optionally ``std``).

    Example:
        >>> fig = plot_mse_vs_mesh([{"nodes": 4, "mse": 0.2}, {"nodes": 9, "mse": 0.1}],
        ...                        baseline=0.3)
        >>> len(fig.axes[0].lines)
        2
    """
    if not rows:
        raise ValueError("rows must hold at least one mesh size")
    plt = _pyplot()
    fig: Figure
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    nodes = [r["nodes"] for r in rows]
    mse = [r["mse"] for r in rows]
    std = [r.get("std", 0.0) for r in rows]
    ax.errorbar(nodes, mse, yerr=std if any(std) else None, fmt="o-", label="GEN", capsize=3)
    if baseline is not None:
        ax.axhline(baseline, color="k", ls="--", label=baseline_label)
    return _finish(fig, ax, path, xlabel="mesh nodes", ylabel="test MSE", title=title)


@torch.no_grad()
def plot_field_comparison(
    model: torch.nn.Module,
    example: Data,
    mesh: Data,
    *,
    resolution: int = 100,
    path: str | Path | None = None,
) -> Figure:
    """Three panels for one scenario: the true field at its query points, the model's field
    everywhere in the unit square with the mesh drawn on top, and the absolute error at the
    queries. :obj:`example` holds the scenario (inputs, ``query_pos``, ``y``) without a mesh.
    """
    from gen_pyg.mesh.batching import collate_group, replicate_mesh
    from gen_pyg.viz.mesh import plot_mesh

    plt = _pyplot()
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    base = collate_group([example], with_mesh=False).to(device)
    mesh = mesh.to(device)

    def predict(points: torch.Tensor) -> torch.Tensor:
        b = replicate_mesh(base, mesh)
        b.query_pos = points.to(device, base.query_pos.dtype)
        b.query_pos_batch = torch.zeros(points.size(0), dtype=torch.long, device=device)
        out: torch.Tensor = model(b)
        return out[:, 0].cpu()

    q, y = example.query_pos.cpu(), example.y[:, 0].cpu()
    pred = predict(q)
    err = (pred - y).abs()
    fig: Figure
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    vmin, vmax = float(y.min()), float(y.max())
    s0 = axes[0].scatter(q[:, 0], q[:, 1], c=y, cmap="viridis", s=14, vmin=vmin, vmax=vmax)
    axes[0].set(title=f"truth at the {q.size(0)} query points", aspect="equal", xlim=(0, 1),
                ylim=(0, 1))
    fig.colorbar(s0, ax=axes[0])
    plot_mesh(mesh.cpu(), predict,
              ax=axes[1], resolution=resolution, title="prediction everywhere, with the mesh",
              colorbar=True)
    s2 = axes[2].scatter(q[:, 0], q[:, 1], c=err, cmap="magma", s=14)
    axes[2].set(title=f"|error| at the queries (MSE {float((err ** 2).mean()):.4f})",
                aspect="equal", xlim=(0, 1), ylim=(0, 1))
    fig.colorbar(s2, ax=axes[2])
    fig.tight_layout()
    _save(fig, path)
    model.train(was_training)
    return fig
