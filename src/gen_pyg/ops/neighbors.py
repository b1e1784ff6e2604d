"""Neighbour search over batches: torch_cluster first, an exact chunked fallback otherwise."""

from __future__ import annotations

import torch
from torch import Tensor

from gen_pyg._compat import eager_only
from gen_pyg._validation import check_batch, check_finite_all, check_int, check_points

try:  # pragma: no cover - exercised through both branches in tests via ``backend``
    import torch_cluster

    HAS_TORCH_CLUSTER = True
except ImportError:  # pragma: no cover
    torch_cluster = None
    HAS_TORCH_CLUSTER = False

#: Upper bound on the number of distance entries the fallback holds at once.
FALLBACK_MAX_ENTRIES = 2**24


def _resolve_backend(backend: str) -> str:
    if backend not in ("auto", "torch_cluster", "torch"):
        raise ValueError(f"backend must be 'auto', 'torch_cluster' or 'torch', got {backend!r}")
    if backend == "auto":
        return "torch_cluster" if HAS_TORCH_CLUSTER else "torch"
    if backend == "torch_cluster" and not HAS_TORCH_CLUSTER:
        raise ImportError(
            "backend='torch_cluster' was requested but torch_cluster is not installed"
        )
    return backend


def _batch_or_zeros(batch: Tensor | None, n: int, device: torch.device) -> Tensor:
    return torch.zeros(n, dtype=torch.long, device=device) if batch is None else batch


def _chunks(num_y: int, num_x: int) -> range:
    step = max(1, FALLBACK_MAX_ENTRIES // max(1, num_x))
    return range(0, num_y, step)


#: Queries from which :func:`knn` searches in space-filling-curve order (see
#: :func:`morton_order`): below it the sort costs more than the cache locality it buys.
KNN_CURVE_ORDER_MIN_QUERIES = 2**15


def morton_order(pos: Tensor, batch: Tensor | None = None) -> Tensor:
    r"""A permutation that puts points in Z-order (Morton order): sorted by example, then along
    a space-filling curve, so that points close in the order are close in space. Gathering or
    scattering in this order touches memory far more locally than in a random order.

    Coordinates are quantised on :math:`2^b` levels per axis over the bounding box of
    :obj:`pos`, with :math:`b = \min(16, \lfloor 40 / D \rfloor)`; for :math:`D > 20`
    (less than two levels per axis) the order is by example only.

    Args:
        pos (Tensor): points :obj:`[P, D]`.
        batch (Tensor, optional): example index of each point. (default: :obj:`None`)

    Returns:
        A long tensor :obj:`[P]`: :obj:`pos[perm]` is in Z-order.

    Example:
        >>> pos = torch.tensor([[1.0, 1.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
        >>> morton_order(pos).tolist()
        [1, 3, 2, 0]
    """
    n, dim = pos.size(0), pos.size(1)
    bits = min(16, 40 // max(dim, 1))
    key = torch.zeros(n, dtype=torch.long, device=pos.device)
    if n > 1 and bits >= 2:
        p = pos.detach()
        lo, hi = p.min(0).values, p.max(0).values
        scale = (2**bits - 1) / (hi - lo).clamp(min=torch.finfo(p.dtype).tiny)
        q = ((p - lo) * scale).long().clamp_(0, 2**bits - 1)
        for b in range(bits):
            for d in range(dim):
                key |= ((q[:, d] >> b) & 1) << (b * dim + d)
    if batch is not None:
        key += batch.to(torch.long) << 40
    return torch.argsort(key, stable=True)


def _regroup_by_query(row: Tensor, col: Tensor, perm: Tensor) -> tuple[Tensor, Tensor]:
    """Pairs found for the permuted queries ``y[perm]`` (grouped by permuted query, in
    increasing order) as pairs of the original queries, grouped in increasing query order."""
    num_queries = perm.numel()
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(num_queries, device=perm.device)
    if num_queries and row.numel() % num_queries == 0:
        k = row.numel() // num_queries
        queries = torch.arange(num_queries, device=row.device)
        # rows are non-decreasing, so first and last of every block of k equal to the query
        # means k pairs for every query
        if torch.equal(row[::k], queries) and torch.equal(row[k - 1 :: k], queries):
            new_row = queries.view(-1, 1).expand(num_queries, k).reshape(-1)
            return new_row, col.view(num_queries, k)[inv].view(-1)
    counts = torch.bincount(row, minlength=num_queries)  # pairs per permuted query
    starts = torch.cumsum(counts, 0) - counts
    counts_orig, starts_orig = counts[inv], starts[inv]  # per original query
    offsets = torch.cumsum(counts_orig, 0) - counts_orig
    total = row.numel()
    within = torch.arange(total, device=row.device) - torch.repeat_interleave(
        offsets, counts_orig, output_size=total
    )
    take = torch.repeat_interleave(starts_orig, counts_orig, output_size=total) + within
    new_row = torch.repeat_interleave(
        torch.arange(num_queries, device=row.device), counts_orig, output_size=total
    )
    return new_row, col[take]


def _sort_pairs(row: Tensor, col: Tensor, dist: Tensor) -> Tensor:
    """Canonical order: by query, then by distance, then by candidate index."""
    if row.numel() == 0:
        return torch.stack([row, col])
    order = torch.argsort(col, stable=True)
    order = order[torch.argsort(dist[order], stable=True)]
    order = order[torch.argsort(row[order], stable=True)]
    return torch.stack([row[order], col[order]])


@eager_only
@torch.no_grad()
def knn(
    x: Tensor,
    y: Tensor,
    k: int,
    batch_x: Tensor | None = None,
    batch_y: Tensor | None = None,
    backend: str = "auto",
    sort: bool = True,
) -> Tensor:
    r"""For every point of :obj:`y`, the :obj:`k` nearest points of :obj:`x` in the same example.

    Runs without gradient tracking (neighbour sets are discrete) and outside
    :func:`torch.compile` graphs (the compiled extension has no fake-tensor kernels). Where an
    example of :obj:`x` has fewer than :obj:`k` points, all of them are returned for its queries.

    Args:
        x (Tensor): candidate points.
        y (Tensor): query points.
        k (int): number of neighbours.
        batch_x (Tensor, optional): example index of each candidate, sorted. (default: :obj:`None`)
        batch_y (Tensor, optional): example index of each query, sorted. (default: :obj:`None`)
        backend (str, optional): :obj:`"torch_cluster"`, :obj:`"torch"` (exact chunked
            :func:`torch.cdist` + :func:`torch.topk`, bounded memory) or :obj:`"auto"` (the first
            that is installed). (default: :obj:`"auto"`)
        sort (bool, optional): order the pairs canonically (by query, then distance, then
            candidate index), so that both backends give identical tensors; without it pairs
            are still grouped by query, in increasing query order. (default: :obj:`True`)

    Returns:
        An index tensor :obj:`[2, M]` of pairs (query index into :obj:`y`, candidate index into
        :obj:`x`).

    Shapes:
        - **x**: :math:`(N, D)`, **y**: :math:`(P, D)`, **output**: :math:`(2, M)` with
          :math:`M \le P k`.

    Example:
        >>> x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
        >>> knn(x, torch.tensor([[0.9, 0.0]]), k=2).tolist()
        [[0, 0], [1, 0]]
    """
    check_points(x, "x", finite=False)
    check_points(y, "y", dim=x.size(1), finite=False)
    check_finite_all([(x, "x"), (y, "y")])  # see gen_pyg.set_value_checks
    check_int(k, "k")
    bx = check_batch(_batch_or_zeros(batch_x, x.size(0), x.device), x.size(0), "batch_x")
    by = check_batch(_batch_or_zeros(batch_y, y.size(0), y.device), y.size(0), "batch_y")
    if x.size(0) == 0 or y.size(0) == 0:
        return torch.empty(2, 0, dtype=torch.long, device=x.device)

    if _resolve_backend(backend) == "torch_cluster":
        if y.size(0) >= KNN_CURVE_ORDER_MIN_QUERIES and y.device.type == "cpu":
            # the tree search is about twice as fast on large query sets in Z-order (cache)
            perm = morton_order(y, by)
            row, col = torch_cluster.knn(x, y[perm], k, bx, by[perm])
            row, col = _regroup_by_query(row, col, perm)
        else:
            row, col = torch_cluster.knn(x, y, k, bx, by)
    else:
        rows, cols = [], []
        for start in _chunks(y.size(0), x.size(0)):
            stop = min(y.size(0), start + max(1, FALLBACK_MAX_ENTRIES // x.size(0)))
            yc, bc = y[start:stop], by[start:stop]
            # exact differences, not the matrix-product form (|y|^2 + |x|^2 - 2 y.x): its
            # round-off depends on the BLAS kernel and reorders ties (coincident nodes)
            dist = torch.cdist(yc, x, compute_mode="donot_use_mm_for_euclid_dist")
            dist = dist.masked_fill(bc.view(-1, 1) != bx.view(1, -1), float("inf"))
            kk = min(k, x.size(0))
            val, idx = torch.topk(dist, kk, dim=1, largest=False)
            keep = torch.isfinite(val)
            r = torch.arange(start, stop, device=x.device).view(-1, 1).expand_as(idx)
            rows.append(r[keep])
            cols.append(idx[keep])
        row, col = torch.cat(rows), torch.cat(cols)
    if not sort:
        return torch.stack([row, col])
    dist = (y[row] - x[col]).norm(dim=-1)
    return _sort_pairs(row, col, dist)


@eager_only
@torch.no_grad()
def radius(
    x: Tensor,
    y: Tensor,
    r: float,
    batch_x: Tensor | None = None,
    batch_y: Tensor | None = None,
    backend: str = "auto",
    sort: bool = True,
) -> Tensor:
    r"""For every point of :obj:`y`, all points of :obj:`x` of the same example within distance
    :obj:`r` (inclusive). No neighbour is dropped: unlike :func:`torch_cluster.radius`, there is
    no cap on the number of neighbours.

    Args:
        x (Tensor): candidate points.
        y (Tensor): query points.
        r (float): radius, :math:`r > 0`.
        batch_x (Tensor, optional): example index of each candidate. (default: :obj:`None`)
        batch_y (Tensor, optional): example index of each query. (default: :obj:`None`)
        backend (str, optional): as in :func:`knn`. (default: :obj:`"auto"`)
        sort (bool, optional): order the pairs canonically (by query, then distance, then
            candidate index); without it the pairs come in the backend's order, a cost linear
            in the pairs instead of a sort (for sums over the pairs, which need no order).
            (default: :obj:`True`)

    Returns:
        An index tensor :obj:`[2, M]` (query index, candidate index), ordered by query and then by
        increasing distance (with :obj:`sort`).

    Example:
        >>> x = torch.tensor([[0.0], [1.0], [3.0]])
        >>> radius(x, torch.tensor([[0.5]]), r=0.6).tolist()
        [[0, 0], [0, 1]]
    """
    check_points(x, "x", finite=False)
    check_points(y, "y", dim=x.size(1), finite=False)
    check_finite_all([(x, "x"), (y, "y")])  # see gen_pyg.set_value_checks
    if not (isinstance(r, (int, float)) and r > 0 and r < float("inf")):
        raise ValueError(f"r must be a positive finite number, got {r!r}")
    bx = check_batch(_batch_or_zeros(batch_x, x.size(0), x.device), x.size(0), "batch_x")
    by = check_batch(_batch_or_zeros(batch_y, y.size(0), y.device), y.size(0), "batch_y")
    if x.size(0) == 0 or y.size(0) == 0:
        return torch.empty(2, 0, dtype=torch.long, device=x.device)
    if _resolve_backend(backend) == "torch_cluster":
        # torch_cluster's bound is strict (<) on some versions; widen slightly, then filter exactly.
        row, col = torch_cluster.radius(
            x, y, float(r) * (1 + 1e-6), bx, by, max_num_neighbors=x.size(0)
        )
    else:
        rows, cols = [], []
        for start in _chunks(y.size(0), x.size(0)):
            stop = min(y.size(0), start + max(1, FALLBACK_MAX_ENTRIES // x.size(0)))
            # exact mode, as in knn: the matrix-product form's round-off (~1e-4 with some BLAS
            # kernels) would drop a neighbour at distance r
            dist = torch.cdist(y[start:stop], x, compute_mode="donot_use_mm_for_euclid_dist")
            mask = (dist <= r * (1 + 1e-6)) & (by[start:stop].view(-1, 1) == bx.view(1, -1))
            rr, cc = mask.nonzero(as_tuple=True)
            rows.append(rr + start)
            cols.append(cc)
        row, col = torch.cat(rows), torch.cat(cols)
    dist = (y[row] - x[col]).norm(dim=-1)
    keep = dist <= r
    if not sort:
        return torch.stack([row[keep], col[keep]])
    return _sort_pairs(row[keep], col[keep], dist[keep])


@torch.no_grad()
def radius_graph(
    x: Tensor,
    r: float,
    batch: Tensor | None = None,
    loop: bool = False,
    backend: str = "auto",
) -> Tensor:
    r"""Edges between all pairs of points of the same example within distance :obj:`r`.

    Args:
        x (Tensor): node positions :obj:`[N, D]`.
        r (float): radius, :math:`r > 0`.
        batch (Tensor, optional): example index of each node. (default: :obj:`None`)
        loop (bool, optional): keep self loops. (default: :obj:`False`)
        backend (str, optional): as in :func:`knn`. (default: :obj:`"auto"`)

    Returns:
        :obj:`edge_index` :obj:`[2, E]` (source, target), both directions of every pair.

    Example:
        >>> radius_graph(torch.tensor([[0.0], [1.0], [3.0]]), r=1.5).tolist()
        [[1, 0], [0, 1]]
    """
    pairs = radius(x, x, r, batch, batch, backend=backend)
    if not loop:
        pairs = pairs[:, pairs[0] != pairs[1]]
    # radius() returns (target=query, source=candidate); PyG's edge_index is (source, target).
    return pairs.flip(0)
