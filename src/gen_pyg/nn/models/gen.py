"""The Graph Element Network model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import global_add_pool
from torch_geometric.utils import degree

from gen_pyg._validation import (
    check_device,
    check_dtype,
    check_index,
    check_points,
    checked_inputs,
    parameter_device,
    parameter_dtype,
    shape_of,
)
from gen_pyg.mesh.diameter import graph_diameter
from gen_pyg.nn._checks import (
    batch_vector,
    check_function_samples,
    check_nonempty,
    check_num_steps,
    check_positive_ints,
    example_index,
    num_examples,
    steps_from_diameter,
)
from gen_pyg.nn.conv.gen_conv import BACKENDS as CONV_BACKENDS
from gen_pyg.nn.conv.gen_conv import FUSED_AGGRS, GENConv, norm_position
from gen_pyg.nn.conv.spatial_decoder import SpatialDecoder
from gen_pyg.nn.conv.spatial_encoder import SpatialEncoder
from gen_pyg.nn.function_heads import FunctionHeads, as_channel_list
from gen_pyg.nn.mlp import mlp, reset_mlp
from gen_pyg.nn.representation import Representation, get_representation

READOUTS = ("interpolate", "sum")
#: Aggregations of the spatial encoder (``encoder_aggr``).
ENCODER_AGGRS = ("sum", "mean", "max", "min")


#: where the encoder and decoder hold the representation that GEN shares with them
_SHARED_REPRESENTATION = ("spatial_encoder.representation.", "spatial_decoder.representation.")


def _shares_representation(gen: torch.nn.Module) -> bool:
    rep = getattr(gen, "representation", None)
    return all(getattr(getattr(gen, owner, None), "representation", None) is rep
               for owner in ("spatial_encoder", "spatial_decoder"))


def _list_shared_representation_once(
    module: torch.nn.Module, state_dict: dict[str, Any], prefix: str, local_metadata: Any
) -> None:
    if _shares_representation(module):
        for key in [k for k in state_dict
                    if k.startswith(tuple(prefix + s for s in _SHARED_REPRESENTATION))]:
            del state_dict[key]


def _share_representation_on_load(
    module: torch.nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any
) -> None:
    # state dicts that list the shared tensors three times (earlier checkpoints) load unchanged
    if not _shares_representation(module):
        return
    own = prefix + "representation."
    for key in [k for k in state_dict if k.startswith(own)]:
        for shared in _SHARED_REPRESENTATION:
            state_dict.setdefault(prefix + shared + key[len(own):], state_dict[key])


class GEN(torch.nn.Module):
    r"""A Graph Element Network from the `"Graph Element Networks: adaptive, structured
    computation and memory" <https://arxiv.org/abs/1904.09019>`_ paper (Alet et al., ICML 2019).

    Input samples :math:`(x_p, s_p, i_p)` (position, value, input function) and mesh nodes at
    positions :math:`x_n` give predictions at query points :math:`x_q`:

    .. math::
        \mathbf{z}^0_n &= \sum_p r(x_p)_n \, e_{i_p}(s_p, x_p) \\
        \mathbf{z}^{t+1} &= \mathrm{GENConv}(\mathbf{z}^{t}), \quad t = 0, \dots, T-1 \\
        \hat{g}_j(x_q) &= d_j\Big(\sum_n r(x_q)_n \, \mathbf{z}^T_n,\; x_q\Big)

    with encoders :math:`e_i`, decoders :math:`d_j`, a representation function :math:`r` and
    :math:`T` rounds of message passing sharing their weights. With :obj:`relative_pos=True`
    the encoders and a pair decoder :math:`d'` see every (point, node) pair of the
    representation from the node, with the offset :math:`\delta_{pn} = (x_p - x_n) / \ell_n`
    scaled by the length :math:`\ell_n` of the node's shortest edge:

    .. math::
        \mathbf{z}^0_n = \sum_p r(x_p)_n \, e_{i_p}(s_p, x_p, \delta_{pn}), \qquad
        \hat{g}_j(x_q) = d_j\Big(\sum_n r(x_q)_n \, d'(\mathbf{z}^T_n, \delta_{qn}),\;
        x_q\Big)

    so that each node decodes a function of its own around it (learned shape functions, as
    in finite elements) instead of the decoder interpolating node states linearly. With
    :obj:`readout="sum"` the node states are summed per example and decoded once (one
    answer per example).

    Each example is a :class:`~torch_geometric.data.Data` with the mesh (:obj:`pos` :math:`[N, D]`,
    :obj:`edge_index`), the inputs (:obj:`input_pos` :math:`[P, D]`, :obj:`input_x`
    :math:`[P, \max_i c_i]`, and :obj:`input_fn` :math:`[P]` when there are several input
    functions) and the queries (:obj:`query_pos` :math:`[Q, D]`, and :obj:`query_fn` when there
    are several output functions). Batch examples with
    ``DataLoader(..., follow_batch=["input_pos", "query_pos"])``; one batch may mix meshes of
    different sizes and examples with different numbers of inputs and queries.

    The defaults are the paper's Poisson sizes (appendix A.2).

    Args:
        in_channels (int or list of int, optional): value size of each input function, one
            encoder each. (default: :obj:`1`)
        out_channels (int or list of int, optional): value size of each output function, one
            decoder each. (default: :obj:`1`)
        pos_dim (int, optional): dimension :math:`D` of the space. (default: :obj:`2`)
        latent_channels (int, optional): node state size. (default: :obj:`32`)
        message_channels (int, optional): message size of :class:`GENConv`. (default: :obj:`16`)
        edge_hidden_channels (int, optional): hidden width of the edge module. (default: :obj:`48`)
        node_hidden_channels (int, optional): hidden width of the node module. (default: :obj:`64`)
        encoder_hidden_channels (int, optional): hidden width of the encoders. (default: :obj:`48`)
        decoder_hidden_channels (int, optional): hidden width of the decoders. (default: :obj:`32`)
        num_steps (int, optional): message-passing rounds :math:`T`, at most
            :obj:`10_000`; :obj:`None` uses the largest mesh diameter of the batch
            (:obj:`data.diameter` if present, else computed). (default: :obj:`None`)
        representation (Representation or str, optional): representation function shared by the
            encoder and decoder. (default: :obj:`"soft_nearest"`, dense)
        readout (str, optional): :obj:`"interpolate"` or :obj:`"sum"`. (default:
            :obj:`"interpolate"`)
        aggr (str, optional): aggregation of :class:`GENConv` (any PyG aggregation).
            (default: :obj:`"sum"`)
        encoder_aggr (str, optional): aggregation of the weighted samples onto the nodes by
            :class:`SpatialEncoder`: ``"sum"`` (the paper's) or ``"mean"``, ``"max"``,
            ``"min"`` over each node's samples; ``"mean"`` keeps node states on the same
            scale on finer meshes, where each node gets fewer samples. (default: :obj:`"sum"`)
        conv_backend (str, optional): :class:`GENConv`'s backend, ``"auto"``, ``"fused"`` or
            ``"propagate"`` (needed for double backward). (default: :obj:`"auto"`)
        norm (bool or str, optional): layer normalisation in :class:`GENConv`: ``True`` or
            ``"post"`` (the paper's), ``"pre"`` (pre-norm, which keeps training on meshes
            that need many rounds; the states are normalised once more after the last round)
            or ``False``. (default: :obj:`True`)
        encode_pos (bool, optional): feed sample positions to the encoders. (default: :obj:`True`)
        decode_pos (bool, optional): feed query positions to the decoders. (default: :obj:`True`)
        relative_pos (bool, optional): encode and decode per (point, node) pair of the
            representation with the point's offset from the node (see above). One MLP call
            per pair instead of per point: 4 pairs per point with :class:`Bilinear`, 3 with
            :class:`Barycentric`, :math:`N` with dense :class:`SoftNearest`. Needs
            :obj:`readout="interpolate"` for the decoding part. (default: :obj:`False`)
        pair_hidden_channels (int, optional): width of the pair decoder :math:`d'` (its
            hidden layer and its output) with :obj:`relative_pos=True`. (default: :obj:`64`)

    Shapes:
        - **input:** a :class:`~torch_geometric.data.Data` or
          :class:`~torch_geometric.data.Batch` as described above
        - **output:** :math:`(Q, \max_j c'_j)` predictions at the queries, or
          :math:`(B, \max_j c'_j)` with :obj:`readout="sum"`

    Example:
        >>> from torch_geometric.data import Data
        >>> data = Data(pos=torch.rand(4, 2), edge_index=torch.tensor([[0, 1], [1, 0]]),
        ...             input_pos=torch.rand(5, 2), input_x=torch.rand(5, 1),
        ...             query_pos=torch.rand(3, 2))
        >>> GEN(num_steps=2)(data).shape
        torch.Size([3, 1])
    """

    def __init__(
        self,
        in_channels: int | Sequence[int] = 1,
        out_channels: int | Sequence[int] = 1,
        pos_dim: int = 2,
        latent_channels: int = 32,
        message_channels: int = 16,
        edge_hidden_channels: int = 48,
        node_hidden_channels: int = 64,
        encoder_hidden_channels: int = 48,
        decoder_hidden_channels: int = 32,
        num_steps: int | None = None,
        representation: Representation | str = "soft_nearest",
        readout: str = "interpolate",
        aggr: str = "sum",
        norm: bool | str = True,
        encode_pos: bool = True,
        decode_pos: bool = True,
        conv_backend: str = "auto",
        encoder_aggr: str = "sum",
        relative_pos: bool = False,
        pair_hidden_channels: int = 64,
    ) -> None:
        super().__init__()
        self.in_channels = as_channel_list(in_channels, "in_channels")
        self.out_channels = as_channel_list(out_channels, "out_channels")
        check_positive_ints(
            pos_dim=pos_dim,
            latent_channels=latent_channels,
            message_channels=message_channels,
            edge_hidden_channels=edge_hidden_channels,
            node_hidden_channels=node_hidden_channels,
            encoder_hidden_channels=encoder_hidden_channels,
            decoder_hidden_channels=decoder_hidden_channels,
            pair_hidden_channels=pair_hidden_channels,
        )
        if num_steps is not None:
            check_num_steps(num_steps, "num_steps")
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        if conv_backend not in CONV_BACKENDS:
            raise ValueError(f"conv_backend must be one of {CONV_BACKENDS}, got {conv_backend!r}")
        if conv_backend == "fused" and aggr not in FUSED_AGGRS:
            raise ValueError(f"conv_backend='fused' needs aggr in {FUSED_AGGRS}, got {aggr!r}; "
                             "use conv_backend='auto' or 'propagate'")
        if encoder_aggr not in ENCODER_AGGRS:
            raise ValueError(f"encoder_aggr must be one of {ENCODER_AGGRS}, got {encoder_aggr!r}")
        norm_at = norm_position(norm)
        for name, flag in (("encode_pos", encode_pos), ("decode_pos", decode_pos),
                           ("relative_pos", relative_pos)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, got {flag!r}")
        self.pos_dim = pos_dim
        self.latent_channels = latent_channels
        self.num_steps = num_steps
        self.readout = readout
        self.encode_pos = encode_pos
        self.decode_pos = decode_pos
        self.relative_pos = relative_pos

        self.encoders = FunctionHeads(
            self.in_channels,
            [latent_channels] * len(self.in_channels),
            encoder_hidden_channels,
            extra_channels=pos_dim * (int(encode_pos) + int(relative_pos)),
        )
        self.representation = get_representation(representation)
        self.spatial_encoder = SpatialEncoder(self.representation, aggr=encoder_aggr)
        self.conv = GENConv(
            latent_channels,
            message_channels=message_channels,
            edge_hidden_channels=edge_hidden_channels,
            node_hidden_channels=node_hidden_channels,
            pos_dim=pos_dim,
            aggr=aggr,
            norm=norm,
            backend=conv_backend,
        )
        # pre-norm leaves the states of the last round un-normalised: one norm after it
        self.final_norm = torch.nn.LayerNorm(latent_channels) if norm_at == "pre" else None
        self.spatial_decoder = SpatialDecoder(self.representation)
        # the encoder and decoder hold the shared representation too: the state dict lists its
        # tensors once, as "representation.*", and loading gives them back to both
        self.register_state_dict_post_hook(  # type: ignore[no-untyped-call]
            _list_shared_representation_once)
        self.register_load_state_dict_pre_hook(  # type: ignore[no-untyped-call]
            _share_representation_on_load)
        decode_extra = pos_dim if (decode_pos and readout == "interpolate") else 0
        # the pair decoder d' of relative_pos (None otherwise, and with readout="sum")
        self.pair_decoder = (
            mlp([latent_channels + pos_dim, pair_hidden_channels, pair_hidden_channels])
            if relative_pos and readout == "interpolate" else None
        )
        decoded = pair_hidden_channels if self.pair_decoder is not None else latent_channels
        self.decoders = FunctionHeads(
            [decoded] * len(self.out_channels),
            self.out_channels,
            decoder_hidden_channels,
            extra_channels=decode_extra,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.encoders.reset_parameters()
        self.spatial_encoder.reset_parameters()
        self.conv.reset_parameters()
        if self.pair_decoder is not None:
            reset_mlp(self.pair_decoder)
        if self.final_norm is not None:
            self.final_norm.reset_parameters()
        self.decoders.reset_parameters()

    # ------------------------------------------------------------------ checks
    def _check(self, data: Data) -> tuple[Tensor, Tensor, Tensor]:
        if not isinstance(data, Data):
            raise TypeError(f"GEN input must be a torch_geometric Data or Batch, got "
                            f"{type(data).__name__}")
        queries = self.readout == "interpolate"
        if queries and getattr(data, "query_pos", None) is None:
            raise ValueError(
                "GEN input is missing 'data.query_pos' (needed by readout='interpolate')"
            )
        for key in ("pos", "edge_index"):
            if getattr(data, key, None) is None:
                raise ValueError(f"GEN input is missing 'data.{key}'")
        dtype, device = parameter_dtype(self), parameter_device(self)
        pos = check_points(data.pos, "data.pos", dim=self.pos_dim, finite=False)
        check_dtype(pos, "data.pos", dtype)
        check_device(pos, "data.pos", device)
        ei = data.edge_index
        if (not isinstance(ei, Tensor) or ei.dim() != 2 or ei.size(0) != 2
                or ei.dtype != torch.long):
            got = f"{tuple(ei.shape)} {ei.dtype}" if isinstance(ei, Tensor) else type(ei).__name__
            raise ValueError(f"data.edge_index must be a long tensor [2, E], got {got}")
        check_device(ei, "data.edge_index", device)
        input_batch = check_function_samples(
            data, "GEN", self.in_channels, self.out_channels, self.pos_dim, queries, dtype,
            device, more=[(pos, "data.pos")],
        )
        check_index(ei, pos.size(0), "data.edge_index", f"data.pos has {pos.size(0)} rows")
        node_batch = example_index(data, "pos", pos.size(0))
        check_nonempty(node_batch, num_examples(data), "nodes (data.pos)")
        return pos, node_batch, input_batch

    # ----------------------------------------------------------------- stages
    @staticmethod
    def node_scales(pos: Tensor, edge_index: Tensor) -> Tensor:
        """Length of the shortest mesh edge that ends at each node, :obj:`[N]`: the scale of
        the offsets of :obj:`relative_pos` (the grid spacing on a grid; a node without edges
        gets the mean of the others, or 1 when the mesh has no edges).

        Example:
            >>> pos = torch.tensor([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0], [5.0, 5.0]])
            >>> GEN.node_scales(pos, torch.tensor([[1, 0, 2, 1], [0, 1, 1, 2]])).tolist()
            [0.5, 0.5, 1.5, 0.8333333134651184]
        """
        src, dst = edge_index
        length = (pos[src] - pos[dst]).norm(dim=-1)
        inf = torch.full((pos.size(0),), torch.inf, dtype=pos.dtype, device=pos.device)
        shortest = inf.scatter_reduce(0, dst, length, reduce="amin")
        has_edge = torch.isfinite(shortest)
        fallback = shortest[has_edge].mean() if bool(has_edge.any()) else pos.new_ones(())
        return torch.where(has_edge, shortest, fallback)

    def _offsets(self, points: Tensor, pos: Tensor, point: Tensor, node: Tensor,
                 data: Data) -> Tensor:
        """:math:`(x_p - x_n) / \\ell_n` for the pairs :obj:`(point, node)`."""
        scale = self.node_scales(pos, data.edge_index)
        return (points[point] - pos[node]) / scale[node].unsqueeze(-1)

    def steps_for(self, data: Data) -> int:
        """The number of message-passing rounds used for ``data`` (at most
        :obj:`10_000`)."""
        if self.num_steps is not None:
            return check_num_steps(self.num_steps, "num_steps")
        diameter = getattr(data, "diameter", None)
        if diameter is None:
            diameter = graph_diameter(
                data.edge_index, data.pos.size(0), getattr(data, "batch", None)
            )
        return steps_from_diameter(diameter)

    def encode(self, data: Data) -> Tensor:
        """Initial node states :math:`\\mathbf{z}^0` :obj:`[N, latent]`."""
        pos, node_batch, input_batch = self._check(data)
        with checked_inputs():  # the layers skip the scans done by _check
            fn = getattr(data, "input_fn", None)
            if self.relative_pos:
                # every (sample, node) pair is encoded as seen from its node, then aggregated
                # like samples, through an assignment of pair m to its node with its weight
                point, node, weight = self.representation(
                    data.input_pos, pos, input_batch, node_batch, data)
                offset = self._offsets(data.input_pos, pos, point, node, data)
                extra = (torch.cat([data.input_pos[point], offset], 1) if self.encode_pos
                         else offset)
                h = self.encoders(data.input_x[point], extra, None if fn is None else fn[point])
                pairs = torch.arange(point.numel(), device=point.device)
                z0: Tensor = self.spatial_encoder(  # batches are in the assignment already
                    h, data.input_pos[point], pos, assignment=(pairs, node, weight))
                return z0
            absolute = data.input_pos if self.encode_pos else None
            h = self.encoders(data.input_x, absolute, fn)
            z0 = self.spatial_encoder(
                h, data.input_pos, pos, input_batch, node_batch, mesh=data
            )
        return z0

    def process(self, z: Tensor, data: Data, num_steps: int | None = None) -> Tensor:
        """:math:`T` rounds of :class:`GENConv` with shared weights."""
        steps = self.steps_for(data) if num_steps is None else check_num_steps(
            num_steps, "num_steps")
        if steps == 0:
            return z
        if not isinstance(z, Tensor) or z.dim() != 2:
            raise ValueError(f"z must be node states [N, {self.latent_channels}], got "
                             f"{shape_of(z)}")
        # the mesh is scanned once (skipped inside forward, which checked it), not every round
        check_index(data.edge_index, z.size(0), "data.edge_index", f"z has {z.size(0)} rows")
        with checked_inputs():
            # what depends only on the mesh is computed once for all rounds
            edge_attr = GENConv.edge_features(data.pos, data.edge_index)
            in_degree = degree(data.edge_index[1], z.size(0), dtype=z.dtype)
            for _ in range(steps):
                z = self.conv(z, data.edge_index, edge_attr=edge_attr, in_degree=in_degree)
        if self.final_norm is not None:
            z = self.final_norm(z)
        return z

    def decode(self, z: Tensor, data: Data) -> Tensor:
        """Predictions at the queries (or per example with :obj:`readout="sum"`)."""
        node_batch = getattr(data, "batch", None)
        if self.readout == "sum":
            pooled = global_add_pool(z, node_batch, size=num_examples(data))
            per_example: Tensor = self.decoders(pooled)
            return per_example
        query_batch = batch_vector(data, "query_pos", data.query_pos.size(0))
        if self.pair_decoder is not None:
            # d'(z_n, offset of the query from node n) per pair, weighted onto the query
            point, node, weight = self.representation(
                data.query_pos, data.pos, query_batch, node_batch, data)
            offset = self._offsets(data.query_pos, data.pos, point, node, data)
            pair_states = self.pair_decoder(torch.cat([z[node], offset], 1))
            pairs = torch.arange(point.numel(), device=point.device)
            zq = self.spatial_decoder(pair_states, data.query_pos, data.pos[node],
                                      assignment=(point, pairs, weight))
        else:
            zq = self.spatial_decoder(z, data.query_pos, data.pos, query_batch, node_batch,
                                      mesh=data)
        extra = data.query_pos if self.decode_pos else None
        out: Tensor = self.decoders(zq, extra, getattr(data, "query_fn", None))
        return out

    def forward(self, data: Data) -> Tensor:
        z = self.encode(data)  # checks data
        with checked_inputs():
            return self.decode(self.process(z, data), data)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(in_channels={self.in_channels}, "
            f"out_channels={self.out_channels}, pos_dim={self.pos_dim}, "
            f"latent_channels={self.latent_channels}, num_steps={self.num_steps}, "
            f"representation={self.representation}, readout={self.readout}"
            + (", relative_pos=True" if self.relative_pos else "")
            + (f", norm={self.conv.norm_position!r}" if self.conv.norm_position != "post"
               else "") + ")"
        )
