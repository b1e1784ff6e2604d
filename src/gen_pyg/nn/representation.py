"""Base class and registry of representation functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import check_batch, check_finite, check_points, scans_active
from gen_pyg.typing import Assignment

#: Padded dense weights ``[B, P_max, N_max]`` with point and node masks, None where nothing
#: is padding (see :meth:`Representation.dense`).
DenseAssignment = tuple[Tensor, Tensor | None, Tensor | None]
#: The sizes of padded dense blocks: (examples, most points of an example, most nodes of an
#: example).
DenseSizes = tuple[int, int, int]


class Representation(torch.nn.Module):
    r"""A representation function :math:`r: X \to \mathbb{R}^N` of a Graph Element Network
    (Alet et al., ICML 2019, §3.3): for every point it gives weights on the mesh nodes of its
    example, returned as a sparse assignment.

    Subclasses implement :meth:`forward`. Neighbour *search* runs without gradients; the
    *weights* are differentiable with respect to point and node positions.
    """

    #: Whether the weights of every point sum to one.
    partition_of_unity: bool = True

    def forward(
        self,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
    ) -> Assignment:
        r"""Weights of points on nodes.

        Args:
            point_pos (Tensor): point positions :obj:`[P, D]`.
            node_pos (Tensor): node positions :obj:`[N, D]`.
            point_batch (Tensor, optional): example index of each point. (default: :obj:`None`)
            node_batch (Tensor, optional): example index of each node. (default: :obj:`None`)
            mesh (Data, optional): the mesh, for representations that need more than node
                positions (grid metadata, simplices). (default: :obj:`None`)

        Returns:
            :obj:`(point_index, node_index, weight)`, each of shape :obj:`[M]`.
        """
        raise NotImplementedError

    def dense(
        self,
        point_pos: Tensor,
        node_pos: Tensor,
        point_batch: Tensor | None = None,
        node_batch: Tensor | None = None,
        mesh: Data | None = None,
        sizes: DenseSizes | None = None,
    ) -> DenseAssignment | None:
        r"""The weights as padded dense blocks, or :obj:`None` when this representation has no
        efficient dense form (the default). Where it exists, the spatial layers aggregate with
        one batched matrix product instead of per-pair messages. :obj:`sizes` (see
        :func:`dense_sizes`), when the caller knows them, spares reading the block sizes back
        from the device (a sync, and a graph break under :func:`torch.compile`).

        Returns:
            :obj:`(weight, point_mask, node_mask)`: :obj:`weight` :math:`[B, P_{max}, N_{max}]`
            (zero for padding), and the :func:`~torch_geometric.utils.to_dense_batch` masks
            :math:`[B, P_{max}]` and :math:`[B, N_{max}]`, each :obj:`None` when it has no
            padding.
        """
        return None

    def node_scale(self, node_pos: Tensor, edge_index: Tensor | None = None) -> Tensor:
        r"""The length :math:`\ell_n` at every node :obj:`[N]` by which the pair encoders and
        decoders (:class:`~gen_pyg.nn.PairEncoder`, :class:`~gen_pyg.nn.PairDecoder`) divide
        the offset of a point from a node it weighs: by default the node's shortest mesh edge
        (:func:`node_scales`, the grid spacing on a grid), so that the offsets span the same
        range on every mesh; a kernel returns its bandwidth."""
        if edge_index is None:
            raise ValueError(f"{type(self).__name__}'s offsets are scaled by each node's "
                             "shortest mesh edge: pass the mesh's edge_index")
        return node_scales(node_pos, edge_index)


def node_scales(pos: Tensor, edge_index: Tensor) -> Tensor:
    """Length of the shortest mesh edge that ends at each node, :obj:`[N]` (the grid spacing
    on a grid; a node without edges gets the mean of the others, or 1 when the mesh has no
    edges).

    Example:
        >>> pos = torch.tensor([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0], [5.0, 5.0]])
        >>> node_scales(pos, torch.tensor([[1, 0, 2, 1], [0, 1, 1, 2]])).tolist()
        [0.5, 0.5, 1.5, 0.8333333134651184]
    """
    src, dst = edge_index
    length = (pos[src] - pos[dst]).norm(dim=-1)
    inf = torch.full((pos.size(0),), torch.inf, dtype=pos.dtype, device=pos.device)
    shortest = inf.scatter_reduce(0, dst, length, reduce="amin")
    has_edge = torch.isfinite(shortest)
    # the mean of the nodes with edges, 1 without any: no device sync
    count = has_edge.sum()
    mean = torch.where(has_edge, shortest, 0.0).sum() / count.clamp(min=1)
    fallback = torch.where(count > 0, mean, torch.ones_like(mean))
    return torch.where(has_edge, shortest, fallback)


R = TypeVar("R", bound=type[Representation])

#: Registry of representation functions by name (private: use the functions below).
_REGISTRY: dict[str, type[Representation]] = {}


def register_representation(name: str) -> Callable[[R], R]:
    """Class decorator making a :class:`Representation` available by :obj:`name` to
    :func:`get_representation` (and so to ``GEN.paper(representation=name)``). Registering a name
    twice is an error; :func:`unregister_representation` removes one."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")

    def wrap(cls: R) -> R:
        if not (isinstance(cls, type) and issubclass(cls, Representation)):
            raise TypeError(f"register_representation({name!r}) decorates Representation "
                            f"subclasses, got {cls!r}")
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"a representation is already registered as {name!r}")
        _REGISTRY[name] = cls
        return cls

    return wrap


def unregister_representation(name: str) -> None:
    """Remove the representation registered as :obj:`name`."""
    if name not in _REGISTRY:
        raise ValueError(f"no representation is registered as {name!r}")
    del _REGISTRY[name]


def representation_names() -> list[str]:
    """The registered names, sorted.

    Example:
        >>> representation_names()
        ['barycentric', 'bilinear', 'gaussian', 'soft_nearest']
    """
    return sorted(_REGISTRY)


def get_representation(spec: str | Representation, **kwargs: Any) -> Representation:
    """A representation function from its registry name (with constructor ``kwargs``) or an
    instance (returned as it is).

    Example:
        >>> get_representation("soft_nearest", k=4)
        SoftNearest(k=4, metric=euclidean)
    """
    if isinstance(spec, Representation):
        if kwargs:
            raise ValueError("representation kwargs are only accepted with a registry name")
        return spec
    if spec not in _REGISTRY:
        raise ValueError(
            f"representation must be one of {sorted(_REGISTRY)} or a Representation, "
            f"got {spec!r}"
        )
    return _REGISTRY[spec](**kwargs)


def dense_sizes(point_batch: Tensor, node_batch: Tensor,
                num_examples: int | None = None) -> DenseSizes:
    """``(examples, most points of an example, most nodes of an example)`` of the padded dense
    blocks of these batch vectors, read back from the device once for the three numbers.

    Example:
        >>> dense_sizes(torch.tensor([0, 0, 0, 1]), torch.tensor([0, 1, 1]))
        (2, 3, 2)
    """
    if num_examples is None:
        num_examples = 1 + max((int(b.max()) for b in (point_batch, node_batch) if b.numel()),
                               default=0)
    # counts by scatter into [examples] (a static shape, unlike bincount's)
    counts = torch.zeros(2, num_examples, dtype=torch.long, device=point_batch.device)
    counts[0].scatter_add_(0, point_batch, torch.ones_like(point_batch))
    counts[1].scatter_add_(0, node_batch, torch.ones_like(node_batch))
    most = counts.max(dim=1).values.tolist() if num_examples else [0, 0]
    return num_examples, int(most[0]), int(most[1])


def default_batch(batch: Tensor | None, n: int, device: torch.device) -> Tensor:
    """``batch`` or a vector of zeros (a single example)."""
    return torch.zeros(n, dtype=torch.long, device=device) if batch is None else batch


def check_assignment_inputs(
    point_pos: object,
    node_pos: object,
    point_batch: object = None,
    node_batch: object = None,
    point_name: str = "point_pos",
) -> tuple[Tensor, Tensor]:
    """Check the inputs of a representation function (or of a spatial layer, whose points are
    named ``point_name``) and return both batch vectors, zeros where not given.

    Metadata checks always run: floating ``[P, D]`` and ``[N, D]`` positions of one dtype and
    device, long ``[P]`` and ``[N]`` batch vectors. Scans (see
    :func:`~gen_pyg.set_value_checks`): finite positions, sorted non-negative batches, and a
    node in every example that has points (a point of an example without nodes would get no
    weight at all).
    """
    batch_name = point_name.replace("_pos", "_batch")
    points = check_points(point_pos, point_name, finite=False)
    nodes = check_points(node_pos, "node_pos", dim=points.size(1), finite=False)
    if points.size(1) == 0:
        raise ValueError(f"{point_name} must have at least one coordinate per point")
    if nodes.dtype != points.dtype:
        raise TypeError(
            f"node_pos has dtype {nodes.dtype} but {point_name} has {points.dtype}; convert one"
        )
    if nodes.device != points.device:
        raise ValueError(
            f"node_pos is on {nodes.device} but {point_name} is on {points.device}"
        )
    pb = default_batch(point_batch, points.size(0), points.device)  # type: ignore[arg-type]
    nb = default_batch(node_batch, nodes.size(0), nodes.device)  # type: ignore[arg-type]
    check_batch(pb, points.size(0), batch_name)
    check_batch(nb, nodes.size(0), "node_batch")
    if pb.device != points.device or nb.device != nodes.device:
        raise ValueError(f"{batch_name} and node_batch must be on the device of the positions")
    check_finite(points, point_name)
    check_finite(nodes, "node_pos")
    if points.size(0) > 0 and scans_active():
        if nodes.size(0) == 0:
            raise ValueError(
                f"node_pos has no nodes but {point_name} has {points.size(0)} point(s); every "
                "example with points needs at least one node"
            )
        counts = torch.bincount(nb, minlength=int(pb.max()) + 1)
        empty = counts[pb] == 0
        if bool(empty.any()):
            example = int(pb[empty][0])
            raise ValueError(
                f"example {example} has points in {point_name} but no nodes in node_pos "
                f"(see {batch_name} and node_batch); every example with points needs a node"
            )
    return pb, nb
