"""Figures of the scene-representation experiment: context views, the true image of a query
and the image the model chose."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor
from torch_geometric.data import Data

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_scene_retrieval"]


def _rgb(image: Tensor) -> Any:
    """``[3, S, S]`` uint8 or float in [0, 1] -> ``[S, S, 3]`` float numpy in [0, 1]."""
    image = image.detach().cpu()
    if image.dtype == torch.uint8:
        image = image.float() / 255.0
    return image.clamp(0.0, 1.0).permute(1, 2, 0).numpy()


def plot_scene_retrieval(
    batch: Data,
    pred: Tensor,
    *,
    queries: int = 4,
    max_context: int = 8,
    path: str | Path | None = None,
) -> Figure:
    r"""One row per query: its maze's context views, the true image of the query pose and the
    candidate with the largest logit (framed green when right, red when wrong).

    Args:
        batch (Data): A :class:`~gen_pyg.datasets.Mazes` example or batch of them.
        pred (torch.Tensor): Logits :math:`(Q, K)` of
            :class:`~gen_pyg.nn.SceneRetrieval` (candidates: query images, then context
            images).
        queries (int, optional): Rows (the first queries). (default: ``4``)
        max_context (int, optional): Context views shown per row. (default: ``8``)
        path (str or Path, optional): Where to save the figure. (default: ``None``)

    Returns:
        The :class:`~matplotlib.figure.Figure`.
    """
    for key in ("input_img", "query_img"):
        if not isinstance(getattr(batch, key, None), Tensor):
            raise ValueError(f"'batch' has no tensor '{key}' (a Mazes example or batch)")
    q_img, c_img = batch.query_img, batch.input_img
    num_q = q_img.size(0)
    if not isinstance(pred, Tensor) or pred.dim() != 2 or pred.shape != (
            num_q, num_q + c_img.size(0)):
        shape = tuple(pred.shape) if isinstance(pred, Tensor) else type(pred).__name__
        raise ValueError(f"'pred' must be logits [{num_q}, {num_q + c_img.size(0)}] over the "
                         f"batch's candidates (got {shape})")
    if isinstance(queries, bool) or not isinstance(queries, int) or queries < 1:
        raise ValueError(f"'queries' must be an int >= 1 (got {queries!r})")
    if isinstance(max_context, bool) or not isinstance(max_context, int) or max_context < 1:
        raise ValueError(f"'max_context' must be an int >= 1 (got {max_context!r})")
    rows = min(queries, num_q)
    candidates = torch.cat([q_img, c_img], 0)
    chosen = pred.argmax(dim=1)
    # the context views of a query: same example (and same maze when the batch says)
    q_ex = getattr(batch, "query_pos_batch", None)
    c_ex = getattr(batch, "input_pos_batch", None)
    if q_ex is None or c_ex is None:
        q_ex = torch.zeros(num_q, dtype=torch.long)
        c_ex = torch.zeros(c_img.size(0), dtype=torch.long)
    q_maze = getattr(batch, "query_maze", None)
    c_maze = getattr(batch, "input_maze", None)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = max_context + 2
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.25 * rows), squeeze=False)
    for r in range(rows):
        same = c_ex.cpu() == q_ex[r].cpu()
        if q_maze is not None and c_maze is not None:
            same &= c_maze.cpu() == q_maze[r].cpu()
        context = torch.nonzero(same).flatten()[:max_context].tolist()
        for c in range(cols):
            axes[r, c].axis("off")
        for c, index in enumerate(context):
            axes[r, c].imshow(_rgb(c_img[index]))
        axes[r, max_context].imshow(_rgb(q_img[r]))
        pick = int(chosen[r])
        ax = axes[r, max_context + 1]
        ax.imshow(_rgb(candidates[pick]))
        ax.axis("on")
        ax.set_xticks([])
        ax.set_yticks([])
        colour = "green" if pick == r else "red"
        for spine in ax.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(2.5)
        if r == 0:
            axes[r, 0].set_title("context views", fontsize=8, loc="left")
            axes[r, max_context].set_title("true", fontsize=8)
            ax.set_title("chosen", fontsize=8)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig
