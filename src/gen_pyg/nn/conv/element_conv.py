"""One round of message passing on the mesh of a Graph Element Network."""

from __future__ import annotations

from typing import cast

import torch
import torch_geometric.typing
from torch import Tensor
from torch_geometric.index import index2ptr
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import degree

from gen_pyg._validation import (
    check_choice,
    check_dtype,
    check_edge_index,
    check_int,
    check_same_float,
    parameter_dtype,
    shape_of,
)
from gen_pyg.nn._mlp import mlp, reset_mlp
from gen_pyg.ops._fused_edges import edge_relu_sum

#: Backends of :class:`ElementConv` and the aggregations the fused one computes.
BACKENDS = ("auto", "fused", "propagate")
FUSED_AGGRS = ("sum", "add", "mean")
#: Aggregations the propagate backend computes with ``torch_scatter.segment_csr`` on large
#: sorted graphs: where it beat PyG's scatter (``python benchmarks/aggregation.py``, the
#: ``genconv_layer`` rows: max at 1e5 nodes 783 against 935 ms forward + backward; sum tied).
CSR_AGGRS = ("max", "min")
#: Smallest graph (nodes) on which it does; at 1e3 and 1e4 nodes scatter was as fast or faster.
CSR_MIN_NODES = 50_000
#: Where :class:`ElementConv` normalises: after the residual sum (the paper's), before the
#: modules, or nowhere.
NORMS = ("post", "pre", "none")


class ElementConv(MessagePassing):
    r"""The mesh message-passing step of a Graph Element Network (Alet et al., ICML 2019, §3.3),
    an edge module :math:`m_e` and a node module :math:`m_v` with a residual connection and layer
    normalisation:

    .. math::
        \mathbf{m}_{j \to i} &= m_e\left(\mathbf{h}_i, \mathbf{h}_j, \mathbf{x}_j - \mathbf{x}_i,
        \lVert \mathbf{x}_j - \mathbf{x}_i \rVert, \mathbf{e}_{j \to i}\right) \\
        \mathbf{u}_i &= \bigoplus_{j \in \mathcal{N}(i)} \mathbf{m}_{j \to i} \\
        \mathbf{h}_i' &= \mathrm{LayerNorm}\left(\mathbf{h}_i + m_v(\mathbf{h}_i,
        \mathbf{u}_i)\right)

    where :math:`\mathbf{x}` are node positions, :math:`\mathbf{e}` optional user edge features
    (:obj:`edge_attr`, :obj:`edge_dim` columns) and :math:`\bigoplus` is the aggregation (sum by
    default). :math:`m_e` and :math:`m_v` are MLPs with one hidden layer. The mesh geometry
    (relative position and distance, :meth:`edge_geometry`) is computed from :obj:`pos`; it may
    be passed precomputed as :obj:`geometry` to compute it once for many rounds.

    The name is not PyG's: :class:`torch_geometric.nn.conv.GENConv` is the DeeperGCN layer
    ("generalized aggregation networks"), unrelated to Graph Element Networks.

    With :obj:`norm="pre"` the normalisation moves before the modules and the residual path is
    left alone, :math:`\mathbf{h}_i' = \mathbf{h}_i + m_v(\tilde{\mathbf{h}}_i,
    \mathbf{u}_i)` with :math:`\mathbf{u}_i` computed from :math:`\tilde{\mathbf{h}} =
    \mathrm{LayerNorm}(\mathbf{h})` (pre-norm, as in pre-LN transformers), which keeps many
    rounds with shared weights trainable.

    The definition is PyG's: :meth:`message` is :math:`m_e`, :meth:`aggregate` is the
    :obj:`aggr` of :class:`~torch_geometric.nn.conv.MessagePassing` (every aggregation PyG
    offers: ``"sum"``, ``"mean"``, ``"max"``, ``"min"``, lists, ``Aggregation`` modules) and
    :meth:`update` is :math:`m_v` with the residual and the normalisation; subclasses may
    override any of them.

    For sum and mean, a fused backend computes the same thing faster (``backend="auto"``, the
    default, picks it): the first layer of :math:`m_e` is split into node terms, computed once
    per node, and an edge term; the hidden activations are summed by a chunked kernel (no
    :obj:`[E, H]` tensor kept for large graphs), and the last, linear, layer of :math:`m_e` is
    applied once per node after the sum. The fused backend is differentiable once (training);
    for double backward (e.g. gradient penalties) use ``backend="propagate"``, which torch
    differentiates any number of times.

    On graphs of at least ``CSR_MIN_NODES`` (50,000) nodes whose edges are sorted by target (as
    :func:`~gen_pyg.mesh.curve_order` and :meth:`~torch_geometric.data.Data.sort` leave them),
    the propagate backend hands PyG's aggregation the CSR pointer of the targets, so that
    ``"max"`` and ``"min"`` run as ``torch_scatter.segment_csr``.

    Like PyG's layers, :meth:`forward` checks shapes and types but trusts the values (finite
    numbers, indices in range): the models check those once, at their entry point.

    Args:
        channels (int): node state size.
        message_channels (int, optional): message size. (default: :obj:`16`)
        edge_hidden_channels (int, optional): hidden width of :math:`m_e`. (default: :obj:`48`)
        node_hidden_channels (int, optional): hidden width of :math:`m_v`. (default: :obj:`64`)
        pos_dim (int, optional): dimension :math:`D` of node positions. (default: :obj:`2`)
        edge_dim (int, optional): width of the user edge features :obj:`edge_attr`, or
            :obj:`None` for none. (default: :obj:`None`)
        aggr (str or Aggregation, optional): aggregation :math:`\bigoplus`.
            (default: :obj:`"sum"`)
        residual (bool, optional): add :math:`\mathbf{h}_i`. (default: :obj:`True`)
        norm (str, optional): ``"post"``: layer normalisation after the residual sum (the
            paper's); ``"pre"``: before the modules (see above); ``"none"``: none.
            (default: :obj:`"post"`)
        backend (str, optional): ``"auto"`` (fused for sum and mean, :meth:`propagate`
            otherwise), ``"fused"`` (sum or mean only) or ``"propagate"``.
            (default: :obj:`"auto"`)

    Shapes:
        - **input:** node states :math:`(N, C)`, edge indices :math:`(2, E)`, node positions
          :math:`(N, D)` (or the precomputed geometry :math:`(E, D + 1)`), optionally edge
          features :math:`(E, \text{edge_dim})` and the in-degrees :math:`(N,)`
        - **output:** node states :math:`(N, C)`

    Example:
        >>> conv = ElementConv(8, pos_dim=2, edge_dim=3)
        >>> pos = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
        >>> edge_index = torch.tensor([[0, 1], [1, 0]])
        >>> conv(torch.randn(2, 8), edge_index, pos, edge_attr=torch.randn(2, 3)).shape
        torch.Size([2, 8])
    """

    def __init__(
        self,
        channels: int,
        message_channels: int = 16,
        edge_hidden_channels: int = 48,
        node_hidden_channels: int = 64,
        pos_dim: int = 2,
        edge_dim: int | None = None,
        aggr: str = "sum",
        residual: bool = True,
        norm: str = "post",
        backend: str = "auto",
    ) -> None:
        check_choice(norm, "norm", NORMS)
        check_choice(backend, "backend", BACKENDS)
        if backend == "fused" and aggr not in FUSED_AGGRS:
            raise ValueError(f"backend='fused' needs aggr in {FUSED_AGGRS}, got {aggr!r}; use "
                             "backend='auto' or 'propagate'")
        try:
            super().__init__(aggr=aggr)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"aggr must be one of PyG's aggregations (e.g. 'sum', 'mean', 'max', a list of "
                f"them or an Aggregation module), got aggr={aggr!r} ({exc})"
            ) from exc
        check_int(channels, "channels")
        check_int(message_channels, "message_channels")
        check_int(edge_hidden_channels, "edge_hidden_channels")
        check_int(node_hidden_channels, "node_hidden_channels")
        check_int(pos_dim, "pos_dim")
        if edge_dim is not None:
            check_int(edge_dim, "edge_dim")
        self.channels = channels
        self.message_channels = message_channels
        self.pos_dim = pos_dim
        self.edge_dim = edge_dim
        self.residual = residual
        # columns: [h_i, h_j, geometry (D + 1), user edge features (edge_dim)]
        edge_in = 2 * channels + pos_dim + 1 + (edge_dim or 0)
        self.edge_mlp = mlp([edge_in, edge_hidden_channels, message_channels])
        # several aggregations (e.g. aggr=["sum", "max"]) concatenate their outputs
        get_out = getattr(self.aggr_module, "get_out_channels", None)
        aggregated = int(get_out(message_channels)) if callable(get_out) else message_channels
        self.node_mlp = mlp([channels + aggregated, node_hidden_channels, channels])
        self.norm_position = norm
        self.norm = torch.nn.LayerNorm(channels) if norm != "none" else torch.nn.Identity()
        self.backend = backend
        self.reset_parameters()

    @property
    def fused(self) -> bool:
        """Whether :meth:`forward` takes the fused backend."""
        return self.backend == "fused" or (
            self.backend == "auto" and isinstance(self.aggr, str) and self.aggr in FUSED_AGGRS)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        reset_mlp(self.edge_mlp)
        reset_mlp(self.node_mlp)
        if isinstance(self.norm, torch.nn.LayerNorm):
            self.norm.reset_parameters()

    @staticmethod
    def edge_geometry(pos: Tensor, edge_index: Tensor) -> Tensor:
        r"""Relative position and distance :math:`[\mathbf{x}_j - \mathbf{x}_i,
        \lVert \mathbf{x}_j - \mathbf{x}_i \rVert]` of every edge :math:`j \to i`,
        :obj:`[E, D + 1]`.

        Example:
            >>> ElementConv.edge_geometry(torch.tensor([[0.0, 0.0], [3.0, 4.0]]),
            ...                           torch.tensor([[1], [0]])).tolist()
            [[3.0, 4.0, 5.0]]
        """
        diff = pos[edge_index[0]] - pos[edge_index[1]]
        return torch.cat([diff, torch.linalg.vector_norm(diff, dim=-1, keepdim=True)], dim=-1)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        pos: Tensor | None = None,
        edge_attr: Tensor | None = None,
        geometry: Tensor | None = None,
        in_degree: Tensor | None = None,
    ) -> Tensor:
        """One round on node states :obj:`x` at positions :obj:`pos`, with user edge features
        :obj:`edge_attr` when :obj:`edge_dim` is set. :obj:`geometry` (see
        :meth:`edge_geometry`, replaces :obj:`pos`) and :obj:`in_degree`
        (``degree(edge_index[1], N)``) may be precomputed once for many rounds on one graph."""
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(-1) != self.channels:
            raise ValueError(f"x must have shape [N, {self.channels}] ({self.channels} channels, "
                             f"as constructed), got {shape_of(x)}")
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
        if not torch.is_autocast_enabled(x.device.type):
            check_dtype(x, "x", parameter_dtype(self.node_mlp))
        check_edge_index(edge_index, "edge_index")
        num_edges = edge_index.size(1)
        if geometry is None:
            if pos is None:
                raise ValueError("ElementConv needs the node positions 'pos' (or their "
                                 "precomputed 'geometry')")
            if not isinstance(pos, Tensor) or pos.shape != (x.size(0), self.pos_dim):
                raise ValueError(f"pos must have shape [{x.size(0)}, {self.pos_dim}] (one row "
                                 f"per node of x, pos_dim), got {shape_of(pos)}")
            check_same_float(pos, "pos", x)
            geometry = self.edge_geometry(pos, edge_index)
        elif not isinstance(geometry, Tensor) or geometry.shape != (num_edges, self.pos_dim + 1):
            raise ValueError(f"geometry must have shape [{num_edges}, {self.pos_dim + 1}] (E, "
                             f"pos_dim + 1), got {shape_of(geometry)}")
        if self.edge_dim is None:
            if edge_attr is not None:
                raise ValueError("edge_attr was given but the layer has no edge features; "
                                 "construct it with edge_dim=<width of edge_attr>")
            edges = geometry
        else:
            if not isinstance(edge_attr, Tensor) or edge_attr.shape != (num_edges, self.edge_dim):
                raise ValueError(f"edge_attr must have shape [{num_edges}, {self.edge_dim}] "
                                 f"(E, edge_dim), got {shape_of(edge_attr)}")
            check_same_float(edge_attr, "edge_attr", x)
            edges = torch.cat([geometry, edge_attr.to(geometry.dtype)], dim=-1)
        if in_degree is not None and (not isinstance(in_degree, Tensor)
                                      or in_degree.shape != (x.size(0),)):
            raise ValueError(f"in_degree must have shape [{x.size(0)}] (one per row of x), got "
                             f"{shape_of(in_degree)}")
        h = self.norm(x) if self.norm_position == "pre" else x
        if self.fused:
            out = self.update(self._fused_aggregate(h, edge_index, edges, in_degree), h)
        else:
            # gather, message, aggregate, update: PyG's own pipeline
            out = self.propagate(edge_index, x=h, edge_attr=edges,
                                 csr_ptr=self._csr_pointer(edge_index, x.size(0)))
        if self.norm_position == "pre" and self.residual:
            out = out + x  # the un-normalised state: the residual path has no normalisation
        return out

    def _csr_pointer(self, edge_index: Tensor, num_nodes: int) -> Tensor | None:
        """The CSR pointer of the edge targets when :meth:`aggregate` should use it."""
        if (num_nodes < CSR_MIN_NODES or not torch_geometric.typing.WITH_TORCH_SCATTER
                or not isinstance(self.aggr, str) or self.aggr not in CSR_AGGRS):
            return None
        dst = edge_index[1]
        if dst.numel() > 1 and not bool((dst[1:] >= dst[:-1]).all()):
            return None
        ptr: Tensor = index2ptr(dst, num_nodes)
        return ptr

    def aggregate(self, inputs: Tensor, index: Tensor, ptr: Tensor | None = None,
                  dim_size: int | None = None, csr_ptr: Tensor | None = None) -> Tensor:
        """PyG's aggregation of the messages; over the CSR pointer :obj:`csr_ptr` of sorted
        targets (``torch_scatter.segment_csr``) when :meth:`forward` passes one."""
        if csr_ptr is not None:
            out: Tensor = self.aggr_module(inputs, None, ptr=csr_ptr, dim_size=dim_size,
                                           dim=self.node_dim)
            return out
        result: Tensor = super().aggregate(inputs, index, ptr=ptr, dim_size=dim_size)
        return result

    def message(self, x_i: Tensor, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        r""":math:`m_e(\mathbf{h}_i, \mathbf{h}_j, \mathbf{e}_{ij})` for every edge."""
        out: Tensor = self.edge_mlp(torch.cat([x_i, x_j, edge_attr], dim=-1))
        return out

    def update(self, inputs: Tensor, x: Tensor) -> Tensor:
        r""":math:`\mathrm{LayerNorm}(\mathbf{h}_i + m_v(\mathbf{h}_i, \mathbf{u}_i))`; with
        ``norm="pre"`` only :math:`m_v(\tilde{\mathbf{h}}_i, \mathbf{u}_i)` (:meth:`forward`
        adds the un-normalised :math:`\mathbf{h}_i`)."""
        out: Tensor = self.node_mlp(torch.cat([x, inputs], dim=-1))
        if self.norm_position == "pre":
            return out
        if self.residual:
            out = out + x
        result: Tensor = self.norm(out)
        return result

    def _fused_aggregate(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor,
                         in_degree: Tensor | None) -> Tensor:
        """The sum or mean of :meth:`message` over incoming edges, computed the fast way."""
        lin1, lin2 = self._edge_layers()
        c = self.channels
        # m_e's first layer on [h_i, h_j, e_ij] is W_i h_i + W_j h_j + W_e e_ij + b: both node
        # terms from one [N, C] @ [C, 2H] product, once per node instead of once per edge
        w_nodes = torch.cat([lin1.weight[:, :c], lin1.weight[:, c : 2 * c]], dim=0)
        dst, src = (x @ w_nodes.t()).chunk(2, dim=-1)
        hidden = edge_relu_sum(dst, src, edge_attr, lin1.weight[:, 2 * c :], lin1.bias,
                               edge_index)
        if in_degree is None:
            in_degree = degree(edge_index[1], x.size(0), dtype=x.dtype)
        deg = in_degree.to(x.dtype).unsqueeze(-1)
        if self.aggr == "mean":
            hidden = hidden / deg.clamp(min=1)
            deg = (deg > 0).to(x.dtype)  # nodes without edges aggregate to zero
        # m_e's last layer is linear: it commutes with the sum (or mean) over edges
        return hidden @ lin2.weight.t() + deg * lin2.bias

    def _edge_layers(self) -> tuple[torch.nn.Linear, torch.nn.Linear]:
        return cast(torch.nn.Linear, self.edge_mlp[0]), cast(torch.nn.Linear, self.edge_mlp[2])

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.channels}, message_channels="
            f"{self.message_channels}, pos_dim={self.pos_dim}, "
            + (f"edge_dim={self.edge_dim}, " if self.edge_dim is not None else "")
            + f"aggr={self.aggr}, backend={self.backend!r}"
            + (f", norm={self.norm_position!r}" if self.norm_position != "post" else "") + ")"
        )
