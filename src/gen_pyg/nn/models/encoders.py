"""The first stage of a GEN: input samples :math:`\\to` initial node states."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import check_choice, check_int
from gen_pyg.nn._function_heads import FunctionHeads, as_channel_list
from gen_pyg.nn.conv.spatial_encoder import SpatialEncoder
from gen_pyg.nn.models._stage import SpatialStage, check_flag
from gen_pyg.nn.representation import DenseSizes, Representation, get_representation
from gen_pyg.ops._fused_edges import edge_relu_sum

#: Aggregations of the weighted samples onto the nodes.
ENCODER_AGGRS = ("sum", "mean", "max", "min")


class PointEncoder(SpatialStage):
    r"""The encoder of the `"Graph Element Networks" <https://arxiv.org/abs/1904.09019>`_ paper
    (§3.3): each sample is encoded by the MLP :math:`e_i` of its input function and scattered
    onto the mesh nodes with the weights of a representation function :math:`r`,

    .. math::
        \mathbf{z}^0_n = \bigoplus_{p} r(x_p)_n \, e_{i_p}(s_p, x_p),

    with :math:`\bigoplus` a sum (the paper's) or a mean, max or min over each node's samples.
    Any :class:`~gen_pyg.nn.Representation` serves: :class:`~gen_pyg.nn.SoftNearest`,
    :class:`~gen_pyg.nn.Bilinear`, :class:`~gen_pyg.nn.Barycentric`, or a
    :class:`~gen_pyg.nn.GaussianKernel`, whose encoding does not depend on the mesh's node count.

    Args:
        in_channels (int or list of int, optional): value size of each input function, one
            encoder MLP each. (default: :obj:`1`)
        latent_channels (int, optional): node state size. (default: :obj:`32`)
        representation (Representation or str, optional): the weights of samples on nodes.
            (default: :obj:`"soft_nearest"`)
        pos_dim (int, optional): dimension :math:`D` of the space. (default: :obj:`2`)
        hidden_channels (int, optional): hidden width of the MLPs. (default: :obj:`48`)
        encode_pos (bool, optional): feed sample positions to the MLPs. (default: :obj:`True`)
        aggr (str, optional): ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``.
            (default: :obj:`"sum"`)

    Shapes:
        - **input:** values :math:`(P, \max_i c_i)` at positions :math:`(P, D)`, node positions
          :math:`(N, D)`, batch vectors :math:`(P)`, :math:`(N)`, function ids :math:`(P)`
        - **output:** node states :math:`(N, \text{latent_channels})`

    Example:
        >>> enc = PointEncoder(latent_channels=8, representation="bilinear")
        >>> from gen_pyg.mesh import grid
        >>> mesh = grid(3)
        >>> enc(torch.rand(5, 1), torch.rand(5, 2), mesh.pos, mesh=mesh).shape
        torch.Size([9, 8])
    """

    def __init__(
        self,
        in_channels: int | Sequence[int] = 1,
        latent_channels: int = 32,
        representation: Representation | str = "soft_nearest",
        pos_dim: int = 2,
        hidden_channels: int = 48,
        encode_pos: bool = True,
        aggr: str = "sum",
    ) -> None:
        super().__init__()
        self.in_channels = as_channel_list(in_channels, "in_channels")
        self.latent_channels = check_int(latent_channels, "latent_channels")
        self.pos_dim = check_int(pos_dim, "pos_dim")
        check_int(hidden_channels, "hidden_channels")
        self.encode_pos = check_flag(encode_pos, "encode_pos")
        check_choice(aggr, "aggr", ENCODER_AGGRS)
        self.heads = FunctionHeads(self.in_channels, [latent_channels] * len(self.in_channels),
                                   hidden_channels, extra_channels=self._extra_channels())
        self.spatial = SpatialEncoder(get_representation(representation), aggr=aggr)
        self.reset_parameters()

    def _extra_channels(self) -> int:
        return self.pos_dim * int(self.encode_pos)

    def reset_parameters(self) -> None:
        self.heads.reset_parameters()
        self.spatial.reset_parameters()

    def forward(
        self,
        input_x: Tensor,
        input_pos: Tensor,
        pos: Tensor,
        input_batch: Tensor | None = None,
        batch: Tensor | None = None,
        *,
        input_fn: Tensor | None = None,
        edge_index: Tensor | None = None,
        mesh: Data | None = None,
        sizes: DenseSizes | None = None,
    ) -> Tensor:
        """Node states from samples (:obj:`edge_index` is not used; :obj:`mesh` holds what a
        representation needs beyond node positions, :obj:`sizes` the padded block sizes of
        a dense one, see :func:`~gen_pyg.nn.representation.dense_sizes`)."""
        h = self.heads(input_x, input_pos if self.encode_pos else None, input_fn)
        z: Tensor = self.spatial(h, input_pos, pos, input_batch, batch, mesh=mesh, sizes=sizes)
        return z

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.latent_channels}, "
                f"representation={self.representation}"
                + ("" if self.spatial.aggr == "sum" else f", aggr={self.spatial.aggr!r}")
                + ("" if self.encode_pos else ", encode_pos=False") + ")")


class PairEncoder(PointEncoder):
    r"""An encoder that sees every (sample, node) pair of a representation from the node: the
    sample's offset :math:`\delta_{pn} = (x_p - x_n) / \ell_n` from the node, in the node's
    length scale :math:`\ell_n` (:meth:`Representation.node_scale
    <gen_pyg.nn.Representation.node_scale>`: the node's shortest mesh edge, or a kernel's
    bandwidth), joins the MLP's input,

    .. math::
        \mathbf{z}^0_n = \bigoplus_{p} r(x_p)_n \, e_{i_p}(s_p, x_p, \delta_{pn}),

    so that a node encodes the shape of the input around it (as finite elements' shape
    functions do). A sample has 4 pairs with :class:`~gen_pyg.nn.Bilinear`, 3 with
    :class:`~gen_pyg.nn.Barycentric`, :math:`N` with dense :class:`~gen_pyg.nn.SoftNearest`
    and all the nodes within the reach of a :class:`~gen_pyg.nn.GaussianKernel`. With
    ``aggr="sum"`` the MLP is not run per pair: its first layer's term of the sample is
    computed once per sample and its last (linear) layer once per node, after the sum, so a
    pair costs a gather, a rank-:math:`D` update and a ReLU (``benchmarks/pair_layers.py``);
    the other aggregations run the MLP on every pair.

    Takes the arguments of :class:`PointEncoder`; :meth:`forward` needs the mesh's
    :obj:`edge_index` unless the representation's scale is a constant (a
    :class:`~gen_pyg.nn.GaussianKernel`).

    Example:
        >>> from gen_pyg.nn import GaussianKernel
        >>> enc = PairEncoder(latent_channels=8, representation=GaussianKernel(0.5))
        >>> enc(torch.rand(5, 1), torch.rand(5, 2), torch.rand(4, 2)).shape
        torch.Size([4, 8])
    """

    def _extra_channels(self) -> int:
        return self.pos_dim * (int(self.encode_pos) + 1)

    @property
    def takes_dense_sizes(self) -> bool:
        return False

    def forward(
        self,
        input_x: Tensor,
        input_pos: Tensor,
        pos: Tensor,
        input_batch: Tensor | None = None,
        batch: Tensor | None = None,
        *,
        input_fn: Tensor | None = None,
        edge_index: Tensor | None = None,
        mesh: Data | None = None,
        sizes: DenseSizes | None = None,
    ) -> Tensor:
        point, node, weight = self.representation(input_pos, pos, input_batch, batch, mesh)
        scale = self.representation.node_scale(pos, edge_index)
        offset = (input_pos[point] - pos[node]) / scale[node].unsqueeze(-1)
        if self.spatial.aggr == "sum":
            return self._fused_sum(input_x, input_pos, pos.size(0), point, node, weight, offset,
                                   input_fn)
        extra = torch.cat([input_pos[point], offset], 1) if self.encode_pos else offset
        h = self.heads(input_x[point], extra, None if input_fn is None else input_fn[point])
        # pair m goes to its node with its weight; the batches are in the pairs already
        pairs = torch.arange(point.numel(), device=point.device)
        z: Tensor = self.spatial(h, input_pos[point], pos, assignment=(pairs, node, weight))
        return z

    def _fused_sum(self, input_x: Tensor, input_pos: Tensor, num_nodes: int, point: Tensor,
                   node: Tensor, weight: Tensor, offset: Tensor,
                   input_fn: Tensor | None) -> Tensor:
        """The weighted sum over the pairs without an MLP call per pair: a head's first layer
        on :math:`[s_p, x_p, \\delta_{pn}]` is a sample term (once per sample) plus
        :math:`W_\\delta \\delta_{pn}`, and its last layer is linear, so it is applied once
        per node after the sum (:func:`~gen_pyg.ops._fused_edges.edge_relu_sum`)."""
        d = self.pos_dim
        z: Tensor | None = None
        for i, head in enumerate(self.heads.heads):
            layers = cast(torch.nn.Sequential, head)
            lin1 = cast(torch.nn.Linear, layers[0])
            lin2 = cast(torch.nn.Linear, layers[2])
            c = self.in_channels[i]
            sample = input_x[:, :c] @ lin1.weight[:, :c].t()
            if self.encode_pos:
                sample = sample + input_pos @ lin1.weight[:, c:c + d].t()
            p, n, w, o = point, node, weight, offset
            if len(self.in_channels) > 1:
                if input_fn is None:
                    raise ValueError(f"a function id per sample (input_fn) is required with "
                                     f"{len(self.in_channels)} input functions")
                mine = (input_fn[point] == i).nonzero().view(-1)
                p, n, w, o = point[mine], node[mine], weight[mine], offset[mine]
            hidden = edge_relu_sum(None, sample, o, lin1.weight[:, -d:], lin1.bias,
                                   torch.stack([p, n]), edge_weight=w, num_dst=num_nodes)
            # sum_p w_p (W2 h_p + b2) = W2 (sum_p w_p h_p) + (sum_p w_p) b2
            total = w.new_zeros(num_nodes).index_add_(0, n, w)
            part = torch.addmm(total.unsqueeze(-1) * lin2.bias, hidden, lin2.weight.t())
            z = part if z is None else z + part
        assert z is not None
        return z
