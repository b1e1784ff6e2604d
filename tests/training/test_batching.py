"""Group collation and mesh replication equal PyG's own collation; the square symmetries used
as augmentation are the 8 isometries of the square and map Poisson solutions to solutions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from gen_pyg.mesh import AttachMesh, LearnableMesh, grid
from gen_pyg.mesh.batching import FOLLOW_BATCH, collate_group, group_examples, replicate_mesh
from gen_pyg.ops.symmetry import square_symmetry
from gen_pyg.solvers import FDPoissonSolver


def _examples(n: int = 3) -> list[Data]:
    gen = torch.Generator().manual_seed(0)
    return [Data(input_pos=torch.rand(4 + i, 2, generator=gen),
                 input_x=torch.rand(4 + i, 1, generator=gen),
                 query_pos=torch.rand(5, 2, generator=gen), y=torch.rand(5, 1, generator=gen))
            for i in range(n)]


def test_replicate_mesh_equals_attaching_and_collating() -> None:
    mesh = grid(3)
    examples = _examples()
    expected = Batch.from_data_list([AttachMesh(mesh)(d.clone()) for d in examples],
                                    follow_batch=list(FOLLOW_BATCH))
    cache: dict[object, object] = {}
    for _ in range(2):  # the second time from the cache
        got = replicate_mesh(collate_group(examples, with_mesh=False), mesh, cache)
        assert sorted(got.keys()) == sorted(expected.keys())
        for key in expected.keys():
            a, b = got[key], expected[key]
            if isinstance(b, torch.Tensor):
                assert torch.equal(a, b), key
            else:
                assert a == b, key
        assert got.num_nodes == expected.num_nodes
    assert len(cache) == 1


def test_replicate_mesh_passes_gradients_to_learnable_positions() -> None:
    mesh = LearnableMesh(grid(2))
    batch = replicate_mesh(collate_group(_examples(2), with_mesh=False), mesh.data(), {})
    batch.pos.sum().backward()
    assert mesh.pos.grad is not None
    assert torch.equal(mesh.pos.grad, torch.full_like(mesh.pos, 2.0))  # two examples


def test_group_examples_rejects_a_missing_group_attribute() -> None:
    data = [Data(house=torch.tensor([0])), Data()]
    with pytest.raises(ValueError, match="example 1 has no 'house'"):
        group_examples(data, "house", 4)
    # an attribute no example has is never silently turned into plain mini-batches
    with pytest.raises(ValueError, match=r"group_by='house': the examples have no 'house'"):
        group_examples([Data(x=torch.ones(1)) for _ in range(3)], "house", 4)
    assert group_examples([Data(house=torch.tensor([0])) for _ in range(3)], None, 2) == [
        [0, 1], [2]]


def test_square_symmetries_are_the_eight_isometries_of_the_square() -> None:
    corners = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    probe = torch.tensor([[0.1, 0.3], [0.7, 0.2], [0.4, 0.9]])
    batch = Batch.from_data_list([Data(input_pos=probe, query_pos=corners)])
    images = set()
    for index in range(8):
        out = square_symmetry(batch, index)
        moved = torch.cdist(out.input_pos, out.input_pos,
                            compute_mode="donot_use_mm_for_euclid_dist")
        before = torch.cdist(probe, probe, compute_mode="donot_use_mm_for_euclid_dist")
        assert torch.allclose(moved, before, atol=1e-6)
        assert {tuple(c) for c in out.query_pos.tolist()} == {tuple(c) for c in
                                                              corners.tolist()}
        images.add(tuple(round(v, 5) for v in out.input_pos.flatten().tolist()))
    assert len(images) == 8
    assert torch.equal(square_symmetry(batch, 0).input_pos, probe)
    with pytest.raises(ValueError, match=r"index must be in 0\.\.7"):
        square_symmetry(batch, 8)


@pytest.mark.parametrize("index", range(1, 8))
def test_a_symmetric_image_of_a_house_has_the_symmetric_solution(index: int) -> None:
    n = 17
    solver = FDPoissonSolver(n)
    rng = np.random.default_rng(index)
    source = rng.normal(size=(n, n))
    boundary = rng.normal(size=(n, n))
    u = solver.solve(source=source, boundary=boundary)
    # where symmetry `index` sends each grid node (i, j) of the square
    coords = torch.tensor(solver.coords)
    nodes = torch.tensor(list(itertools.product(range(n), range(n))))
    points = torch.stack([coords[nodes[:, 0]], coords[nodes[:, 1]]], dim=-1).float()
    moved = square_symmetry(Batch.from_data_list([Data(input_pos=points)]), index,
                            keys=["input_pos"]).input_pos
    target = torch.round(moved.double() * (n - 1)).long()
    i, j = nodes[:, 0].numpy(), nodes[:, 1].numpy()
    ti, tj = target[:, 0].numpy(), target[:, 1].numpy()
    moved_source, moved_boundary = np.empty_like(source), np.empty_like(boundary)
    moved_source[ti, tj] = source[i, j]
    moved_boundary[ti, tj] = boundary[i, j]
    u_moved = solver.solve(source=moved_source, boundary=moved_boundary)
    np.testing.assert_allclose(u_moved[ti, tj], u[i, j], atol=1e-10)
