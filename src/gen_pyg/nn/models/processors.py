"""The middle stage of a GEN: rounds of message passing between the nodes."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.utils import degree

from gen_pyg._validation import check_choice, check_int
from gen_pyg.nn._checks import check_num_steps
from gen_pyg.nn.conv.element_conv import ElementConv
from gen_pyg.nn.models._stage import check_flag
from gen_pyg.nn.representation import node_scales

#: Edge geometries the message passing may see.
GEOMETRIES = ("absolute", "local")


class ElementProcessor(torch.nn.Module):
    r""":math:`T` rounds of :class:`~gen_pyg.nn.ElementConv` sharing their weights (the
    `"Graph Element Networks" <https://arxiv.org/abs/1904.09019>`_ paper, §3.3), over the
    mesh's edges or over a graph that :obj:`graph` builds from the node positions:

    .. math::
        \mathbf{z}^{t+1} = \mathrm{ElementConv}\big(\mathbf{z}^{t} + W\mathbf{z}^{0}\big),
        \qquad t = 0, \dots, T - 1,

    with the recall term :math:`W\mathbf{z}^0` only with :obj:`recall=True`.

    Args:
        channels (int, optional): node state size. (default: :obj:`32`)
        pos_dim (int, optional): dimension :math:`D` of the space. (default: :obj:`2`)
        num_steps (int, optional): rounds :math:`T`, at most :obj:`10_000`; :obj:`None` takes
            them from the caller (a :class:`~gen_pyg.nn.GEN` passes the mesh's diameter).
            (default: :obj:`None`)
        graph (torch.nn.Module, optional): a graph builder, called as ``graph(pos, batch)``
            for the :obj:`edge_index` of every call (e.g. :class:`~gen_pyg.nn.RadiusGraph`,
            so that a round reaches the same distance on every mesh); :obj:`None` runs on the
            edges passed in. (default: :obj:`None`)
        recall (bool, optional): feed the encoded states back before every round (the
            "recall" of deep-thinking recurrent networks), so that the rounds can iterate
            towards a fixed point of the inputs instead of carrying them along.
            (default: :obj:`False`)
        geometry (str, optional): the edge geometry the messages see: ``"absolute"`` (offsets
            and lengths, the paper's) or ``"local"`` (divided by the receiving node's shortest
            edge, so that a uniform grid looks the same at every resolution).
            (default: :obj:`"absolute"`)
        **conv_kwargs (optional): arguments of :class:`~gen_pyg.nn.ElementConv`
            (:obj:`message_channels`, :obj:`edge_hidden_channels`,
            :obj:`node_hidden_channels`, :obj:`aggr`, :obj:`norm`, :obj:`backend`). With
            ``norm="pre"`` the states are normalised once more after the last round.

    Shapes:
        - **input:** node states :math:`(N, C)` at :math:`(N, D)`, edges :math:`(2, E)`,
          batch vector :math:`(N)`
        - **output:** node states :math:`(N, C)`

    Example:
        >>> proc = ElementProcessor(8, num_steps=2)
        >>> pos = torch.rand(4, 2)
        >>> proc(torch.randn(4, 8), pos, torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
        torch.Size([4, 8])
    """

    def __init__(
        self,
        channels: int = 32,
        pos_dim: int = 2,
        num_steps: int | None = None,
        graph: torch.nn.Module | None = None,
        recall: bool = False,
        geometry: str = "absolute",
        **conv_kwargs: Any,
    ) -> None:
        super().__init__()
        self.channels = check_int(channels, "channels")
        self.num_steps = None if num_steps is None else check_num_steps(num_steps, "num_steps")
        if graph is not None and not callable(graph):
            raise TypeError(f"graph must be a graph builder called as graph(pos, batch), got "
                            f"{type(graph).__name__}")
        if graph is not None and num_steps is None:
            raise ValueError(f"a processor with graph={graph} needs num_steps: its rounds no "
                             "longer follow the mesh's diameter")
        self.graph = graph
        check_choice(geometry, "geometry", GEOMETRIES)
        self.geometry = geometry
        self.conv = ElementConv(channels, pos_dim=pos_dim, **conv_kwargs)
        # the encoded states, projected, added before every round
        self.recall = (torch.nn.Linear(channels, channels, bias=False)
                       if check_flag(recall, "recall") else None)
        # pre-norm leaves the states of the last round un-normalised: one norm after it
        self.final_norm = (torch.nn.LayerNorm(channels) if self.conv.norm_position == "pre"
                           else None)
        self.reset_parameters()

    @property
    def pos_dim(self) -> int:
        return self.conv.pos_dim

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        for part in (self.recall, self.final_norm):
            if part is not None:
                part.reset_parameters()

    def forward(
        self,
        z: Tensor,
        pos: Tensor,
        edge_index: Tensor | None = None,
        batch: Tensor | None = None,
        num_steps: int | None = None,
        z0: Tensor | None = None,
    ) -> Tensor:
        """Node states after :obj:`num_steps` rounds (default: the processor's
        :obj:`num_steps`) from :obj:`z`; with :obj:`recall`, :obj:`z0` are the encoded states
        fed back (default: :obj:`z`, right when :obj:`z` is the encoding)."""
        steps = self.num_steps if num_steps is None else num_steps
        if steps is None:
            raise ValueError("ElementProcessor needs num_steps: give it to the processor or to "
                             "the call (a GEN passes the mesh's diameter)")
        if steps == 0:
            return z
        if self.graph is not None:
            edge_index = self.graph(pos, batch)
        elif edge_index is None:
            raise ValueError("ElementProcessor needs the mesh's edge_index (or a graph builder)")
        # what depends only on the graph is computed once for all rounds
        geometry = ElementConv.edge_geometry(pos, edge_index)
        if self.geometry == "local":
            scale = node_scales(pos, edge_index)[edge_index[1]]
            geometry = geometry / scale.unsqueeze(-1)
        in_degree = degree(edge_index[1], z.size(0), dtype=z.dtype)
        recalled = self.recall(z if z0 is None else z0) if self.recall is not None else None
        for _ in range(steps):
            if recalled is not None:
                z = z + recalled
            z = self.conv(z, edge_index, geometry=geometry, in_degree=in_degree)
        if self.final_norm is not None:
            z = self.final_norm(z)
        return z

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.channels}, num_steps={self.num_steps}"
                + (f", graph={self.graph}" if self.graph is not None else "")
                + (", recall=True" if self.recall is not None else "")
                + (f", geometry={self.geometry!r}" if self.geometry != "absolute" else "")
                + (f", aggr={self.conv.aggr!r}" if self.conv.aggr != "sum" else "")
                + (f", norm={self.conv.norm_position!r}" if self.conv.norm_position != "post"
                   else "") + ")")
