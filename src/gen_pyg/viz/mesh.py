"""Figures of meshes: nodes and edges over a field, and meshes side by side (initial vs
optimised), as in the GEN paper's figures 3 and 8."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: A field to draw under a mesh: values on a regular grid ``[H, W]`` (``field[i, j]`` at the
#: ``i``-th x and ``j``-th y, the ``"ij"`` order of :func:`gen_pyg.mesh.grid`), or a callable
#: mapping points ``[M, 2]`` to values ``[M]``.
Field = Tensor | np.ndarray | Callable[[Tensor], Tensor]


def _pyplot() -> Any:
    """matplotlib.pyplot, with the non-interactive Agg backend unless pyplot is already in use
    (so notebooks keep their backend)."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _mesh_arrays(mesh: Data) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(mesh, Data):
        raise TypeError(f"mesh must be a torch_geometric.data.Data, got {type(mesh).__name__}")
    if mesh.pos is None:
        raise ValueError("mesh must have 'pos'")
    pos = mesh.pos.detach().cpu().double().numpy()
    if pos.ndim != 2 or pos.shape[1] not in (2, 3):
        raise ValueError(f"mesh.pos must have shape [N, 2] or [N, 3], got {pos.shape}")
    ei = mesh.edge_index
    edges = np.zeros((2, 0), dtype=np.int64) if ei is None else ei.detach().cpu().numpy()
    edges = edges[:, edges[0] < edges[1]]  # one segment per undirected edge
    return pos, edges


def _extent(mesh: Data, pos: np.ndarray) -> tuple[float, float, float, float]:
    lo, hi = getattr(mesh, "grid_lo", None), getattr(mesh, "grid_hi", None)
    if lo is not None and hi is not None:
        lo_, hi_ = lo.reshape(-1).tolist(), hi.reshape(-1).tolist()
        return (lo_[0], hi_[0], lo_[1], hi_[1])
    mn, mx = pos.min(axis=0), pos.max(axis=0)
    return (float(mn[0]), float(mx[0]), float(mn[1]), float(mx[1]))


def _field_image(
    field: Field, extent: tuple[float, float, float, float], resolution: int
) -> np.ndarray:
    """Field values ``[H, W]`` in ``"ij"`` order (axis 0 along x)."""
    if callable(field):
        xs = torch.linspace(extent[0], extent[1], resolution, dtype=torch.float64)
        ys = torch.linspace(extent[2], extent[3], resolution, dtype=torch.float64)
        pts = torch.stack(torch.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2)
        with torch.no_grad():
            values = torch.as_tensor(field(pts.to(torch.get_default_dtype())))
        return values.detach().cpu().double().numpy().reshape(resolution, resolution)
    img = field.detach().cpu().double().numpy() if isinstance(field, Tensor) else np.asarray(field)
    if img.ndim != 2:
        raise ValueError(f"field must be a 2-D array [H, W] or a callable, got shape {img.shape}")
    return img


def plot_mesh(
    mesh: Data,
    field: Field | None = None,
    *,
    ax: Axes | None = None,
    extent: tuple[float, float, float, float] | None = None,
    resolution: int = 128,
    cmap: str = "viridis",
    edge_color: str = "white",
    node_color: str = "white",
    node_size: float = 12.0,
    title: str | None = None,
    colorbar: bool = False,
) -> Axes:
    r"""Draw a mesh (edges as segments, nodes as dots) over a field drawn as an image, like the
    GEN paper's figure 3. Meshes on the sphere (:obj:`pos` :obj:`[N, 3]`) are drawn on 3-D
    axes, with nodes coloured by a callable :obj:`field` evaluated at the nodes.

    Args:
        mesh (Data): a mesh with :obj:`pos` :obj:`[N, 2]` or :obj:`[N, 3]` and
            :obj:`edge_index`.
        field (array or callable, optional): values on a regular grid :obj:`[H, W]`
            (:obj:`field[i, j]` at the :math:`i`-th :math:`x` and :math:`j`-th :math:`y`), or a
            callable from points :obj:`[M, 2]` to values :obj:`[M]`. (default: :obj:`None`)
        ax (matplotlib.axes.Axes, optional): axes to draw on; a new figure otherwise.
            (default: :obj:`None`)
        extent (tuple, optional): :obj:`(x_min, x_max, y_min, y_max)` of the field; defaults to
            the grid's box or the nodes' bounding box. (default: :obj:`None`)
        resolution (int, optional): samples per axis of a callable field.
            (default: :obj:`128`)
        cmap (str, optional): colour map of the field. (default: :obj:`"viridis"`)
        edge_color (str, optional): colour of the edges. (default: :obj:`"white"`)
        node_color (str, optional): colour of the nodes. (default: :obj:`"white"`)
        node_size (float, optional): marker area of the nodes. (default: :obj:`12.0`)
        title (str, optional): axes title. (default: :obj:`None`)
        colorbar (bool, optional): add a colour bar for the field. (default: :obj:`False`)

    Returns:
        The :class:`matplotlib.axes.Axes` drawn on.

    Example:
        >>> from gen_pyg.mesh import grid
        >>> ax = plot_mesh(grid(3), field=lambda p: p[:, 0] * p[:, 1])
        >>> len(ax.collections[0].get_segments())  # one segment per undirected edge
        16
    """
    plt = _pyplot()
    pos, edges = _mesh_arrays(mesh)
    if pos.shape[1] == 3:
        return _plot_sphere(plt, pos, edges, field, ax, cmap, edge_color, node_size, title)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    from matplotlib.collections import LineCollection

    box = extent if extent is not None else _extent(mesh, pos)
    if field is not None:
        img = _field_image(field, box, resolution)
        im = ax.imshow(img.T, origin="lower", extent=box, cmap=cmap, aspect="equal")
        if colorbar:
            ax.figure.colorbar(im, ax=ax)
    segments = np.stack([pos[edges[0]], pos[edges[1]]], axis=1)
    ax.add_collection(LineCollection(list(segments), colors=edge_color, linewidths=0.8))
    ax.scatter(pos[:, 0], pos[:, 1], s=node_size, c=node_color, edgecolors="black",
               linewidths=0.4, zorder=3)  # fmt: skip
    pad = 0.02 * max(box[1] - box[0], box[3] - box[2])
    ax.set_xlim(box[0] - pad, box[1] + pad)
    ax.set_ylim(box[2] - pad, box[3] + pad)
    ax.set_aspect("equal")
    if title is not None:
        ax.set_title(title)
    return ax


def _plot_sphere(
    plt: Any,
    pos: np.ndarray,
    edges: np.ndarray,
    field: Field | None,
    ax: Axes | None,
    cmap: str,
    edge_color: str,
    node_size: float,
    title: str | None,
) -> Axes:
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    ax3d: Any = ax
    if ax3d is None:
        ax3d = plt.figure(figsize=(4, 4)).add_subplot(projection="3d")
    color: Any = "tab:blue"
    if field is not None:
        if not callable(field):
            raise ValueError("on the sphere, field must be a callable of points [M, 3]")
        with torch.no_grad():
            values = field(torch.as_tensor(pos, dtype=torch.get_default_dtype()))
        color = torch.as_tensor(values).detach().cpu().double().numpy()
    segments = np.stack([pos[edges[0]], pos[edges[1]]], axis=1)
    line_color = "gray" if edge_color == "white" else edge_color
    ax3d.add_collection(Line3DCollection(list(segments), colors=line_color, linewidths=0.6))
    ax3d.scatter(pos[:, 0], pos[:, 1], pos[:, 2], s=node_size, c=color, cmap=cmap)
    ax3d.set_box_aspect((1, 1, 1))
    if title is not None:
        ax3d.set_title(title)
    out: Axes = ax3d
    return out


def plot_meshes(
    meshes: Sequence[Data],
    field: Field | None = None,
    *,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 3.5,
    **kwargs: Any,
) -> Figure:
    """Several meshes over the same field in a row (or a grid of :obj:`ncols` columns), e.g. all
    optimised meshes of one house, as in the GEN paper's figure 8. Unless :obj:`extent` is
    given, all panels show the union of the meshes' boxes.

    Args:
        meshes (Sequence[Data]): the meshes.
        field (array or callable, optional): as in :func:`plot_mesh`. (default: :obj:`None`)
        titles (Sequence[str], optional): one title per mesh. (default: :obj:`None`)
        ncols (int, optional): columns; all in one row by default. (default: :obj:`None`)
        size (float, optional): size in inches of each panel. (default: :obj:`3.5`)
        **kwargs: passed to :func:`plot_mesh`.

    Returns:
        The :class:`matplotlib.figure.Figure`.

    Example:
        >>> from gen_pyg.mesh import grid, halton
        >>> fig = plot_meshes([grid(3), halton(9)], titles=["grid", "Halton"])
        >>> len(fig.axes)
        2
    """
    plt = _pyplot()
    meshes = list(meshes)
    if not meshes:
        raise ValueError("meshes must not be empty")
    if titles is not None and len(titles) != len(meshes):
        raise ValueError(f"titles has {len(titles)} entries for {len(meshes)} meshes")
    ncols = len(meshes) if ncols is None else max(1, min(int(ncols), len(meshes)))
    nrows = -(-len(meshes) // ncols)
    sphere = any(m.pos is not None and m.pos.size(-1) == 3 for m in meshes)
    if not sphere and "extent" not in kwargs:
        # One frame for all panels, so that moved nodes are seen moving.
        boxes = np.array([_extent(m, _mesh_arrays(m)[0]) for m in meshes])
        kwargs["extent"] = (boxes[:, 0].min(), boxes[:, 1].max(), boxes[:, 2].min(),
                            boxes[:, 3].max())  # fmt: skip
    fig: Figure = plt.figure(figsize=(size * ncols, size * nrows))
    for i, mesh in enumerate(meshes):
        ax = fig.add_subplot(nrows, ncols, i + 1, projection="3d" if sphere else None)
        plot_mesh(mesh, field, ax=ax, title=None if titles is None else titles[i], **kwargs)
    fig.tight_layout()
    return fig


def plot_mesh_comparison(
    initial: Data,
    optimized: Data,
    field: Field | None = None,
    *,
    titles: tuple[str, str] = ("initial", "optimised"),
    **kwargs: Any,
) -> Figure:
    """Initial and optimised meshes side by side over the same field (GEN paper, figures 3
    and 8): where the optimised nodes gather shows where the model needed resolution.

    Example:
        >>> from gen_pyg.mesh import halton
        >>> fig = plot_mesh_comparison(halton(9, seed=0), halton(9, seed=1))
        >>> [ax.get_title() for ax in fig.axes]
        ['initial', 'optimised']
    """
    return plot_meshes([initial, optimized], field, titles=list(titles), **kwargs)
