"""Registry of edge builders (name -> function of node positions) and a mesh from positions."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh._build import EdgeBuilder, check_positions, make_mesh, split_builder_output
from gen_pyg.mesh.delaunay import delaunay_edges
from gen_pyg.mesh.sphere import spherical_delaunay_edges


def no_edges(pos: Tensor) -> Tensor:
    """An empty :obj:`edge_index` :obj:`[2, 0]` (nodes only).

    Example:
        >>> no_edges(torch.zeros(3, 2)).shape
        torch.Size([2, 0])
    """
    return torch.empty(2, 0, dtype=torch.long, device=pos.device)


#: Edge builders by name. Each maps positions ``[N, D]`` to ``edge_index`` or
#: ``(edge_index, face)``; a radius graph is passed as a callable, e.g.
#: ``functools.partial(radius_edges, r=0.2)``.
EDGE_BUILDERS: dict[str, EdgeBuilder] = {
    "delaunay": delaunay_edges,
    "spherical_delaunay": spherical_delaunay_edges,
    "none": no_edges,
}


def get_edge_builder(edges: str | EdgeBuilder) -> EdgeBuilder:
    """An edge builder from its name in :data:`EDGE_BUILDERS`, or a callable passed through.

    Example:
        >>> get_edge_builder("delaunay") is delaunay_edges
        True
    """
    if callable(edges):
        return edges
    if not isinstance(edges, str) or edges not in EDGE_BUILDERS:
        raise ValueError(
            f"edges must be one of {sorted(EDGE_BUILDERS)} or a callable pos -> edge_index "
            f"(or (edge_index, face)), got {edges!r}"
        )
    return EDGE_BUILDERS[edges]


def build_mesh(pos: Tensor, edges: str | EdgeBuilder = "delaunay") -> Data:
    r"""A mesh on given node positions, with edges from a named or custom edge builder.

    Args:
        pos (Tensor): node positions :obj:`[N, D]`, finite.
        edges (str or callable, optional): :obj:`"delaunay"` (:func:`delaunay_edges`),
            :obj:`"spherical_delaunay"` (:func:`spherical_delaunay_edges`), :obj:`"none"`, or a
            callable mapping :obj:`pos` to :obj:`edge_index` or :obj:`(edge_index, face)`.
            (default: :obj:`"delaunay"`)

    Returns:
        :class:`~torch_geometric.data.Data` with :obj:`pos`, :obj:`edge_index` (made undirected,
        sorted, without self loops), :obj:`num_nodes`, :obj:`diameter` :obj:`[1]` and
        :obj:`face` when the builder gives one.

    Example:
        >>> from functools import partial
        >>> from gen_pyg.mesh import radius_edges
        >>> pos = torch.tensor([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0]])
        >>> build_mesh(pos, partial(radius_edges, r=1.0)).edge_index.tolist()
        [[0, 1], [1, 0]]
    """
    builder = get_edge_builder(edges)
    pos = check_positions(pos)
    edge_index, face = split_builder_output(builder(pos), name="edges")
    return make_mesh(pos, edge_index, face)
