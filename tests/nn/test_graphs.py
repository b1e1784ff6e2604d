"""Graph builders: RadiusGraph and StencilGraph, their cache, and their use in a processor."""

from __future__ import annotations

import math

import pytest
import torch

from gen_pyg.mesh import grid, halton
from gen_pyg.nn import ElementProcessor, RadiusGraph, StencilGraph, ball_stencil
from gen_pyg.ops import radius_graph


def _nearest(pos: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Brute-force nearest node of every target (exact distances)."""
    dist = torch.cdist(targets, pos, compute_mode="donot_use_mm_for_euclid_dist")
    return dist.argmin(1)


def test_ball_stencil_spreads_over_the_unit_ball_and_is_fixed() -> None:
    for dim in (2, 3):
        s = ball_stencil(64, dim)
        assert s.shape == (64, dim) and bool((s.norm(dim=1) < 1).all())
        torch.testing.assert_close(s, ball_stencil(64, dim))  # deterministic
    # the sunflower covers the disc evenly: the mean squared radius of a uniform disc is 1/2,
    # and every quarter of the disc holds a quarter of the points (within two)
    s = ball_stencil(400, 2)
    assert abs(float((s.norm(dim=1) ** 2).mean()) - 0.5) < 1e-3
    quarters = torch.bincount((s[:, 0] > 0).long() * 2 + (s[:, 1] > 0).long(), minlength=4)
    assert int((quarters - 100).abs().max()) <= 2
    with pytest.raises(ValueError, match="points must be"):
        ball_stencil(0, 2)


def test_stencil_edges_are_the_nearest_nodes_of_the_stencil_points() -> None:
    pos = halton(30, seed=2).pos
    graph = StencilGraph(0.25, points=8)
    edges = graph(pos)
    assert edges.shape == (2, 30 * 8)
    # every node receives exactly `points` edges, from the nodes nearest to its stencil points
    assert torch.bincount(edges[1], minlength=30).tolist() == [8] * 30
    targets = (pos.unsqueeze(1) + 0.25 * ball_stencil(8, 2)).reshape(-1, 2)
    want = sorted(zip(_nearest(pos, targets).tolist(),
                      torch.arange(30).repeat_interleave(8).tolist(), strict=True))
    assert sorted(zip(edges[0].tolist(), edges[1].tolist(), strict=True)) == want
    assert repr(graph) == "StencilGraph(r=0.25, points=8)"


def test_stencil_edges_stay_within_an_example_and_batch_as_one_by_one() -> None:
    a, b = grid(4).pos, halton(11, seed=0).pos + 5.0  # far apart: only the batch keeps them
    pos = torch.cat([a, b])
    batch = torch.cat([torch.zeros(16, dtype=torch.long), torch.ones(11, dtype=torch.long)])
    graph = StencilGraph(0.4, points=6)
    batched = graph(pos, batch)
    assert bool((batch[batched[0]] == batch[batched[1]]).all())
    one = graph(a)
    two = graph(b) + 16
    key = lambda e: sorted(zip(e[0].tolist(), e[1].tolist(), strict=True))  # noqa: E731
    assert key(batched) == key(torch.cat([one, two], 1))


def test_on_a_fine_mesh_each_stencil_point_snaps_next_to_itself() -> None:
    """The neighbour of stencil point k lies within half a cell diagonal of x_i + r s_k (for
    the points inside the domain), so the round converges to the stencil's operator as the
    mesh is refined; the reach is r on every mesh, while the edges stay N x points."""
    r, m = 0.3, 12
    for k in (11, 41):
        mesh = grid(k)
        edges = StencilGraph(r, points=m)(mesh.pos)
        assert edges.size(1) == k * k * m
        targets = (mesh.pos.unsqueeze(1) + r * ball_stencil(m, 2)).reshape(-1, 2)
        inside = ((targets >= 0) & (targets <= 1)).all(1)
        order = torch.argsort(edges[1], stable=True)  # stencil order within each receiver
        src = edges[0][order]
        gap = (mesh.pos[src] - targets).norm(dim=1)[inside]
        h = 1.0 / (k - 1)
        assert float(gap.max()) <= h * math.sqrt(2) / 2 + 1e-6
        reach = (mesh.pos[edges[0]] - mesh.pos[edges[1]]).norm(dim=1)
        assert float(reach.max()) <= r + h * math.sqrt(2) / 2 + 1e-6


def test_graph_builders_cache_the_graphs_of_the_same_positions() -> None:
    graph = StencilGraph(0.3, points=4)
    pos = grid(5).pos.clone()
    first = graph(pos)
    assert graph(pos) is first  # the same tensor, unchanged: the cached graph
    assert graph(pos.clone()) is first  # another tensor of the same values (a mesh's copy)
    moved = pos.clone()
    with torch.no_grad():
        moved[0] += 0.5  # an in-place update (a trainable mesh's step) invalidates it
    rebuilt = graph(moved)
    assert rebuilt is not first and not torch.equal(rebuilt, first)
    torch.testing.assert_close(rebuilt, graph.build(moved, None))
    with torch.no_grad():
        moved[0] -= 0.5  # back to the first values: built again (one graph per shape)
    again = graph(moved)
    assert again is not rebuilt and torch.equal(again, first)
    first = again
    radius = RadiusGraph(0.3)
    edges = radius(pos)
    assert radius(pos) is edges
    torch.testing.assert_close(edges, radius_graph(pos, 0.3))
    # a batch vector is part of the key, by its values
    zeros, halves = torch.zeros(25, dtype=torch.long), (torch.arange(25) >= 12).long()
    batched = radius(pos, zeros)
    assert batched is not edges and radius(pos, zeros.clone()) is batched
    assert not torch.equal(radius(pos, halves), batched)
    # one graph per shape (the last batch of an epoch is smaller), at most cache_size
    small = RadiusGraph(0.3, cache_size=2)
    meshes = [grid(k).pos for k in (3, 4, 5)]
    graphs = [small(p) for p in meshes]
    assert small(meshes[2].clone()) is graphs[2] and small(meshes[1].clone()) is graphs[1]
    assert small(meshes[0].clone()) is not graphs[0]  # the oldest was dropped
    assert RadiusGraph(0.3, cache_size=0)(pos) is not RadiusGraph(0.3, cache_size=0)(pos)
    # under inference mode (no version counters) by values; never handed out of it
    with torch.inference_mode():
        frozen = pos.clone()
        inside = graph(frozen)
        assert graph(frozen.clone()) is inside and inside.is_inference()
        torch.testing.assert_close(inside, first)
    assert graph(pos) is first and not graph(pos).is_inference()
    with pytest.raises(ValueError, match="cache_size must be at least 0"):
        StencilGraph(0.3, cache_size=-1)


def test_stencil_processor_has_linear_edges_and_trains() -> None:
    torch.manual_seed(0)
    processor = ElementProcessor(8, num_steps=2, graph=StencilGraph(0.3, points=6),
                                 aggr="mean")
    for k in (5, 9):
        mesh = grid(k)
        z = torch.randn(k * k, 8, requires_grad=True)
        out = processor(z, mesh.pos)
        assert out.shape == (k * k, 8)
        out.pow(2).sum().backward()
        assert z.grad is not None and bool(torch.isfinite(z.grad).all())
    assert "StencilGraph(r=0.3, points=6)" in repr(processor)
    with pytest.raises(ValueError, match="r must be a positive finite number"):
        StencilGraph(0.0)
    with pytest.raises(ValueError, match="points must be"):
        StencilGraph(0.3, points=0)
