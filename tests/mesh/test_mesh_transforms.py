"""Transforms: AttachMesh on dataset-style examples, DelaunayEdges and RadiusEdges."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from gen_pyg.mesh import AttachMesh, DelaunayEdges, RadiusEdges, graph_diameter, grid, icosphere


def _example(p: int, q: int) -> Data:
    return Data(input_pos=torch.rand(p, 2), input_x=torch.rand(p, 1),
                query_pos=torch.rand(q, 2), y=torch.rand(q, 1))  # fmt: skip


def test_attach_mesh_batches_meshes_and_scenarios() -> None:
    mesh = grid(3)
    transform = AttachMesh(mesh)
    examples = [transform(_example(5, 7)), transform(_example(4, 2))]
    assert examples[0].pos is mesh.pos  # shared, not copied
    batch = next(iter(DataLoader(examples, batch_size=2, follow_batch=["input_pos", "query_pos"])))
    assert batch.num_nodes == 18 and batch.pos.shape == (18, 2)
    assert batch.edge_index.size(1) == 2 * mesh.num_edges
    assert int(batch.edge_index.max()) == 17  # second mesh shifted by 9
    assert batch.diameter.tolist() == [4, 4]
    assert batch.grid_shape.tolist() == [[3, 3], [3, 3]]
    assert batch.face.shape == (3, 16) and int(batch.face.max()) == 17
    assert batch.input_pos_batch.tolist() == [0] * 5 + [1] * 4
    assert repr(transform) == "AttachMesh(num_nodes=9)"


def test_attach_mesh_refuses_to_overwrite() -> None:
    data = _example(3, 3)
    data.pos = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="already has"):
        AttachMesh(grid(2))(data)
    out = AttachMesh(grid(2), overwrite=True)(data)
    assert out.pos.shape == (4, 2)
    with pytest.raises(ValueError, match="'pos' and 'edge_index'"):
        AttachMesh(Data(pos=torch.rand(3, 2)))
    with pytest.raises(TypeError, match="Data"):
        AttachMesh(torch.rand(3, 2))  # type: ignore[arg-type]


def test_delaunay_edges_transform(assert_mesh) -> None:
    data = DelaunayEdges()(Data(pos=grid(3).pos.flip(0)))
    assert_mesh(data)
    # any triangulation of n = 9 points with h = 8 on the hull: 3n - h - 3 = 16 edges and
    # 2n - h - 2 = 8 triangles (qhull cuts the cocircular cells its own way, so the diameter
    # is 3 or 4)
    assert data.num_edges == 2 * 16 and data.face.size(1) == 8
    assert data.diameter.tolist() == graph_diameter(data.edge_index, 9).tolist()
    sphere = DelaunayEdges(spherical=True)(Data(pos=icosphere(0).pos))
    assert sphere.num_edges == 60 and sphere.diameter.tolist() == [3]


def test_radius_edges_transform_replaces_stale_faces() -> None:
    data = DelaunayEdges()(Data(pos=torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])))
    assert "face" in data
    data = RadiusEdges(r=1.0)(data)
    assert "face" not in data
    assert {(i, j) for i, j in data.edge_index.t().tolist() if i < j} == {(0, 1), (0, 2)}
    assert data.diameter.tolist() == [2]
    with pytest.raises(ValueError, match="r must be a positive"):
        RadiusEdges(r=0.0)


def test_curve_order_renumbers_the_same_mesh() -> None:
    from gen_pyg.mesh import CurveOrder, curve_order, halton

    mesh = halton(60)
    mesh.x = torch.arange(60.0).view(-1, 1)
    mesh.edge_attr = mesh.edge_index.t().to(torch.float32)  # old (source, target) per edge
    out = curve_order(mesh)
    perm = out.node_perm
    assert sorted(perm.tolist()) == list(range(60))
    assert torch.equal(out.pos, mesh.pos[perm]) and torch.equal(out.x, mesh.x[perm])
    # the same edge set, renumbered, sorted by target then source; attributes follow edges
    old_edges = {tuple(e) for e in mesh.edge_index.t().tolist()}
    new_as_old = perm[out.edge_index]
    assert {tuple(e) for e in new_as_old.t().tolist()} == old_edges
    assert torch.equal(out.edge_attr.long().t(), new_as_old)
    key = out.edge_index[1] * 60 + out.edge_index[0]
    assert bool((key[1:] > key[:-1]).all())
    # the same triangles (face columns as sets of old node ids)
    old_faces = {tuple(sorted(f)) for f in mesh.face.t().tolist()}
    assert {tuple(sorted(f)) for f in perm[out.face].t().tolist()} == old_faces
    assert out.diameter.item() == mesh.diameter.item()
    assert "node_perm" not in mesh  # the input is untouched
    # Z-order makes neighbours close in number: mean |i - j| over edges drops
    spread = (out.edge_index[0] - out.edge_index[1]).abs().float().mean()
    assert spread < (mesh.edge_index[0] - mesh.edge_index[1]).abs().float().mean()
    assert torch.equal(CurveOrder()(mesh).edge_index, out.edge_index)


def test_curve_order_leaves_gen_predictions_unchanged() -> None:
    from gen_pyg.mesh import curve_order, halton
    from gen_pyg.nn import GEN, SoftNearest

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    mesh = halton(40)
    data = Data(
        pos=mesh.pos,
        edge_index=mesh.edge_index,
        input_pos=torch.rand(30, 2, generator=g),
        input_x=torch.rand(30, 1, generator=g),
        query_pos=torch.rand(25, 2, generator=g),
    )
    for rep in (SoftNearest(), SoftNearest(k=4)):
        model = GEN.paper(num_steps=3, representation=rep)
        expected = model(data)
        assert torch.allclose(model(curve_order(data)), expected, atol=1e-5)


def test_curve_order_bad_input() -> None:
    from torch_geometric.data import Batch

    from gen_pyg.mesh import curve_order, grid, halton

    with pytest.raises(ValueError, match="grid metadata"):
        curve_order(grid(3))
    with pytest.raises(ValueError, match="not a batch"):
        curve_order(Batch.from_data_list([halton(5), halton(6)]))
    bad = halton(8)
    bad.x = torch.zeros(7, 1)
    with pytest.raises(ValueError, match=r"node_keys: mesh\.x must have one row per node"):
        curve_order(bad)
    with pytest.raises(ValueError, match="'pos' and 'edge_index'"):
        curve_order(Data(pos=torch.rand(3, 2)))
    with pytest.raises(TypeError, match="mesh must be"):
        curve_order(torch.rand(3, 2))  # type: ignore[arg-type]
