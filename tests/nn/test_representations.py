"""Representation functions: exact hand cases, equivalences and gradcheck in float64."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch_geometric.data import Batch, Data

from gen_pyg.nn import Barycentric, Bilinear, SoftNearest, get_representation
from gen_pyg.testing import assignment_to_dense


def grid_mesh(
    shape: tuple[int, ...], lo: float = 0.0, hi: float = 1.0, dtype: torch.dtype = torch.float32
) -> Data:
    axes = [torch.linspace(lo, hi, k, dtype=dtype) for k in shape]
    pos = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(shape))
    d = len(shape)
    return Data(
        pos=pos,
        grid_shape=torch.tensor([shape]),
        grid_lo=torch.full((1, d), lo, dtype=dtype),
        grid_hi=torch.full((1, d), hi, dtype=dtype),
    )


# ---------------------------------------------------------------- SoftNearest
def test_soft_nearest_hand_case() -> None:
    nodes = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    point = torch.tensor([[0.0, 0.0]])
    row, col, w = SoftNearest()(point, nodes)
    # distances 0, 1, 2 -> softmax(-d) = e^0, e^-1, e^-2 normalised
    z = 1 + math.exp(-1) + math.exp(-2)
    assert row.tolist() == [0, 0, 0] and col.tolist() == [0, 1, 2]
    assert torch.allclose(w, torch.tensor([1 / z, math.exp(-1) / z, math.exp(-2) / z]))


def test_soft_nearest_temperature_sharpens() -> None:
    nodes = torch.tensor([[0.0], [1.0]])
    rep = SoftNearest(log_temperature=math.log(3.0))
    _, _, w = rep(torch.tensor([[0.0]]), nodes)
    assert torch.allclose(w, torch.tensor([1.0, math.exp(-3.0)]) / (1 + math.exp(-3.0)))


def test_soft_nearest_dense_equals_sparse_with_k_n() -> None:
    g = torch.Generator().manual_seed(0)
    node_counts, point_counts = [3, 7, 5], [4, 2, 6]
    nodes = torch.rand(sum(node_counts), 2, generator=g)
    points = torch.rand(sum(point_counts), 2, generator=g)
    nb = torch.repeat_interleave(torch.arange(3), torch.tensor(node_counts))
    pb = torch.repeat_interleave(torch.arange(3), torch.tensor(point_counts))
    dense = assignment_to_dense(SoftNearest()(points, nodes, pb, nb), 12, 15)
    sparse = assignment_to_dense(SoftNearest(k=max(node_counts))(points, nodes, pb, nb), 12, 15)
    assert torch.allclose(dense, sparse, atol=1e-6)
    assert torch.allclose(dense.sum(1), torch.ones(12))
    # no weight crosses examples
    assert (dense[pb.view(-1, 1) != nb.view(1, -1)] == 0).all()


def test_soft_nearest_sparse_keeps_k_nearest() -> None:
    nodes = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    _row, col, w = SoftNearest(k=2)(torch.tensor([[2.2]]), nodes)
    assert sorted(col.tolist()) == [2, 3]
    assert torch.allclose(w.sum(), torch.tensor(1.0))


def test_soft_nearest_geodesic_on_sphere() -> None:
    nodes = torch.eye(3)
    point = torch.tensor([[1.0, 0.0, 0.0]])
    _, _col, w = SoftNearest(metric="geodesic")(point, nodes)
    z = 1 + 2 * math.exp(-math.pi / 2)
    assert torch.allclose(
        w, torch.tensor([1 / z, math.exp(-math.pi / 2) / z, math.exp(-math.pi / 2) / z])
    )
    near_y = torch.nn.functional.normalize(torch.tensor([[0.1, 0.9, 0.0]]), dim=-1)
    _, col_k, _ = SoftNearest(k=1, metric="geodesic")(near_y, nodes)
    assert col_k.tolist() == [1]
    # points off the unit sphere would be measured by their directions: refused
    with pytest.raises(ValueError, match=r"node_pos\[0\] has norm 2, not on the unit sphere"):
        SoftNearest(k=1, metric="geodesic")(near_y, 2 * nodes)


@pytest.mark.parametrize("k", [None, 2])
def test_soft_nearest_gradcheck_including_point_on_node(k: int | None) -> None:
    rep = SoftNearest(k=k).double()
    nodes = torch.tensor(
        [[0.0, 0.0], [1.0, 0.2], [0.3, 0.9]], dtype=torch.float64, requires_grad=True
    )
    points = torch.tensor([[0.0, 0.0], [0.4, 0.5]], dtype=torch.float64, requires_grad=True)

    def f(p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return rep(p, n)[2]

    assert torch.autograd.gradcheck(f, (points, nodes))
    w = f(points, nodes)
    w.sum().backward()
    assert torch.isfinite(points.grad).all() and torch.isfinite(nodes.grad).all()


def test_soft_nearest_geodesic_gradcheck() -> None:
    rep = SoftNearest(metric="geodesic").double()
    nodes = torch.nn.functional.normalize(
        torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.3, 1.0]], dtype=torch.float64),
        dim=1,
    )
    nodes.requires_grad_(True)
    points = nodes.detach()[:1].clone().requires_grad_(True)  # a point exactly on a node
    assert torch.autograd.gradcheck(lambda p, n: rep(p, n)[2], (points, nodes))


# ------------------------------------------------------------------- Bilinear
def test_bilinear_hand_case() -> None:
    mesh = grid_mesh((2, 2))
    _row, col, w = Bilinear()(torch.tensor([[0.25, 0.5]]), mesh.pos, mesh=mesh)
    # corner (0,0): 0.75*0.5, (0,1): 0.75*0.5, (1,0): 0.25*0.5, (1,1): 0.25*0.5
    assert col.tolist() == [0, 1, 2, 3]
    assert torch.allclose(w, torch.tensor([0.375, 0.375, 0.125, 0.125]))


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (5,)])
def test_bilinear_reproduces_linear_functions(shape: tuple[int, ...]) -> None:
    mesh = grid_mesh(shape, lo=-1.0, hi=2.0, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    points = -1.0 + 3.0 * torch.rand(50, len(shape), generator=g, dtype=torch.float64)
    dense = assignment_to_dense(Bilinear()(points, mesh.pos, mesh=mesh), 50, mesh.pos.size(0))
    assert torch.allclose(dense.sum(1), torch.ones(50, dtype=torch.float64))
    assert torch.allclose(dense @ mesh.pos, points, atol=1e-12)
    assert (dense >= 0).all() and ((dense > 0).sum(1) <= 2 ** len(shape)).all()


def test_bilinear_batched_grids_of_different_sizes() -> None:
    meshes = [grid_mesh((2, 2)), grid_mesh((4, 3))]
    batch = Batch.from_data_list(meshes)
    points = torch.tensor([[0.3, 0.3], [0.6, 0.9]])
    pb = torch.tensor([0, 1])
    out = assignment_to_dense(Bilinear()(points, batch.pos, pb, batch.batch, mesh=batch), 2, 16)
    one = assignment_to_dense(Bilinear()(points[1:], meshes[1].pos, mesh=meshes[1]), 1, 12)
    assert torch.allclose(out[1, 4:], one[0])
    assert torch.allclose(out @ batch.pos, points, atol=1e-6)


def one_sided_check(
    weights: Callable[[torch.Tensor], torch.Tensor],
    point: torch.Tensor,
    direction: torch.Tensor,
    h: float = 1e-7,
) -> None:
    """At a kink (a point on a node) the weights are piecewise linear: the analytic derivative
    along ``direction`` (into the cell/simplex the function picks) equals the one-sided
    difference quotient, and it is finite."""
    p = point.clone().requires_grad_(True)
    _, jvp = torch.autograd.functional.jvp(weights, (p,), (direction,))
    fd = (weights(point + h * direction) - weights(point)) / h
    assert torch.isfinite(jvp).all()
    assert torch.allclose(jvp, fd, atol=1e-6)


def test_bilinear_gradcheck() -> None:
    mesh = grid_mesh((3, 3), dtype=torch.float64)
    nodes = mesh.pos.clone().requires_grad_(True)
    # interior points of cells, where the weight field is smooth
    points = torch.tensor([[0.6, 0.3], [0.2, 0.7]], dtype=torch.float64, requires_grad=True)

    def dense(p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return assignment_to_dense(Bilinear()(p, n, mesh=mesh), p.size(0), 9)

    assert torch.autograd.gradcheck(dense, (points, nodes))


def test_bilinear_point_on_node_is_finite_one_sided() -> None:
    mesh = grid_mesh((3, 3), dtype=torch.float64)
    on_node = mesh.pos[4:5].clone()  # (0.5, 0.5): the cell above-right is chosen
    dense = assignment_to_dense(Bilinear()(on_node, mesh.pos, mesh=mesh), 1, 9)
    assert dense[0].tolist() == [0.0] * 4 + [1.0] + [0.0] * 4
    direction = torch.tensor([[0.6, 0.8]], dtype=torch.float64)
    one_sided_check(
        lambda p: assignment_to_dense(Bilinear()(p, mesh.pos, mesh=mesh), 1, 9), on_node, direction
    )


def test_bilinear_rejects_non_grid_meshes() -> None:
    mesh = grid_mesh((3, 3))
    moved = mesh.pos.clone()
    moved[4] += 0.1
    with pytest.raises(ValueError, match="do not form the regular grid"):
        Bilinear()(torch.rand(2, 2), moved, mesh=mesh)
    with pytest.raises(ValueError, match="needs a regular grid mesh"):  # no metadata to read
        Bilinear()(torch.rand(2, 2), moved, mesh=Data(pos=moved))
    with pytest.raises(ValueError, match="node counts do not match"):
        Bilinear()(torch.rand(2, 2), mesh.pos[:8], mesh=mesh)


# ---------------------------------------------------------------- Barycentric
def square_mesh(dtype: torch.dtype = torch.float32) -> Data:
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=dtype)
    return Data(pos=pos, face=torch.tensor([[0, 0], [1, 2], [2, 3]]))


def test_barycentric_hand_case() -> None:
    mesh = square_mesh()
    _row, col, w = Barycentric()(torch.tensor([[0.75, 0.25]]), mesh.pos, mesh=mesh)
    # inside triangle (0, 1, 2): x = 0.25*v0 + 0.5*v1 + 0.25*v2
    assert col.tolist() == [0, 1, 2]
    assert torch.allclose(w, torch.tensor([0.25, 0.5, 0.25]))


def test_barycentric_reproduces_linear_functions_and_nearest_outside() -> None:
    mesh = square_mesh(torch.float64)
    g = torch.Generator().manual_seed(0)
    inside = torch.rand(30, 2, generator=g, dtype=torch.float64)
    outside = torch.tensor([[1.5, 1.2], [-0.5, 0.1]], dtype=torch.float64)
    points = torch.cat([inside, outside])
    dense = assignment_to_dense(Barycentric()(points, mesh.pos, mesh=mesh), 32, 4)
    assert torch.allclose(dense[:30] @ mesh.pos, inside, atol=1e-12)
    assert (dense[:30] >= -1e-12).all()
    assert dense[30].tolist() == [0.0, 0.0, 1.0, 0.0] and dense[31].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_barycentric_gradcheck() -> None:
    mesh = square_mesh(torch.float64)
    nodes = mesh.pos.clone().requires_grad_(True)
    points = torch.tensor([[0.7, 0.2], [0.3, 0.6]], dtype=torch.float64, requires_grad=True)

    def dense(p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return assignment_to_dense(Barycentric()(p, n, mesh=mesh), p.size(0), 4)

    assert torch.autograd.gradcheck(dense, (points, nodes))


def test_barycentric_point_on_node_is_finite_one_sided() -> None:
    mesh = square_mesh(torch.float64)
    on_node = mesh.pos[1:2].clone()  # vertex (1, 0) belongs to triangle (0, 1, 2) only
    dense = assignment_to_dense(Barycentric()(on_node, mesh.pos, mesh=mesh), 1, 4)
    assert dense[0].tolist() == [0.0, 1.0, 0.0, 0.0]
    direction = torch.tensor([[-0.6, 0.3]], dtype=torch.float64)  # into that triangle
    one_sided_check(
        lambda p: assignment_to_dense(Barycentric()(p, mesh.pos, mesh=mesh), 1, 4),
        on_node,
        direction,
    )
    # gradients with respect to node positions are finite there too
    nodes = mesh.pos.clone().requires_grad_(True)
    Barycentric()(on_node, nodes, mesh=mesh)[2].pow(2).sum().backward()
    assert nodes.grad is not None and torch.isfinite(nodes.grad).all()


def test_barycentric_needs_faces() -> None:
    with pytest.raises(ValueError, match="needs the mesh's simplices"):
        Barycentric()(torch.rand(1, 2), torch.rand(3, 2), mesh=Data())
    with pytest.raises(ValueError, match=r"mesh.face must have shape \[3, F\]"):
        Barycentric()(torch.rand(1, 2), torch.rand(3, 2), mesh=Data(face=torch.zeros(4, 1).long()))


def test_registry() -> None:
    assert isinstance(get_representation("bilinear"), Bilinear)
    assert str(get_representation("soft_nearest", k=4)) == "SoftNearest(k=4, metric=euclidean)"
    with pytest.raises(ValueError, match="representation must be one of"):
        get_representation("nearest")


def test_soft_nearest_sparse_fast_path_equals_scatter_softmax() -> None:
    from torch_geometric.utils import softmax

    g = torch.Generator().manual_seed(3)
    nodes = torch.rand(30, 2, generator=g)
    points = torch.rand(40, 2, generator=g)
    nb = torch.arange(3).repeat_interleave(10)
    pb = torch.arange(3).repeat_interleave(torch.tensor([10, 25, 5]))
    rep = SoftNearest(k=4, log_temperature=1.5)
    row, col, w = rep(points, nodes, pb, nb)  # every example has >= 4 nodes: dense softmax
    assert row.numel() == 40 * 4
    expected = softmax(-math.exp(1.5) * (points[row] - nodes[col]).norm(dim=-1), row)
    assert torch.allclose(w, expected, atol=1e-6)
    assert (pb[row] == nb[col]).all()


def test_register_representation_makes_it_available_by_name() -> None:
    from gen_pyg.nn import (
        Representation,
        register_representation,
        representation_names,
        unregister_representation,
    )

    @register_representation("nearest_test")
    class Nearest(Representation):
        def forward(self, point_pos, node_pos, point_batch=None, node_batch=None, mesh=None):  # type: ignore[no-untyped-def]
            dist = torch.cdist(point_pos, node_pos, compute_mode="donot_use_mm_for_euclid_dist")
            col = dist.argmin(1)
            return torch.arange(point_pos.size(0)), col, torch.ones(point_pos.size(0))

    try:
        assert "nearest_test" in representation_names()
        rep = get_representation("nearest_test")
        assert isinstance(rep, Nearest)
        _, col, _ = rep(torch.tensor([[0.9, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        assert col.tolist() == [1]
        with pytest.raises(ValueError, match="already registered as 'nearest_test'"):
            register_representation("nearest_test")(type("Other", (Nearest,), {}))
        with pytest.raises(TypeError, match="decorates Representation subclasses"):
            register_representation("not_a_rep")(int)  # type: ignore[type-var]
    finally:
        unregister_representation("nearest_test")
    assert "nearest_test" not in representation_names()
    with pytest.raises(ValueError, match="no representation is registered"):
        unregister_representation("nearest_test")


def _dense_as_assignment_matrix(
    rep: SoftNearest, points: torch.Tensor, nodes: torch.Tensor, pb: torch.Tensor, nb: torch.Tensor
) -> torch.Tensor:
    """The padded blocks of ``rep.dense`` scattered back into one [P, N] matrix."""
    out = rep.dense(points, nodes, pb, nb)
    assert out is not None
    weight, point_mask, node_mask = out
    if point_mask is None:  # no padding
        point_mask = torch.ones(weight.shape[:2], dtype=torch.bool)
    if node_mask is None:
        node_mask = torch.ones(weight.size(0), weight.size(2), dtype=torch.bool)
    full = points.new_zeros(points.size(0), nodes.size(0))
    for b in range(weight.size(0)):
        p_idx, n_idx = (pb == b).nonzero().view(-1), (nb == b).nonzero().view(-1)
        block = weight[b][point_mask[b]][:, node_mask[b]]
        full[p_idx.view(-1, 1), n_idx.view(1, -1)] = block
        assert (weight[b][~point_mask[b]] == 0).all() and (weight[b][:, ~node_mask[b]] == 0).all()
    return full


@pytest.mark.parametrize("metric", ["euclidean", "geodesic", "custom"])
@pytest.mark.parametrize("padded", [False, True])
def test_soft_nearest_dense_blocks_equal_pairwise_assignment(metric: str, padded: bool) -> None:
    # "custom" goes through the expanded-pairs path of pairwise_distance, the named metrics
    # through torch.cdist; equal-size batches take the no-padding path of dense()
    g = torch.Generator().manual_seed(11)
    fn = (lambda a, b: (a - b).abs().sum(-1)) if metric == "custom" else metric
    rep = SoftNearest(metric=fn, log_temperature=0.7).double()
    node_counts, point_counts = ([5, 3, 4], [2, 6, 3]) if padded else ([4, 4, 4], [3, 3, 3])
    nodes = torch.randn(sum(node_counts), 3, generator=g, dtype=torch.float64)
    points = torch.randn(sum(point_counts), 3, generator=g, dtype=torch.float64)
    if metric == "geodesic":  # on the unit sphere
        nodes = torch.nn.functional.normalize(nodes, dim=-1)
        points = torch.nn.functional.normalize(points, dim=-1)
    nb = torch.repeat_interleave(torch.arange(3), torch.tensor(node_counts))
    pb = torch.repeat_interleave(torch.arange(3), torch.tensor(point_counts))
    expected = assignment_to_dense(rep(points, nodes, pb, nb), points.size(0), nodes.size(0))
    got = _dense_as_assignment_matrix(rep, points, nodes, pb, nb)
    assert torch.allclose(got, expected, atol=1e-12)


def test_soft_nearest_dense_gradcheck_with_point_on_node() -> None:
    rep = SoftNearest(log_temperature=0.3).double()
    nodes = torch.tensor(
        [[0.0, 0.0], [1.0, 0.2], [0.3, 0.9], [0.5, 0.5]], dtype=torch.float64, requires_grad=True
    )
    points = torch.tensor(
        [[0.0, 0.0], [0.4, 0.5], [0.9, 0.1]], dtype=torch.float64, requires_grad=True
    )
    pb, nb = torch.tensor([0, 0, 1]), torch.tensor([0, 0, 1, 1])

    def f(p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        out = rep.dense(p, n, pb, nb)
        assert out is not None
        return out[0]

    assert torch.autograd.gradcheck(f, (points, nodes))
    f(points, nodes).sum().backward()
    assert torch.isfinite(points.grad).all() and torch.isfinite(nodes.grad).all()
