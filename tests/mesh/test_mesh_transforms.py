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
