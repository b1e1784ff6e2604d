"""Distances between paired points: Euclidean, and geodesic on the unit sphere."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

#: A metric maps two ``[M, D]`` tensors of paired points to ``[M]`` distances.
Metric = Callable[[Tensor, Tensor], Tensor]


def euclidean(a: Tensor, b: Tensor) -> Tensor:
    r"""Row-wise Euclidean distance :math:`\lVert a_m - b_m \rVert_2`.

    The gradient is finite (zero) where :math:`a_m = b_m`.

    Example:
        >>> euclidean(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]))
        tensor([5.])
    """
    dist: Tensor = torch.linalg.vector_norm(a - b, dim=-1)
    return dist


def geodesic(a: Tensor, b: Tensor) -> Tensor:
    r"""Row-wise great-circle distance on the unit sphere,
    :math:`\arccos(\hat a_m \cdot \hat b_m)` with :math:`\hat a = a / \lVert a \rVert`.

    Computed as :math:`2 \arcsin(\lVert \hat a - \hat b \rVert / 2)`, which equals the clamped
    arc-cosine of the dot product but keeps a finite gradient where the points coincide (the
    arc-cosine's derivative is infinite there). Works in any dimension (the unit
    :math:`(D-1)`-sphere).

    Example:
        >>> d = geodesic(torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 1.0, 0.0]]))
        >>> torch.allclose(d, torch.tensor([torch.pi / 2]))
        True
    """
    ua = a / torch.linalg.vector_norm(a, dim=-1, keepdim=True)
    ub = b / torch.linalg.vector_norm(b, dim=-1, keepdim=True)
    half_chord = torch.linalg.vector_norm(ua - ub, dim=-1) / 2
    return 2 * torch.asin(half_chord.clamp(max=1.0))


def pairwise_distance(metric: Metric, a: Tensor, b: Tensor) -> Tensor:
    r"""All distances between two batched point sets: :math:`[B, P, D]` and :math:`[B, N, D]`
    give :math:`[B, P, N]` with entry :math:`(b, p, n)` equal to ``metric(a[b, p], b[b, n])``.

    :func:`euclidean` and :func:`geodesic` use :func:`torch.cdist` (in its exact, non-matrix-
    product mode, so coincident points give exactly zero with a zero gradient), which is several
    times faster than pairing the points up; any other metric is applied to the expanded pairs.

    Example:
        >>> a, b = torch.tensor([[[0.0, 0.0]]]), torch.tensor([[[3.0, 4.0], [0.0, 1.0]]])
        >>> pairwise_distance(euclidean, a, b)
        tensor([[[5., 1.]]])
    """
    if metric is euclidean:
        return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")
    if metric is geodesic:
        ua = a / torch.linalg.vector_norm(a, dim=-1, keepdim=True)
        ub = b / torch.linalg.vector_norm(b, dim=-1, keepdim=True)
        chord = torch.cdist(ua, ub, compute_mode="donot_use_mm_for_euclid_dist")
        return 2 * torch.asin((chord / 2).clamp(max=1.0))
    B, P, N, D = a.size(0), a.size(1), b.size(1), a.size(2)
    return metric(
        a.unsqueeze(2).expand(B, P, N, D).reshape(-1, D),
        b.unsqueeze(1).expand(B, P, N, D).reshape(-1, D),
    ).view(B, P, N)


#: Registry of metrics by name.
METRICS: dict[str, Metric] = {"euclidean": euclidean, "geodesic": geodesic}


def get_metric(metric: str | Metric) -> Metric:
    """Look a metric up by name (``"euclidean"``, ``"geodesic"``) or pass a callable through.

    Example:
        >>> get_metric("geodesic") is geodesic
        True
    """
    if callable(metric):
        return metric
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)} or a callable, got {metric!r}")
    return METRICS[metric]
