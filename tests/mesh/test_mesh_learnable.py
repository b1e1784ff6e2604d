"""LearnableMesh: parameters, gradients, projection, re-meshing, optimiser groups, bad input.

Most losses go through a small differentiable soft-nearest interpolation written in the test
(the paper's representation function: softmax of negative distances over all nodes); one
gradient check goes through a whole float64 GEN."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh import AttachMesh, LearnableMesh, delaunay_edges, grid, halton, icosphere
from gen_pyg.nn import GEN, SoftNearest

CENTRE = torch.tensor([0.7, 0.3])


def soft_nearest(query: Tensor, nodes: Tensor, values: Tensor, tau: float = 0.02) -> Tensor:
    """sum_n softmax_n(-|q - x_n| / tau) values_n, differentiable in the node positions."""
    d = ((query[:, None, :] - nodes[None, :, :]) ** 2).sum(-1).add(1e-12).sqrt()
    return torch.softmax(-d / tau, dim=1) @ values


def bump(x: Tensor, sigma: float = 0.08) -> Tensor:
    """A field with one sharp feature at CENTRE (in the dtype of ``x``)."""
    return torch.exp(-((x - CENTRE.to(x.dtype)) ** 2).sum(-1) / (2 * sigma**2))


QUERIES = grid(24).pos


def toy_loss(pos: Tensor) -> Tensor:
    """Interpolation error of the bump from its values at the nodes (in the dtype of ``pos``)."""
    queries = QUERIES.to(pos.dtype)
    pred = soft_nearest(queries, pos, bump(pos))
    return ((pred - bump(queries)) ** 2).mean()


def test_parameters_and_data() -> None:
    mesh = LearnableMesh(grid(3))
    assert isinstance(mesh.pos, torch.nn.Parameter) and mesh.pos.shape == (9, 2)
    assert [n for n, _ in mesh.named_parameters()] == ["pos"]
    data = mesh.data()
    assert data.pos is mesh.pos and data.num_nodes == 9
    # a given mesh keeps its own edges until the first re-mesh (here the grid's diagonals)
    assert torch.equal(data.edge_index, grid(3).edge_index)
    assert torch.equal(data.face, grid(3).face) and data.diameter.tolist() == [4]
    mesh.remesh()
    edge_index, _ = delaunay_edges(grid(3).pos)
    assert torch.equal(mesh.data().edge_index, edge_index)
    # from bare positions, edges come from the builder
    assert torch.equal(LearnableMesh(grid(3).pos).data().edge_index, edge_index)
    assert repr(mesh) == (
        "LearnableMesh(num_nodes=9, dim=2, domain='box', edges='delaunay')"
    )


def test_per_instance_positions_and_batch() -> None:
    init = halton(12, seed=0).pos
    mesh = LearnableMesh(init, num_instances=3)
    assert mesh.pos.shape == (3, 12, 2)
    batch = mesh.batch([2, 2, 0])
    assert batch.num_graphs == 3 and batch.diameter.shape == (3,)
    batch.pos.sum().backward()
    assert mesh.pos.grad is not None
    # instance 2 is used twice, instance 0 once, instance 1 not at all
    assert mesh.pos.grad[:, 0, 0].tolist() == [1.0, 0.0, 2.0]
    with pytest.raises(ValueError, match="instance must be given"):
        mesh.data()
    with pytest.raises(ValueError, match=r"instance must be in \[0, 3\)"):
        mesh.data(3)
    stacked = LearnableMesh(torch.stack([init, init.flip(0)]))
    assert stacked.num_instances == 2
    assert torch.equal(stacked.positions(1).detach(), init.flip(0))


def test_gradients_reach_pos_through_soft_nearest_loss() -> None:
    mesh = LearnableMesh(halton(16, seed=2))
    loss = toy_loss(mesh.data().pos)
    loss.backward()
    assert mesh.pos.grad is not None and bool(torch.isfinite(mesh.pos.grad).all())
    assert float(mesh.pos.grad.abs().sum()) > 0


def test_gradient_through_the_mesh_matches_finite_differences_in_float64() -> None:
    mesh = LearnableMesh(halton(16, seed=2, dtype=torch.float64))
    pos = mesh.data().pos
    assert mesh.pos.dtype == pos.dtype == torch.float64
    loss = toy_loss(pos)
    assert loss.dtype == torch.float64
    loss.backward()
    grad = mesh.pos.grad
    assert grad is not None and grad.dtype == torch.float64
    # central differences on every coordinate, through the mesh (mesh.data().pos) as well
    eps = 1e-6
    fd = torch.empty_like(grad)
    with torch.no_grad():
        for i, d in itertools.product(range(mesh.num_nodes), range(2)):
            mesh.pos[i, d] += eps
            plus = toy_loss(mesh.data().pos)
            mesh.pos[i, d] -= 2 * eps
            minus = toy_loss(mesh.data().pos)
            mesh.pos[i, d] += eps
            fd[i, d] = (plus - minus) / (2 * eps)
    # float64 central differences agree to ~1e-10 of the gradient's scale (measured); a
    # float32 gradient (~4e-7) or one off by 1e-6 would be outside these tolerances
    scale = float(grad.abs().max())
    torch.testing.assert_close(grad, fd, rtol=1e-7, atol=1e-8 * scale)
    # and autograd's own check of the loss as a function of the positions
    p = halton(16, seed=2, dtype=torch.float64).pos.requires_grad_()
    assert torch.autograd.gradcheck(toy_loss, (p,), eps=1e-6, atol=1e-8, rtol=1e-6)


def test_gradient_through_a_float64_gen_matches_finite_differences() -> None:
    # the whole loss in float64: mesh positions, every GEN parameter, the example's tensors
    torch.manual_seed(0)
    mesh = LearnableMesh(halton(9, seed=3, dtype=torch.float64))
    model = GEN.paper(latent_channels=8, num_steps=2,
                      representation=SoftNearest(log_temperature=1.0)).double()
    g = torch.Generator().manual_seed(0)
    inputs = torch.rand(12, 2, generator=g, dtype=torch.float64)
    queries = torch.rand(10, 2, generator=g, dtype=torch.float64)
    example = Data(input_pos=inputs, input_x=bump(inputs)[:, None], query_pos=queries,
                   y=bump(queries)[:, None])
    params = dict(model.named_parameters())
    assert params and {p.dtype for p in params.values()} == {torch.float64}
    assert {t.dtype for _, t in example.items()} == {torch.float64}

    def gen_loss(mesh_data: Data) -> Tensor:
        data = AttachMesh(mesh_data)(example.clone())
        out = model(data)
        assert out.dtype == torch.float64
        return torch.nn.functional.mse_loss(out, data.y)

    loss = gen_loss(mesh.data())
    assert loss.dtype == torch.float64
    loss.backward()
    grad = mesh.pos.grad
    assert grad is not None and grad.dtype == torch.float64 and float(grad.abs().max()) > 0
    # central differences on every coordinate, through mesh.data() (fixed edges: no re-mesh)
    eps = 1e-6
    fd = torch.empty_like(grad)
    with torch.no_grad():
        for i, d in itertools.product(range(mesh.num_nodes), range(2)):
            mesh.pos[i, d] += eps
            plus = gen_loss(mesh.data())
            mesh.pos[i, d] -= 2 * eps
            minus = gen_loss(mesh.data())
            mesh.pos[i, d] += eps
            fd[i, d] = (plus - minus) / (2 * eps)
    # float64 agrees to 2e-8 of the gradient's scale (measured); in float32 these differences
    # are noise (errors 10x the gradient), and a gradient off by 1e-5 is outside the tolerance
    scale = float(grad.abs().max())
    torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-8 * scale)
    # and autograd's own check, of the positions and of the learnable temperature
    edges = mesh.data()

    def of_positions(pos: Tensor) -> Tensor:
        return gen_loss(Data(pos=pos, edge_index=edges.edge_index, diameter=edges.diameter))

    p = mesh.pos.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(of_positions, (p,), eps=1e-6, atol=1e-8, rtol=1e-6)


def test_step_project_remesh_stays_a_valid_triangulation(assert_triangulation) -> None:
    mesh = LearnableMesh(halton(20, seed=1))
    before = mesh.data().edge_index
    opt = torch.optim.SGD(mesh.parameters(), lr=1.0)
    # a large step to the right and slightly up: several nodes leave the box
    pos = mesh.data().pos
    (-(pos[:, 0] * 0.4).sum() - (pos[:, 1] * 0.05).sum()).backward()
    opt.step()
    assert bool((mesh.pos.detach()[:, 0] > 1).any())
    mesh.post_step()
    pos = mesh.pos.detach()
    assert bool(((pos >= 0) & (pos <= 1)).all())
    data = mesh.data()
    assert not torch.equal(data.edge_index, before)
    expected, _ = delaunay_edges(pos)
    assert torch.equal(data.edge_index, expected)
    # clamping lined nodes up on the wall x = 1: still a Delaunay triangulation of the hull
    assert int((pos[:, 0] == 1).sum()) >= 3
    assert_triangulation(pos, data.edge_index, data.face)


def test_sphere_domain_projects_and_remeshes() -> None:
    mesh = LearnableMesh(icosphere(0), domain="sphere")
    with torch.no_grad():
        mesh.pos.mul_(1.5).add_(0.01)
    mesh.post_step()
    torch.testing.assert_close(mesh.pos.detach().norm(dim=1), torch.ones(12))
    assert mesh.data().num_edges == 60 and mesh.data().face.shape == (3, 20)


def test_few_steps_reduce_loss_and_move_nodes_toward_the_feature() -> None:
    mesh = LearnableMesh(halton(25, seed=0))
    opt = torch.optim.Adam(mesh.param_groups(lr_pos=1e-2))
    start = mesh.pos.detach().clone()
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = toy_loss(mesh.data().pos)
        loss.backward()
        opt.step()
        mesh.post_step()
        losses.append(float(loss.detach()))
    final = float(toy_loss(mesh.pos.detach()))
    assert final < 0.5 * losses[0]
    # Nodes gather around the feature (on its flanks, where the field bends): more of them
    # within 0.3 of it, and closer on average. (Measured: 6 -> 12 nodes, 0.44 -> 0.33.)
    near = lambda p: int(((p - CENTRE).norm(dim=1) < 0.3).sum())  # noqa: E731
    assert near(mesh.pos.detach()) >= near(start) + 3
    dist = lambda p: float((p - CENTRE).norm(dim=1).mean())  # noqa: E731
    assert dist(mesh.pos.detach()) < dist(start) - 0.05


def test_param_groups() -> None:
    mesh = LearnableMesh(grid(2))
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    model.mesh = mesh  # a mesh inside the model is not counted twice
    groups = mesh.param_groups(model)
    assert [g["lr"] for g in groups] == [3e-4, 3e-3]
    assert groups[0]["params"] == [mesh.pos] and len(groups[1]["params"]) == 4
    torch.optim.Adam(groups)  # no parameter in two groups
    with pytest.raises(ValueError, match="lr_pos must be a non-negative number"):
        mesh.param_groups(model, lr_pos=-1.0)


def test_state_dict_round_trip_remeshes() -> None:
    a, b = LearnableMesh(halton(10, seed=0)), LearnableMesh(halton(10, seed=1))
    b.data()  # edges computed for b's own positions
    b.load_state_dict(a.state_dict())
    assert torch.equal(b.data().edge_index, a.data().edge_index)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((torch.tensor([[0.5, 0.5], [1.2, 0.5]]),), {}, ValueError, "outside the domain box"),
        ((torch.tensor([[0.5, -0.1]]),), {"bounds": (0.0, 2.0)}, ValueError, "outside"),
        ((torch.tensor([[0.5, float("nan")]]),), {}, ValueError, "NaN or infinite"),
        ((torch.tensor([[0.5, float("inf")]]),), {"domain": None}, ValueError, "NaN or inf"),
        ((torch.tensor([[0.0, 0.0, 2.0]]),), {"domain": "sphere"}, ValueError, "unit sphere"),
        ((torch.rand(2, 3, 2),), {"num_instances": 3}, ValueError, "does not match"),
        ((torch.rand(3, 2),), {"num_instances": 0}, ValueError, "num_instances must be at"),
        ((torch.rand(3, 2),), {"domain": "torus"}, ValueError, "domain must be one of"),
        ((torch.rand(3, 2),), {"edges": "voronoi"}, ValueError, "edges must be one of"),
        (([[0.5, 0.5]],), {}, TypeError, "Tensor or a Data"),
        ((torch.zeros(0, 2),), {}, ValueError, "at least one point"),
    ],
)
def test_bad_input(args: tuple, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        LearnableMesh(*args, **kwargs)


def test_diverging_step_is_reported() -> None:
    mesh = LearnableMesh(grid(2))
    with torch.no_grad():
        mesh.pos[0, 0] = math.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        mesh.post_step()
