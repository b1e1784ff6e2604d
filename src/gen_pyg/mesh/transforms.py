"""PyG transforms: attach a fixed mesh to every example, compute edges from ``data.pos``, or
renumber a mesh's nodes along a space-filling curve."""

from __future__ import annotations

from collections.abc import Sequence

from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from gen_pyg.mesh._build import check_positions, diameter_of
from gen_pyg.mesh.delaunay import delaunay_edges
from gen_pyg.mesh.order import curve_order
from gen_pyg.mesh.radius import _check_radius, radius_edges
from gen_pyg.mesh.sphere import spherical_delaunay_edges


class AttachMesh(BaseTransform):
    r"""Sets the attributes of a fixed mesh (:obj:`pos`, :obj:`edge_index`, :obj:`face`,
    :obj:`diameter`, grid metadata, and any other attribute the mesh carries) and its
    :obj:`num_nodes` on every example.

    Datasets of spatial function transformations produce examples with :obj:`input_pos`,
    :obj:`input_x`, :obj:`query_pos`, :obj:`y` and no mesh; this transform puts them on a mesh
    without copying its tensors (the examples share them), so that a
    :class:`~torch_geometric.loader.DataLoader` batches meshes and scenarios together.

    Args:
        mesh (Data): the mesh, e.g. from :func:`gen_pyg.mesh.grid`; needs :obj:`pos` and
            :obj:`edge_index`.
        overwrite (bool, optional): replace attributes the example already has; otherwise such
            a clash raises a :class:`ValueError`. (default: :obj:`False`)

    Example:
        >>> import torch
        >>> from gen_pyg.mesh import grid
        >>> example = Data(input_pos=torch.rand(5, 2), input_x=torch.rand(5, 1))
        >>> out = AttachMesh(grid(3))(example)
        >>> out.num_nodes, out.pos.shape, out.grid_shape.tolist()
        (9, torch.Size([9, 2]), [[3, 3]])
    """

    def __init__(self, mesh: Data, overwrite: bool = False) -> None:
        if not isinstance(mesh, Data):
            raise TypeError(f"mesh must be a torch_geometric.data.Data, got {type(mesh).__name__}")
        if mesh.pos is None or mesh.edge_index is None:
            raise ValueError("mesh must have 'pos' and 'edge_index' (build it with gen_pyg.mesh)")
        check_positions(mesh.pos, "mesh.pos")
        self.mesh = mesh
        self.overwrite = overwrite

    def forward(self, data: Data) -> Data:
        keys = [k for k in self.mesh.keys() if k != "num_nodes"]
        if not self.overwrite:
            clash = [k for k in keys if k in data]
            if clash:
                raise ValueError(
                    f"AttachMesh: the example already has {clash}; pass overwrite=True to "
                    "replace them"
                )
        for key in keys:
            data[key] = self.mesh[key]
        data.num_nodes = self.mesh.num_nodes
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_nodes={self.mesh.num_nodes})"


def _set_edges(data: Data, edge_index: object, face: object, diameter: bool) -> Data:
    data.edge_index = edge_index
    if face is not None:
        data.face = face
    elif "face" in data:
        del data.face  # the old simplices no longer match the edges
    if diameter:
        data.diameter = diameter_of(data.edge_index, data.pos.size(0))
    return data


class DelaunayEdges(BaseTransform):
    r"""Computes :obj:`edge_index` (and :obj:`face`) of the Delaunay triangulation of
    :obj:`data.pos` with :func:`gen_pyg.mesh.delaunay_edges`, or on the unit sphere with
    :func:`gen_pyg.mesh.spherical_delaunay_edges`, and the graph diameter. Unlike PyG's
    :class:`~torch_geometric.transforms.Delaunay`, it returns edges directly, handles one,
    two, collinear and duplicate points, and works in any dimension.

    Args:
        spherical (bool, optional): positions are directions on the unit sphere.
            (default: :obj:`False`)
        diameter (bool, optional): also set :obj:`diameter` :obj:`[1]`. (default: :obj:`True`)

    Example:
        >>> import torch
        >>> data = Data(pos=torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]))
        >>> DelaunayEdges()(data).edge_index.tolist()
        [[0, 1, 1, 2], [1, 0, 2, 1]]
    """

    def __init__(self, spherical: bool = False, diameter: bool = True) -> None:
        self.spherical = spherical
        self.diameter = diameter

    def forward(self, data: Data) -> Data:
        if data.pos is None:
            raise ValueError("DelaunayEdges needs 'data.pos'")
        builder = spherical_delaunay_edges if self.spherical else delaunay_edges
        edge_index, face = builder(data.pos)
        return _set_edges(data, edge_index, face, self.diameter)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(spherical={self.spherical})"


class RadiusEdges(BaseTransform):
    r"""Computes :obj:`edge_index` between all pairs of nodes of :obj:`data.pos` within
    distance :obj:`r` (:func:`gen_pyg.mesh.radius_edges`), and the graph diameter.

    Args:
        r (float): radius, :math:`r > 0`.
        metric (str, optional): :obj:`"euclidean"` or :obj:`"geodesic"` (unit sphere).
            (default: :obj:`"euclidean"`)
        diameter (bool, optional): also set :obj:`diameter` :obj:`[1]`. (default: :obj:`True`)

    Example:
        >>> import torch
        >>> data = Data(pos=torch.tensor([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0]]))
        >>> RadiusEdges(r=1.0)(data).edge_index.tolist()
        [[0, 1], [1, 0]]
    """

    def __init__(self, r: float, metric: str = "euclidean", diameter: bool = True) -> None:
        self.r = _check_radius(r, metric)
        self.metric = metric
        self.diameter = diameter

    def forward(self, data: Data) -> Data:
        if data.pos is None:
            raise ValueError("RadiusEdges needs 'data.pos'")
        edge_index = radius_edges(data.pos, self.r, self.metric)
        return _set_edges(data, edge_index, None, self.diameter)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(r={self.r}, metric={self.metric!r})"


class CurveOrder(BaseTransform):
    r"""Renumbers the nodes of a mesh in Z-order and sorts its edges by target node, with
    :func:`gen_pyg.mesh.curve_order` (same mesh, better memory locality for message passing on
    large meshes with scattered node numbering).

    Args:
        node_keys (sequence of str, optional): attributes with one row per node to permute.
            (default: :obj:`("pos", "x")`)

    Example:
        >>> from gen_pyg.mesh import halton
        >>> mesh = CurveOrder()(halton(50))
        >>> mesh.pos.shape, mesh.node_perm.shape
        (torch.Size([50, 2]), torch.Size([50]))
    """

    def __init__(self, node_keys: Sequence[str] = ("pos", "x")) -> None:
        self.node_keys = tuple(node_keys)

    def forward(self, data: Data) -> Data:
        return curve_order(data, self.node_keys)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(node_keys={self.node_keys})"
