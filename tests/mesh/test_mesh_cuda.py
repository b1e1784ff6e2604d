"""Builders and LearnableMesh follow the device of their inputs (skipped without CUDA)."""

from __future__ import annotations

import pytest
import torch

from gen_pyg.mesh import (
    LearnableMesh,
    delaunay,
    grid,
    halton,
    icosphere,
    radius_mesh,
    sphere_latlong,
)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


def test_builders_on_cuda() -> None:
    for mesh in (grid(3, device="cuda"), halton(10, device="cuda"),
                 sphere_latlong(4, device="cuda"), icosphere(1, device="cuda"),
                 delaunay(torch.rand(8, 2, device="cuda")),
                 radius_mesh(torch.rand(8, 2, device="cuda"), 0.5)):  # fmt: skip
        for key in mesh.keys():
            if isinstance(mesh[key], torch.Tensor):
                assert mesh[key].is_cuda, key
    cpu, gpu = grid(4), grid(4, device="cuda")
    assert torch.equal(cpu.edge_index, gpu.edge_index.cpu())


def test_learnable_mesh_on_cuda() -> None:
    mesh = LearnableMesh(halton(16), num_instances=2).to("cuda")
    opt = torch.optim.Adam(mesh.param_groups())
    mesh.batch([0, 1]).pos.pow(2).sum().backward()
    opt.step()
    mesh.post_step()
    data = mesh.data(1)
    assert data.pos.is_cuda and data.edge_index.is_cuda and data.diameter.is_cuda
    assert bool(((mesh.pos >= 0) & (mesh.pos <= 1)).all())
