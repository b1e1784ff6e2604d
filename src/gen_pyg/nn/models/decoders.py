"""The last stage of a GEN: node states :math:`\\to` answers at query points, or one answer
per example."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import global_add_pool

from gen_pyg._validation import check_int
from gen_pyg.nn._function_heads import FunctionHeads, as_channel_list
from gen_pyg.nn._mlp import mlp, reset_mlp
from gen_pyg.nn.conv.spatial_decoder import SpatialDecoder
from gen_pyg.nn.models._stage import SpatialStage, check_flag
from gen_pyg.nn.representation import DenseSizes, Representation, get_representation
from gen_pyg.ops._fused_edges import edge_relu_sum


class PointDecoder(SpatialStage):
    r"""The decoder of the `"Graph Element Networks" <https://arxiv.org/abs/1904.09019>`_ paper
    (§3.3): the node states are interpolated to each query with the weights of a representation
    function :math:`r` and decoded by the MLP :math:`d_j` of the query's output function,

    .. math::
        \hat{g}_j(x_q) = d_j\Big(\sum_n r(x_q)_n \, \mathbf{z}_n,\; x_q\Big).

    A :class:`~gen_pyg.nn.GaussianKernel` with :obj:`normalize=True` makes it a kernel average
    over the nodes near each query (more nodes answer on a finer mesh).

    Args:
        latent_channels (int, optional): node state size. (default: :obj:`32`)
        out_channels (int or list of int, optional): value size of each output function, one
            decoder MLP each. (default: :obj:`1`)
        representation (Representation or str, optional): the weights of queries on nodes.
            (default: :obj:`"soft_nearest"`)
        pos_dim (int, optional): dimension :math:`D` of the space. (default: :obj:`2`)
        hidden_channels (int, optional): hidden width of the MLPs. (default: :obj:`32`)
        decode_pos (bool, optional): feed query positions to the MLPs. (default: :obj:`True`)

    Shapes:
        - **input:** node states :math:`(N, C)` at :math:`(N, D)`, query positions
          :math:`(Q, D)`, batch vectors :math:`(N)`, :math:`(Q)`, function ids :math:`(Q)`
        - **output:** :math:`(Q, \max_j c'_j)`

    Example:
        >>> dec = PointDecoder(8, representation="soft_nearest")
        >>> dec(torch.randn(4, 8), torch.rand(4, 2), torch.rand(3, 2)).shape
        torch.Size([3, 1])
    """

    #: Answers at query points (a readout answers once per example).
    needs_queries = True

    def __init__(
        self,
        latent_channels: int = 32,
        out_channels: int | Sequence[int] = 1,
        representation: Representation | str = "soft_nearest",
        pos_dim: int = 2,
        hidden_channels: int = 32,
        decode_pos: bool = True,
    ) -> None:
        super().__init__()
        self.latent_channels = check_int(latent_channels, "latent_channels")
        self.out_channels = as_channel_list(out_channels, "out_channels")
        self.pos_dim = check_int(pos_dim, "pos_dim")
        check_int(hidden_channels, "hidden_channels")
        self.decode_pos = check_flag(decode_pos, "decode_pos")
        self.spatial = SpatialDecoder(get_representation(representation))
        self.heads = FunctionHeads([self._decoded_channels()] * len(self.out_channels),
                                   self.out_channels, hidden_channels,
                                   extra_channels=pos_dim * int(decode_pos))
        self.reset_parameters()

    def _decoded_channels(self) -> int:
        return self.latent_channels

    def reset_parameters(self) -> None:
        self.spatial.reset_parameters()
        self.heads.reset_parameters()

    def interpolate(self, z: Tensor, pos: Tensor, query_pos: Tensor,
                    batch: Tensor | None = None, query_batch: Tensor | None = None, *,
                    edge_index: Tensor | None = None, mesh: Data | None = None,
                    sizes: DenseSizes | None = None) -> Tensor:
        """The states at the queries, before the MLPs: :math:`\\sum_n r(x_q)_n\\,
        \\mathbf{z}_n` :obj:`[Q, C]`."""
        zq: Tensor = self.spatial(z, pos, query_pos, batch, query_batch, mesh=mesh, sizes=sizes)
        return zq

    def forward(
        self,
        z: Tensor,
        pos: Tensor,
        query_pos: Tensor,
        batch: Tensor | None = None,
        query_batch: Tensor | None = None,
        *,
        query_fn: Tensor | None = None,
        edge_index: Tensor | None = None,
        mesh: Data | None = None,
        sizes: DenseSizes | None = None,
    ) -> Tensor:
        zq = self.interpolate(z, pos, query_pos, batch, query_batch, edge_index=edge_index,
                              mesh=mesh, sizes=sizes)
        out: Tensor = self.heads(zq, query_pos if self.decode_pos else None, query_fn)
        return out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.latent_channels}, {self.out_channels}, "
                f"representation={self.representation}"
                + ("" if self.decode_pos else ", decode_pos=False") + ")")


class PairDecoder(PointDecoder):
    r"""A decoder in which each node answers a query with a function of its own around it
    (learned shape functions, as in finite elements): a pair MLP :math:`d'` sees the node's
    state and the query's offset :math:`\delta_{qn} = (x_q - x_n) / \ell_n` in the node's
    length scale (:meth:`Representation.node_scale <gen_pyg.nn.Representation.node_scale>`),
    and the representation weighs the answers,

    .. math::
        \hat{g}_j(x_q) = d_j\Big(\sum_n r(x_q)_n \, d'(\mathbf{z}_n, \delta_{qn}),\;
        x_q\Big).

    Takes the arguments of :class:`PointDecoder` and

    - :obj:`pair_channels` (int, optional), the width of :math:`d'` (its hidden layer and its
      output). (default: :obj:`64`)
    - :obj:`chunk_size` (int, optional), the most pairs whose hidden layer is held at a
      time: each chunk's weighted hidden layer is added to its queries before the next is
      computed (and computed again in backward when there are several chunks), so the memory
      of a call is bounded and its working set stays in cache however many nodes answer a
      query (a kernel decoder on a fine mesh has thousands per query). :obj:`None` decodes all
      pairs at once. The answers do not depend on it beyond float round-off.
      (default: :obj:`4096`)

    :math:`d'` is never run per pair: its first layer's node term is computed once per node
    and its last (linear) layer once per query, after the weighted sum, so a pair costs a
    gather, a rank-:math:`D` update and a ReLU (``benchmarks/pair_layers.py``: two to three
    times faster than an MLP call per pair).

    :meth:`forward` needs the mesh's :obj:`edge_index` unless the representation's scale is a
    constant (a :class:`~gen_pyg.nn.GaussianKernel`).

    Example:
        >>> from gen_pyg.nn import GaussianKernel
        >>> dec = PairDecoder(8, representation=GaussianKernel(0.5, normalize=True))
        >>> dec(torch.randn(4, 8), torch.rand(4, 2), torch.rand(3, 2)).shape
        torch.Size([3, 1])
    """

    def __init__(
        self,
        latent_channels: int = 32,
        out_channels: int | Sequence[int] = 1,
        representation: Representation | str = "soft_nearest",
        pos_dim: int = 2,
        hidden_channels: int = 32,
        decode_pos: bool = True,
        pair_channels: int = 64,
        chunk_size: int | None = 4096,
    ) -> None:
        self.pair_channels = check_int(pair_channels, "pair_channels")
        self.chunk_size = None if chunk_size is None else check_int(chunk_size, "chunk_size")
        super().__init__(latent_channels, out_channels, representation, pos_dim,
                         hidden_channels, decode_pos)
        self.pair = mlp([latent_channels + pos_dim, pair_channels, pair_channels])
        reset_mlp(self.pair)

    def _decoded_channels(self) -> int:
        return self.pair_channels

    @property
    def takes_dense_sizes(self) -> bool:
        return False

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if hasattr(self, "pair"):
            reset_mlp(self.pair)

    def interpolate(self, z: Tensor, pos: Tensor, query_pos: Tensor,
                    batch: Tensor | None = None, query_batch: Tensor | None = None, *,
                    edge_index: Tensor | None = None, mesh: Data | None = None,
                    sizes: DenseSizes | None = None) -> Tensor:
        """:math:`\\sum_n r(x_q)_n\\, d'(\\mathbf{z}_n, \\delta_{qn})` :obj:`[Q, pair]`.

        Computed without an MLP call per pair: :math:`d'`'s first layer on
        :math:`[\\mathbf{z}_n, \\delta_{qn}]` is :math:`W_z \\mathbf{z}_n + W_\\delta
        \\delta_{qn} + \\mathbf{b}`, whose node term is computed once per node, and its last
        layer is linear, so it commutes with the weighted sum and is applied once per query
        (:func:`~gen_pyg.ops._fused_edges.edge_relu_sum` does the rest, chunk by chunk)."""
        point, node, weight = self.representation(query_pos, pos, query_batch, batch, mesh)
        scale = self.representation.node_scale(pos, edge_index)
        lin1, lin2 = cast(torch.nn.Linear, self.pair[0]), cast(torch.nn.Linear, self.pair[2])
        c = self.latent_channels
        offset = (query_pos[point] - pos[node]) / scale[node].unsqueeze(-1)
        hidden = edge_relu_sum(None, z @ lin1.weight[:, :c].t(), offset, lin1.weight[:, c:],
                               lin1.bias, torch.stack([node, point]), edge_weight=weight,
                               num_dst=query_pos.size(0),
                               chunk_size=self.chunk_size or max(point.numel(), 1))
        # sum_n r_n (W2 h_n + b2) = W2 (sum_n r_n h_n) + (sum_n r_n) b2
        total = weight.new_zeros(query_pos.size(0)).index_add_(0, point, weight)
        zq: Tensor = torch.addmm(total.unsqueeze(-1) * lin2.bias, hidden, lin2.weight.t())
        return zq

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] + f", pair_channels={self.pair_channels}"
                + ("" if self.chunk_size == 4096 else f", chunk_size={self.chunk_size}") + ")")


class SumReadout(torch.nn.Module):
    r"""One answer per example: the node states of each example are summed and decoded,

    .. math::
        \hat{y}_b = d_j\Big(\sum_{n \in b} \mathbf{z}_n\Big),

    as the pushing experiment of the GEN paper needs (§4.2).

    Args:
        latent_channels (int, optional): node state size. (default: :obj:`32`)
        out_channels (int, optional): answer size. (default: :obj:`1`)
        hidden_channels (int, optional): hidden width of the MLP. (default: :obj:`32`)

    Shapes:
        - **input:** node states :math:`(N, C)`, batch vector :math:`(N)`
        - **output:** :math:`(B, \text{out_channels})`

    Example:
        >>> readout = SumReadout(8, 3)
        >>> readout(torch.randn(5, 8), torch.tensor([0, 0, 1, 1, 1])).shape
        torch.Size([2, 3])
    """

    needs_queries = False

    def __init__(self, latent_channels: int = 32, out_channels: int = 1,
                 hidden_channels: int = 32) -> None:
        super().__init__()
        self.latent_channels = check_int(latent_channels, "latent_channels")
        self.out_channels = [check_int(out_channels, "out_channels")]
        check_int(hidden_channels, "hidden_channels")
        self.heads = FunctionHeads([latent_channels], self.out_channels, hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.heads.reset_parameters()

    def forward(self, z: Tensor, batch: Tensor | None = None,
                batch_size: int | None = None) -> Tensor:
        out: Tensor = self.heads(global_add_pool(z, batch, size=batch_size))
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.latent_channels}, {self.out_channels[0]})"
