r"""The interaction-network operator (Battaglia et al., NeurIPS 2016)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Linear, ReLU, Sequential
from torch_geometric.nn import MessagePassing
from torch_geometric.typing import OptTensor

from gen_pyg._validation import check_int

__all__ = ["InteractionConv"]


def _two_layer_mlp(in_channels: int, hidden_channels: int, out_channels: int) -> Sequential:
    return Sequential(
        Linear(in_channels, hidden_channels), ReLU(), Linear(hidden_channels, out_channels)
    )


class InteractionConv(MessagePassing):  # PyG ships no type information
    r"""The interaction-network operator from the `"Interaction Networks for Learning about
    Objects, Relations and Physics" <https://arxiv.org/abs/1612.00222>`_ paper
    (Battaglia et al., NeurIPS 2016).

    A relation (edge) model :math:`\phi_e` turns the states of the two endpoints of every edge
    into an effect; effects are summed at the receiving node, and an object (node) model
    :math:`\phi_v` turns the node's own input and its summed effects into the new state:

    .. math::
        \mathbf{m}_{j \rightarrow i} &= \phi_e\left(\mathbf{x}_j - \mathbf{x}_i \,\Vert\,
        \mathbf{e}_{j,i}\right)

        \mathbf{x}_i' &= \phi_v\left(\mathbf{u}_i \,\Vert\, \sum_{j \in \mathcal{N}(i)}
        \mathbf{m}_{j \rightarrow i}\right)

    With ``relative=False`` the edge model sees both states,
    :math:`\phi_e(\mathbf{x}_i \,\Vert\, \mathbf{x}_j \,\Vert\, \mathbf{e}_{j,i})`, as in the
    original paper. The node input :math:`\mathbf{u}_i` is :math:`\mathbf{x}_i` by default; a
    model may pass other node features instead (for example the state without absolute
    positions, which makes the layer translation invariant), or none at all. Both
    :math:`\phi_e` and :math:`\phi_v` are two-layer MLPs with a ReLU in between. Nothing in the
    layer depends on the number of nodes, so one set of weights serves graphs of any size.

    Args:
        in_channels (int): Size of each node state :math:`\mathbf{x}_i`.
        out_channels (int): Size of each output :math:`\mathbf{x}_i'`.
        hidden_channels (int, optional): Hidden width of both MLPs and size of each message.
            (default: :obj:`32`)
        edge_dim (int, optional): Size of the edge features :math:`\mathbf{e}_{j,i}`; :obj:`0`
            for none. (default: :obj:`0`)
        node_channels (int, optional): Size of the node input :math:`\mathbf{u}_i` of
            :math:`\phi_v`; :obj:`None` means :math:`\mathbf{u}_i = \mathbf{x}_i`, :obj:`0`
            means :math:`\phi_v` sees only the summed messages. (default: :obj:`None`)
        relative (bool, optional): Feed :math:`\mathbf{x}_j - \mathbf{x}_i` (rather than both
            states) to the edge model. (default: :obj:`True`)
        **kwargs (optional): Additional arguments of
            :class:`torch_geometric.nn.conv.MessagePassing`.

    Shapes:
        - **input:**
          node states :math:`(|\mathcal{V}|, F_{in})`,
          edge indices :math:`(2, |\mathcal{E}|)`,
          edge features :math:`(|\mathcal{E}|, D)` *(optional)*,
          node inputs :math:`(|\mathcal{V}|, F_{u})` *(optional)*
        - **output:** node features :math:`(|\mathcal{V}|, F_{out})`

    Example:
        >>> conv = InteractionConv(2, 1, hidden_channels=16)
        >>> x = torch.randn(3, 2)
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> conv(x, edge_index).shape
        torch.Size([3, 1])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int = 32,
        edge_dim: int = 0,
        node_channels: int | None = None,
        relative: bool = True,
        **kwargs: object,
    ) -> None:
        kwargs.setdefault("aggr", "sum")
        super().__init__(**kwargs)
        check_int(in_channels, "in_channels", 1)
        check_int(out_channels, "out_channels", 1)
        check_int(hidden_channels, "hidden_channels", 1)
        check_int(edge_dim, "edge_dim", 0)
        if node_channels is not None:
            check_int(node_channels, "node_channels", 0)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.edge_dim = edge_dim
        self.node_channels = in_channels if node_channels is None else node_channels
        self.relative = bool(relative)
        pair = in_channels if self.relative else 2 * in_channels
        self.edge_mlp = _two_layer_mlp(pair + edge_dim, hidden_channels, hidden_channels)
        self.node_mlp = _two_layer_mlp(
            self.node_channels + hidden_channels, hidden_channels, out_channels
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Resets all learnable parameters of the module."""
        super().reset_parameters()
        for mlp in (self.edge_mlp, self.node_mlp):
            for layer in mlp:
                if isinstance(layer, Linear):
                    layer.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: OptTensor = None,
        u: OptTensor = None,
    ) -> Tensor:
        """Runs the forward pass of the module."""
        if x.dim() != 2 or x.size(-1) != self.in_channels:
            raise ValueError(
                f"'x' must have shape [num_nodes, {self.in_channels}], got {tuple(x.shape)}"
            )
        if self.edge_dim > 0:
            if edge_attr is None or edge_attr.dim() != 2 or edge_attr.size(-1) != self.edge_dim:
                got = None if edge_attr is None else tuple(edge_attr.shape)
                raise ValueError(
                    f"'edge_attr' must have shape [num_edges, {self.edge_dim}], got {got}"
                )
        elif edge_attr is not None:
            raise ValueError("'edge_attr' was given but the layer was built with edge_dim=0")
        if u is None:
            if self.node_channels not in (0, self.in_channels):
                raise ValueError(f"'u' of shape [num_nodes, {self.node_channels}] is required")
            u = x if self.node_channels > 0 else x.new_zeros(x.size(0), 0)
        elif u.dim() != 2 or u.shape != (x.size(0), self.node_channels):
            raise ValueError(
                f"'u' must have shape [{x.size(0)}, {self.node_channels}], got {tuple(u.shape)}"
            )
        # propagate_type: (x: Tensor, edge_attr: OptTensor)
        aggr = self.propagate(edge_index, x=x, edge_attr=edge_attr)
        return self.node_mlp(torch.cat([u, aggr], dim=-1))  # type: ignore[no-any-return]

    def message(self, x_i: Tensor, x_j: Tensor, edge_attr: OptTensor) -> Tensor:
        parts = [x_j - x_i] if self.relative else [x_i, x_j]
        if edge_attr is not None:
            parts.append(edge_attr)
        return self.edge_mlp(torch.cat(parts, dim=-1))  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"hidden_channels={self.hidden_channels}, edge_dim={self.edge_dim}, "
            f"node_channels={self.node_channels}, relative={self.relative})"
        )
