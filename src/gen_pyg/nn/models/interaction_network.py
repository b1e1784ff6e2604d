r"""A stack of interaction-network layers that predicts a quantity per node."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.typing import OptTensor

from gen_pyg._validation import check_int
from gen_pyg.nn.conv.interaction_conv import InteractionConv

__all__ = ["InteractionNetwork"]


class InteractionNetwork(torch.nn.Module):
    r"""A stack of :class:`InteractionConv` layers that predicts a quantity per node, such as
    the acceleration of every mass of a spring chain (Battaglia et al., NeurIPS 2016).

    The first ``position_channels`` columns of the node features are treated as absolute
    positions: they reach the network only through differences along edges, never in the node
    update, so a translated system gets the same prediction. The remaining columns (for
    example velocity and mass) enter both. Nothing depends on the number of nodes, so a model
    trained on 3-mass chains runs unchanged on 100-mass chains.

    .. math::
        \mathbf{h}^{(0)} = \mathbf{x}, \qquad
        \mathbf{h}^{(\ell)} = \mathrm{InteractionConv}_\ell\left(\mathbf{h}^{(\ell-1)},
        \mathbf{u}^{(\ell)}\right), \qquad
        \mathbf{u}^{(1)} = \mathbf{x}_{[p:]}, \quad \mathbf{u}^{(\ell > 1)} =
        \mathbf{h}^{(\ell-1)},

    with a ReLU between layers and :math:`p` = ``position_channels``.

    Args:
        in_channels (int, optional): Node feature size (position, velocity, ...).
            (default: :obj:`2`)
        out_channels (int, optional): Output size per node. (default: :obj:`1`)
        hidden_channels (int, optional): Hidden width of every MLP. (default: :obj:`32`)
        edge_dim (int, optional): Edge feature size (e.g. :obj:`1` for per-spring stiffness),
            :obj:`0` for none. (default: :obj:`0`)
        num_layers (int, optional): Number of message-passing layers; one suffices for forces
            between neighbours. (default: :obj:`1`)
        position_channels (int, optional): How many leading node-feature columns are absolute
            positions. (default: :obj:`1`)
        relative (bool, optional): Messages from differences of endpoint states (see
            :class:`InteractionConv`). With ``relative=False`` and ``position_channels=0``
            the model is the notebook's architecture. (default: :obj:`True`)

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F_{in})`, edge indices
          :math:`(2, |\mathcal{E}|)`, edge features :math:`(|\mathcal{E}|, D)` *(optional)*
        - **output:** :math:`(|\mathcal{V}|, F_{out})`

    Example:
        >>> model = InteractionNetwork(in_channels=2, out_channels=1)
        >>> x = torch.randn(3, 2)
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> model(x, edge_index).shape
        torch.Size([3, 1])
    """

    def __init__(
        self,
        in_channels: int = 2,
        out_channels: int = 1,
        hidden_channels: int = 32,
        edge_dim: int = 0,
        num_layers: int = 1,
        position_channels: int = 1,
        relative: bool = True,
    ) -> None:
        super().__init__()
        check_int(in_channels, "in_channels", 1)
        check_int(num_layers, "num_layers", 1)
        check_int(position_channels, "position_channels", 0)
        if position_channels > in_channels:
            raise ValueError(
                f"'position_channels' ({position_channels}) cannot exceed "
                f"'in_channels' ({in_channels})"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.edge_dim = edge_dim
        self.num_layers = num_layers
        self.position_channels = position_channels
        self.relative = bool(relative)
        self.convs = torch.nn.ModuleList()
        for layer in range(num_layers):
            first, last = layer == 0, layer == num_layers - 1
            self.convs.append(
                InteractionConv(
                    in_channels if first else hidden_channels,
                    out_channels if last else hidden_channels,
                    hidden_channels=hidden_channels,
                    edge_dim=edge_dim,
                    node_channels=in_channels - position_channels if first else None,
                    relative=relative,
                )
            )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Resets all learnable parameters of the module."""
        for conv in self.convs:
            if isinstance(conv, InteractionConv):
                conv.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: OptTensor = None) -> Tensor:
        """Predicts one output per node."""
        h = x
        u: Tensor | None = x[:, self.position_channels :]
        for layer, conv in enumerate(self.convs):
            h = conv(h, edge_index, edge_attr, u)
            if layer < self.num_layers - 1:
                h = h.relu()
            u = None
        return h

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"hidden_channels={self.hidden_channels}, num_layers={self.num_layers}, "
            f"position_channels={self.position_channels}, relative={self.relative})"
        )
