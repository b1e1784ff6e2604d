"""Neighbour search: hand cases, and torch_cluster vs the exact fallback."""

from __future__ import annotations

import pytest
import torch

from gen_pyg.mesh import grid
from gen_pyg.ops import knn, neighbors, radius, radius_graph
from gen_pyg.ops.pairs import all_pairs

needs_cluster = pytest.mark.skipif(not neighbors.HAS_TORCH_CLUSTER, reason="torch_cluster missing")


def test_knn_hand_case() -> None:
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [10.0, 0.0]])
    y = torch.tensor([[0.9, 0.0], [9.0, 0.0]])
    for backend in ("torch", "auto"):
        out = knn(x, y, k=2, backend=backend)
        # y0: x1 (0.1), x0 (0.9); y1: x3 (1.0), x2 (6.0)
        assert out.tolist() == [[0, 0, 1, 1], [1, 0, 3, 2]]


def test_knn_respects_batches_and_small_examples() -> None:
    x = torch.tensor([[0.0], [1.0], [0.0]])
    bx = torch.tensor([0, 0, 1])
    y = torch.tensor([[0.2], [0.9]])
    by = torch.tensor([0, 1])
    for backend in ("torch", "auto"):
        out = knn(x, y, k=2, batch_x=bx, batch_y=by, backend=backend)
        # example 1 has a single candidate: only it is returned, never one of example 0
        assert out.tolist() == [[0, 0, 1], [0, 1, 2]]


@needs_cluster
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_knn_backends_identical(dim: int) -> None:
    g = torch.Generator().manual_seed(dim)
    x = torch.rand(300, dim, generator=g)
    y = torch.rand(200, dim, generator=g)
    bx = torch.sort(torch.randint(0, 4, (300,), generator=g)).values
    by = torch.sort(torch.randint(0, 4, (200,), generator=g)).values
    a = knn(x, y, 7, bx, by, backend="torch_cluster")
    b = knn(x, y, 7, bx, by, backend="torch")
    assert torch.equal(a, b)


@needs_cluster
def test_fallback_chunks_give_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(50, 2, generator=g), torch.rand(40, 2, generator=g)
    full = knn(x, y, 3, backend="torch")
    monkeypatch.setattr("gen_pyg.ops.neighbors.FALLBACK_MAX_ENTRIES", 64)
    assert torch.equal(knn(x, y, 3, backend="torch"), full)
    assert torch.equal(radius(x, y, 0.3, backend="torch"), radius(x, y, 0.3, backend="auto"))


def test_radius_inclusive_and_uncapped() -> None:
    x = torch.tensor([[0.0], [0.5], [1.0], [2.0]])
    y = torch.tensor([[0.0]])
    for backend in ("torch", "auto"):
        assert radius(x, y, 1.0, backend=backend).tolist() == [[0, 0, 0], [0, 1, 2]]
    # 100 neighbours inside the radius: none is dropped (torch_cluster caps at 32 by default)
    many = torch.zeros(100, 2)
    for backend in ("torch", "auto"):
        assert radius(many, torch.zeros(1, 2), 0.1, backend=backend).size(1) == 100


@needs_cluster
def test_radius_backends_identical() -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.rand(200, 3, generator=g)
    b = torch.sort(torch.randint(0, 3, (200,), generator=g)).values
    assert torch.equal(
        radius_graph(x, 0.3, b, backend="torch_cluster"), radius_graph(x, 0.3, b, backend="torch")
    )


def test_radius_graph_symmetric_without_loops() -> None:
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    ei = radius_graph(x, 1.01)
    edges = set(map(tuple, ei.t().tolist()))
    assert edges == {(0, 1), (1, 0), (0, 2), (2, 0)}


def test_all_pairs_hand_case() -> None:
    out = all_pairs(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1]))
    assert out.tolist() == [[0, 1, 2, 2], [0, 0, 1, 2]]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: knn(torch.rand(3, 2), torch.rand(2, 2), 0), "k must be at least 1"),
        (lambda: knn(torch.rand(3, 2), torch.rand(2, 3), 1), "y must have 2 coordinates"),
        (lambda: knn(torch.tensor([[float("nan"), 0.0]]), torch.rand(2, 2), 1), "x contains NaN"),
        (lambda: knn(torch.rand(3), torch.rand(2, 2), 1), r"x must have shape \[num_points"),
        (lambda: radius(torch.rand(3, 2), torch.rand(2, 2), 0.0), "r must be a positive"),
        (
            lambda: knn(torch.rand(3, 2), torch.rand(2, 2), 1, batch_x=torch.tensor([1, 0, 0])),
            "batch_x must be sorted",
        ),
        (lambda: knn(torch.rand(3, 2), torch.rand(2, 2), 1, backend="faiss"), "backend must be"),
    ],
)
def test_bad_input_names_argument(call: object, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()  # type: ignore[operator]


def test_spmm_matches_dense_product_and_gradcheck(monkeypatch: pytest.MonkeyPatch) -> None:
    from gen_pyg.ops._sparse import spmm

    g = torch.Generator().manual_seed(5)
    row = torch.randint(0, 6, (40,), generator=g)
    col = torch.randint(0, 9, (40,), generator=g)
    w = torch.rand(40, generator=g, dtype=torch.float64, requires_grad=True)
    x = torch.randn(9, 3, generator=g, dtype=torch.float64, requires_grad=True)
    dense = torch.zeros(6, 9, dtype=torch.float64)
    dense = dense.index_put((row, col), w.detach(), accumulate=True)
    assert torch.allclose(spmm(row, col, w, x, 6), dense @ x.detach())
    # tiny chunks exercise the chunked loops in forward and backward
    monkeypatch.setattr("gen_pyg.ops._sparse.CHUNK_ELEMENTS", 7)
    assert torch.autograd.gradcheck(lambda w_, x_: spmm(row, col, w_, x_, 6), (w, x))
    with pytest.raises(ValueError, match="same length"):
        spmm(row, col[:3], w, x, 6)


def test_edge_relu_sum_matches_formula_and_gradcheck(monkeypatch: pytest.MonkeyPatch) -> None:
    from gen_pyg.ops._fused_edges import edge_relu_sum

    g = torch.Generator().manual_seed(6)
    f64 = torch.float64
    a = torch.randn(5, 4, generator=g, dtype=f64, requires_grad=True)
    b = torch.randn(5, 4, generator=g, dtype=f64, requires_grad=True)
    e = torch.randn(9, 3, generator=g, dtype=f64, requires_grad=True)
    w = torch.randn(4, 3, generator=g, dtype=f64, requires_grad=True)
    c = torch.randn(4, generator=g, dtype=f64, requires_grad=True)
    ei = torch.randint(0, 5, (2, 9), generator=g)
    expected = torch.zeros(5, 4, dtype=f64)
    for k in range(9):
        j, i = ei[:, k].tolist()
        expected[i] += torch.relu(a[i] + b[j] + w @ e[k] + c).detach()
    assert torch.allclose(edge_relu_sum(a, b, e, w, c, ei), expected)
    # one chunk (activations kept for backward) and several (recomputed in backward)
    assert torch.autograd.gradcheck(lambda *t: edge_relu_sum(*t, ei), (a, b, e, w, c))
    one_chunk = torch.autograd.grad(
        edge_relu_sum(a, b, e, w, c, ei).square().sum(), (a, b, e, w, c)
    )
    monkeypatch.setattr("gen_pyg.ops._fused_edges.EDGE_CHUNK", 2)
    assert torch.allclose(edge_relu_sum(a, b, e, w, c, ei), expected)
    assert torch.autograd.gradcheck(lambda *t: edge_relu_sum(*t, ei), (a, b, e, w, c))
    chunked = torch.autograd.grad(edge_relu_sum(a, b, e, w, c, ei).square().sum(), (a, b, e, w, c))
    for x, y in zip(one_chunk, chunked, strict=True):
        assert torch.allclose(x, y, atol=1e-12)
    with pytest.raises(ValueError, match="edge_attr has 8 rows"):
        edge_relu_sum(a, b, e[:8], w, c, ei)


def test_edge_relu_sum_weighted_without_target_term(monkeypatch: pytest.MonkeyPatch) -> None:
    """With per-edge weights and no target term (a decoder's queries have no state), the sum is
    sum_j w_ij relu(b_j + W e_ij + c) over the edges into i; targets without edges get zero.
    Gradients to every input, the weights included, pass gradcheck in one chunk and several."""
    from gen_pyg.ops._fused_edges import edge_relu_sum

    g = torch.Generator().manual_seed(8)
    f64 = torch.float64
    b = torch.randn(5, 4, generator=g, dtype=f64, requires_grad=True)
    e = torch.randn(9, 2, generator=g, dtype=f64, requires_grad=True)
    w = torch.randn(4, 2, generator=g, dtype=f64, requires_grad=True)
    c = torch.randn(4, generator=g, dtype=f64, requires_grad=True)
    ew = torch.rand(9, generator=g, dtype=f64, requires_grad=True)
    src, dst = torch.randint(0, 5, (9,), generator=g), torch.randint(0, 3, (9,), generator=g)
    ei = torch.stack([src, dst])
    expected = torch.zeros(4, 4, dtype=f64)  # target 3 has no edge
    for k in range(9):
        j, i = ei[:, k].tolist()
        expected[i] += ew[k].detach() * torch.relu(b[j] + w @ e[k] + c).detach()
    out = edge_relu_sum(None, b, e, w, c, ei, edge_weight=ew, num_dst=4)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    assert out[3].abs().sum() == 0

    def f(*t: torch.Tensor) -> torch.Tensor:
        return edge_relu_sum(None, *t[:4], ei, edge_weight=t[4], num_dst=4)

    assert torch.autograd.gradcheck(f, (b, e, w, c, ew))
    monkeypatch.setattr("gen_pyg.ops._fused_edges.EDGE_CHUNK", 2)
    assert torch.autograd.gradcheck(f, (b, e, w, c, ew))
    assert torch.autograd.gradcheck(
        lambda *t: edge_relu_sum(None, *t[:4], ei, edge_weight=t[4], num_dst=4, chunk_size=3),
        (b, e, w, c, ew))
    with pytest.raises(ValueError, match="num_dst is needed"):
        edge_relu_sum(None, b, e, w, c, ei)
    with pytest.raises(ValueError, match="edge_weight must have shape"):
        edge_relu_sum(None, b, e, w, c, ei, edge_weight=ew[:3], num_dst=4)
    with pytest.raises(ValueError, match="chunk_size must be a positive"):
        edge_relu_sum(None, b, e, w, c, ei, num_dst=4, chunk_size=0)
    with pytest.raises(ValueError, match="num_dst=2 but dst_term has 5 rows"):
        edge_relu_sum(b, b, e, w, c, ei, num_dst=2)


def test_morton_order_hand_case_and_batches() -> None:
    from gen_pyg.ops.neighbors import morton_order

    # a 4 x 4 lattice: Z-order visits the 2 x 2 quadrants one after another, each in Z-order
    coords = torch.tensor([[i, j] for i in range(4) for j in range(4)], dtype=torch.float32)
    perm = morton_order(coords)
    visited = coords[perm].long().tolist()
    assert visited[:4] == [[0, 0], [1, 0], [0, 1], [1, 1]]
    assert visited[4:8] == [[2, 0], [3, 0], [2, 1], [3, 1]]
    assert visited[8:12] == [[0, 2], [1, 2], [0, 3], [1, 3]]
    assert sorted(perm.tolist()) == list(range(16))
    # examples stay contiguous and in order; within each, the same Z-order
    batch = torch.tensor([0] * 16 + [1] * 16)
    both = morton_order(torch.cat([coords, coords + 0.5]), batch)
    assert (both[:16] < 16).all() and (both[16:] >= 16).all()
    assert torch.equal(both[:16], perm)
    # identical points (a zero-width bounding box) and more than 20 dimensions do not fail
    assert sorted(morton_order(torch.zeros(5, 3)).tolist()) == list(range(5))
    assert morton_order(torch.rand(4, 25), torch.tensor([0, 1, 1, 2])).tolist() == [0, 1, 2, 3]


@needs_cluster
@pytest.mark.parametrize("node_counts", [[50, 60], [50, 3]])  # 3 < k: fewer pairs there
def test_knn_in_curve_order_gives_the_same_pairs(
    monkeypatch: pytest.MonkeyPatch, node_counts: list[int]
) -> None:
    import gen_pyg.ops.neighbors as neighbors

    g = torch.Generator().manual_seed(9)
    x = torch.rand(sum(node_counts), 2, generator=g)
    y = torch.rand(300, 2, generator=g)
    bx = torch.repeat_interleave(torch.arange(2), torch.tensor(node_counts))
    by = torch.repeat_interleave(torch.arange(2), torch.tensor([120, 180]))
    monkeypatch.setattr(neighbors, "KNN_CURVE_ORDER_MIN_QUERIES", 10**9)
    plain = knn(x, y, 5, bx, by, sort=False)
    plain_sorted = knn(x, y, 5, bx, by)
    monkeypatch.setattr(neighbors, "KNN_CURVE_ORDER_MIN_QUERIES", 1)
    curve = knn(x, y, 5, bx, by, sort=False)
    assert torch.equal(knn(x, y, 5, bx, by), plain_sorted)
    # unsorted: grouped by query in increasing order, with the same neighbour set per query
    assert torch.equal(curve[0], plain[0])
    for q in (0, 119, 120, 299):
        assert set(curve[1][curve[0] == q].tolist()) == set(plain[1][plain[0] == q].tolist())
    assert torch.equal(knn(x, y, 5, bx, by, backend="torch"), plain_sorted)


@pytest.mark.parametrize("backend", ["torch", "auto"])
def test_coincident_nodes_are_found_far_from_the_origin(backend: str) -> None:
    # every node of a 7x7 grid is a node of the 13x13 grid; 1000 away from the origin the
    # matrix-product form of the distances (|y|^2 + |x|^2 - 2 y.x) loses all precision in
    # float32 (errors ~0.3, far above the 1/12 spacing), so only exact distances find them
    fine, coarse = grid(13).pos + 1000.0, grid(7).pos + 1000.0
    ij = torch.cartesian_prod(torch.arange(7), torch.arange(7))  # node i * 7 + j of grid(7)
    expected = ij[:, 0] * 2 * 13 + ij[:, 1] * 2  # is node 2i * 13 + 2j of grid(13)
    assert (fine[expected] - coarse).abs().max() < 1e-4  # (float32 spacing at 1000: 6e-5)
    nearest = knn(fine, coarse, 1, backend=backend)
    assert torch.equal(nearest, torch.stack([torch.arange(49), expected]))
    assert torch.equal(radius(fine, coarse, 1e-3, backend=backend), nearest)


def test_radius_without_sort_gives_the_same_pairs() -> None:
    g = torch.Generator().manual_seed(5)
    x, y = torch.rand(60, 2, generator=g), torch.rand(25, 2, generator=g)
    bx = torch.arange(3).repeat_interleave(20)
    by = torch.tensor([0] * 10 + [1] * 8 + [2] * 7)
    for backend in ("torch", "torch_cluster"):
        if backend == "torch_cluster":
            pytest.importorskip("torch_cluster")
        sorted_pairs = radius(x, y, 0.3, bx, by, backend=backend)
        unsorted = radius(x, y, 0.3, bx, by, backend=backend, sort=False)
        assert sorted(zip(*unsorted.tolist(), strict=True)) == sorted(
            zip(*sorted_pairs.tolist(), strict=True))
