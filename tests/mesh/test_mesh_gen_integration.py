"""LearnableMesh with the GEN model: gradients reach positions, and fitting moves them."""

from __future__ import annotations

import torch
from torch_geometric.data import Batch, Data

from gen_pyg.mesh import AttachMesh, LearnableMesh, fit_positions, grid
from gen_pyg.nn import GEN, SoftNearest
from gen_pyg.testing import FOLLOW_BATCH

FEATURE = torch.tensor([0.75, 0.3])


def bump(x: torch.Tensor) -> torch.Tensor:
    """A field with one sharp feature at FEATURE."""
    return torch.exp(-((x - FEATURE) ** 2).sum(-1, keepdim=True) / 0.01)


def scenarios(g: torch.Generator, count: int) -> list[Data]:
    out = []
    for _ in range(count):
        inputs = torch.rand(40, 2, generator=g)
        amp = 0.5 + torch.rand(1, generator=g)
        queries = torch.rand(60, 2, generator=g)
        out.append(Data(input_pos=inputs, input_x=amp * bump(inputs), query_pos=queries,
                        y=amp * bump(queries)))
    return out


def with_mesh(mesh_data: Data, batch: list[Data]) -> Batch:
    attach = AttachMesh(mesh_data)  # shares the mesh tensors: gradients reach its positions
    return Batch.from_data_list([attach(d.clone()) for d in batch], follow_batch=FOLLOW_BATCH)


def small_gen() -> GEN:
    return GEN.paper(latent_channels=16, num_steps=2,
                     representation=SoftNearest(log_temperature=2.0))


def test_gradients_reach_learnable_positions_through_a_gen_loss() -> None:
    g = torch.Generator().manual_seed(0)
    mesh = LearnableMesh(grid(4))
    model = small_gen()
    batch = with_mesh(mesh.data(), scenarios(g, 3))
    torch.nn.functional.mse_loss(model(batch), batch.y).backward()
    assert mesh.pos.grad is not None
    assert torch.isfinite(mesh.pos.grad).all() and mesh.pos.grad.abs().sum() > 0


def test_fitting_positions_with_a_frozen_gen_reduces_loss_and_moves_nodes_to_the_feature() -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = small_gen()
    train = scenarios(g, 8)
    # Train the weights on a fixed 4x4 grid first (the "physics"), as the paper does.
    fixed = grid(4)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = with_mesh(fixed, train)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(batch), batch.y).backward()
        opt.step()

    mesh = LearnableMesh(grid(4))
    before = mesh.pos.detach().clone()
    weights = {k: v.clone() for k, v in model.state_dict().items()}

    def loss_fn(mesh_data: Data, scen: list[Data]) -> torch.Tensor:
        b = with_mesh(mesh_data, scen)
        return torch.nn.functional.mse_loss(model(b), b.y)

    losses = fit_positions(mesh, loss_fn, [train], model=model, steps=60, lr=1e-2)
    final = float(loss_fn(mesh.data(), train))
    assert final < 0.8 * losses[0]
    dist_before = (before - FEATURE).norm(dim=-1).mean()
    dist_after = (mesh.pos.detach() - FEATURE).norm(dim=-1).mean()
    assert dist_after < dist_before
    # positions stay inside the unit square, and the network weights were not touched
    assert (mesh.pos >= 0).all() and (mesh.pos <= 1).all()
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())
