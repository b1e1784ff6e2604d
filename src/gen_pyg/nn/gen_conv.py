"""One round of message passing on the mesh of a Graph Element Network."""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import degree

from gen_pyg.nn.mlp import mlp, reset_mlp
from gen_pyg.ops.fused_edges import edge_relu_sum


class GENConv(MessagePassing):
    r"""The mesh message-passing step of a Graph Element Network (Alet et al., ICML 2019, §3.3),
    an edge module :math:`m_e` and a node module :math:`m_v` with a residual connection and layer
    normalisation:

    .. math::
        \mathbf{m}_{j \to i} &= m_e\left(\mathbf{h}_i, \mathbf{h}_j, \mathbf{x}_j - \mathbf{x}_i,
        \lVert \mathbf{x}_j - \mathbf{x}_i \rVert\right) \\
        \mathbf{u}_i &= \bigoplus_{j \in \mathcal{N}(i)} \mathbf{m}_{j \to i} \\
        \mathbf{h}_i' &= \mathrm{LayerNorm}\left(\mathbf{h}_i + m_v(\mathbf{h}_i,
        \mathbf{u}_i)\right)

    where :math:`\mathbf{x}` are node positions and :math:`\bigoplus` is the aggregation (sum by
    default). :math:`m_e` and :math:`m_v` are MLPs with one hidden layer. Edge features depend only
    on positions; pass them as :obj:`edge_attr` (see :meth:`edge_features`) to compute them once
    for many rounds.

    The computation is exactly this formula, arranged to do most work per node rather than per
    edge: the first layer of :math:`m_e` is split into node terms and an edge term, and with
    sum or mean aggregation the last (linear) layer of :math:`m_e` is applied after
    aggregating.

    Args:
        channels (int): node state size.
        message_channels (int, optional): message size. (default: :obj:`16`)
        edge_hidden_channels (int, optional): hidden width of :math:`m_e`. (default: :obj:`48`)
        node_hidden_channels (int, optional): hidden width of :math:`m_v`. (default: :obj:`64`)
        pos_dim (int, optional): dimension :math:`D` of node positions. (default: :obj:`2`)
        aggr (str, optional): aggregation :math:`\bigoplus`. (default: :obj:`"sum"`)
        residual (bool, optional): add :math:`\mathbf{h}_i`. (default: :obj:`True`)
        norm (bool, optional): apply layer normalisation. (default: :obj:`True`)

    Shapes:
        - **input:** node states :math:`(N, C)`, edge indices :math:`(2, E)`, node positions
          :math:`(N, D)` or edge features :math:`(E, D + 1)`
        - **output:** node states :math:`(N, C)`

    Example:
        >>> conv = GENConv(8, pos_dim=2)
        >>> pos = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
        >>> conv(torch.randn(2, 8), torch.tensor([[0, 1], [1, 0]]), pos=pos).shape
        torch.Size([2, 8])
    """

    def __init__(
        self,
        channels: int,
        message_channels: int = 16,
        edge_hidden_channels: int = 48,
        node_hidden_channels: int = 64,
        pos_dim: int = 2,
        aggr: str = "sum",
        residual: bool = True,
        norm: bool = True,
    ) -> None:
        super().__init__(aggr=aggr)
        for name, value in (
            ("channels", channels),
            ("message_channels", message_channels),
            ("edge_hidden_channels", edge_hidden_channels),
            ("node_hidden_channels", node_hidden_channels),
            ("pos_dim", pos_dim),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.channels = channels
        self.message_channels = message_channels
        self.pos_dim = pos_dim
        self.residual = residual
        self.edge_mlp = mlp([2 * channels + pos_dim + 1, edge_hidden_channels, message_channels])
        self.node_mlp = mlp([channels + message_channels, node_hidden_channels, channels])
        self.norm = torch.nn.LayerNorm(channels) if norm else torch.nn.Identity()
        #: Sum the edge MLP's hidden activations with PyG's ``propagate`` (gather, message,
        #: scatter) instead of the fused :func:`~gen_pyg.ops.edge_relu_sum` (same result; kept
        #: as the reference that tests compare against).
        self.use_message_passing = False
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        reset_mlp(self.edge_mlp)
        reset_mlp(self.node_mlp)
        if isinstance(self.norm, torch.nn.LayerNorm):
            self.norm.reset_parameters()

    @staticmethod
    def edge_features(pos: Tensor, edge_index: Tensor) -> Tensor:
        r"""Relative position and distance :math:`[\mathbf{x}_j - \mathbf{x}_i,
        \lVert \mathbf{x}_j - \mathbf{x}_i \rVert]` of every edge :math:`j \to i`."""
        diff = pos[edge_index[0]] - pos[edge_index[1]]
        return torch.cat([diff, torch.linalg.vector_norm(diff, dim=-1, keepdim=True)], dim=-1)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        pos: Tensor | None = None,
        edge_attr: Tensor | None = None,
    ) -> Tensor:
        if edge_attr is None:
            if pos is None:
                raise ValueError("GENConv needs either 'pos' or precomputed 'edge_attr'")
            edge_attr = self.edge_features(pos, edge_index)
        if edge_attr.size(-1) != self.pos_dim + 1:
            raise ValueError(
                f"edge_attr must have {self.pos_dim + 1} features (pos_dim + 1), "
                f"got {edge_attr.size(-1)}"
            )
        lin1, lin2 = self._edge_layers()
        c = self.channels
        # m_e's first layer on [h_i, h_j, e_ij] is W_i h_i + W_j h_j + W_e e_ij + b: the node
        # terms are computed once per node instead of once per edge.
        # both node terms from one product: [N, C] @ [C, 2H], split into column views
        w_nodes = torch.cat([lin1.weight[:, :c], lin1.weight[:, c : 2 * c]], dim=0)
        dst, src = (x @ w_nodes.t()).chunk(2, dim=-1)
        w_edge = lin1.weight[:, 2 * c :]
        if self.aggr in ("sum", "add", "mean"):
            # m_e's last layer is linear, so it commutes with a sum or mean over edges: sum the
            # hidden activations (fused and chunked, nothing [E, H] is kept) and apply it once
            # per node.
            if self.use_message_passing:
                edge = torch.addmm(lin1.bias, edge_attr, w_edge.t())
                hidden = self.propagate(edge_index, dst=dst, src=src, edge=edge, aggr_sum=True)
            else:
                hidden = edge_relu_sum(dst, src, edge_attr, w_edge, lin1.bias, edge_index)
            deg = degree(edge_index[1], x.size(0), dtype=x.dtype).unsqueeze(-1)
            if self.aggr == "mean":
                hidden = hidden / deg.clamp(min=1)
                deg = (deg > 0).to(x.dtype)  # nodes without edges aggregate to zero
            aggregated = hidden @ lin2.weight.t() + deg * lin2.bias
        else:
            edge = torch.addmm(lin1.bias, edge_attr, w_edge.t())
            hidden = torch.relu(dst[edge_index[1]] + src[edge_index[0]] + edge)
            aggregated = self.aggr_module(lin2(hidden), edge_index[1], dim_size=x.size(0))
        out: Tensor = self.node_mlp(torch.cat([x, aggregated], dim=-1))
        if self.residual:
            out = out + x
        out = self.norm(out)
        return out

    def message(self, dst_i: Tensor, src_j: Tensor, edge: Tensor, aggr_sum: bool) -> Tensor:
        return torch.relu(dst_i + src_j + edge)

    def aggregate(
        self,
        inputs: Tensor,
        index: Tensor,
        ptr: Tensor | None = None,
        dim_size: int | None = None,
        aggr_sum: bool = True,
    ) -> Tensor:
        # The reference path sums hidden activations whatever ``aggr`` is (mean is applied
        # after, as in the fused path).
        out = inputs.new_zeros(dim_size or 0, inputs.size(-1))
        return out.index_add_(0, index, inputs)

    def _edge_layers(self) -> tuple[torch.nn.Linear, torch.nn.Linear]:
        return cast(torch.nn.Linear, self.edge_mlp[0]), cast(torch.nn.Linear, self.edge_mlp[2])

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.channels}, message_channels="
            f"{self.message_channels}, pos_dim={self.pos_dim}, aggr={self.aggr})"
        )
