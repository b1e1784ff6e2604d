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
    check_choice,
    check_edge_index,
    check_index,
    check_int,
    check_length,
    run_trusted,
    shape_of,
)
from gen_pyg.mesh.diameter import graph_diameter
from gen_pyg.nn._checks import (
    DATA_NAMES,
    TENSOR_NAMES,
    check_num_steps,
    infer_batch_size,
    num_examples,
    steps_from_diameter,
)
from gen_pyg.nn._function_heads import FunctionHeads, as_channel_list
from gen_pyg.nn._mlp import mlp, reset_mlp
from gen_pyg.nn.conv.element_conv import BACKENDS as CONV_BACKENDS
from gen_pyg.nn.conv.element_conv import FUSED_AGGRS, NORMS, ElementConv
from gen_pyg.nn.conv.spatial_decoder import SpatialDecoder
from gen_pyg.nn.conv.spatial_encoder import SpatialEncoder
from gen_pyg.nn.models._gen_inputs import (
    GENInputs,
    _list_shared_representation_once,
    _share_representation_on_load,
)
from gen_pyg.nn.models._gen_inputs import node_scales as _node_scales
from gen_pyg.nn.representation import (
    DenseSizes,
    Representation,
    get_representation,
)
from gen_pyg.ops import radius, radius_graph

READOUTS = ("interpolate", "sum")
#: Edge geometries the message passing of a :class:`GEN` may see.
GEOMETRIES = ("absolute", "local")
#: Aggregations of the spatial encoder (``encoder_aggr``).
ENCODER_AGGRS = ("sum", "mean", "max", "min")
#: The encoder kernel of :obj:`encoder_kernel` reaches this many bandwidths from a sample.
KERNEL_CUTOFF = 3.0


class GEN(GENInputs):
    r"""A Graph Element Network from the `"Graph Element Networks: adaptive, structured
    computation and memory" <https://arxiv.org/abs/1904.09019>`_ paper (Alet et al., ICML 2019).

    Input samples :math:`(x_p, s_p, i_p)` (position, value, input function) and mesh nodes at
    positions :math:`x_n` give predictions at query points :math:`x_q`:

    .. math::
        \mathbf{z}^0_n &= \sum_p r(x_p)_n \, e_{i_p}(s_p, x_p) \\
        \mathbf{z}^{t+1} &= \mathrm{ElementConv}(\mathbf{z}^{t}), \quad t = 0, \dots, T-1 \\
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

    :meth:`forward` takes tensors, in PyG's order (values, then positions): the inputs
    (:obj:`input_x` :math:`[P, \max_i c_i]`, :obj:`input_pos` :math:`[P, D]`), the mesh
    (:obj:`pos` :math:`[N, D]`, :obj:`edge_index`), the queries (:obj:`query_pos`
    :math:`[Q, D]`), function ids where there are several functions, and batch vectors. It also
    takes a :class:`~torch_geometric.data.Data` holding those tensors under the same names
    (:meth:`forward_data`); batch such examples with
    ``DataLoader(..., follow_batch=["input_pos", "query_pos"])``. One batch may mix meshes of
    different sizes and examples with different numbers of inputs and queries.

    The defaults are the paper's Poisson sizes (appendix A.2).

    Args:
        in_channels (int or list of int, optional): value size of each input function, one
            encoder each. (default: :obj:`1`)
        out_channels (int or list of int, optional): value size of each output function, one
            decoder each. (default: :obj:`1`)
        pos_dim (int, optional): dimension :math:`D` of the space. (default: :obj:`2`)
        latent_channels (int, optional): node state size. (default: :obj:`32`)
        message_channels (int, optional): message size of :class:`ElementConv`. (default: :obj:`16`)
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
        aggr (str, optional): aggregation of :class:`ElementConv` (any PyG aggregation).
            (default: :obj:`"sum"`)
        encoder_aggr (str, optional): aggregation of the weighted samples onto the nodes by
            :class:`SpatialEncoder`: ``"sum"`` (the paper's) or ``"mean"``, ``"max"``,
            ``"min"`` over each node's samples; ``"mean"`` keeps node states on the same
            scale on finer meshes, where each node gets fewer samples. (default: :obj:`"sum"`)
        conv_backend (str, optional): :class:`ElementConv`'s backend, ``"auto"``, ``"fused"`` or
            ``"propagate"`` (needed for double backward). (default: :obj:`"auto"`)
        norm (str, optional): layer normalisation in :class:`ElementConv`:
            ``"post"`` (the paper's), ``"pre"`` (pre-norm, which keeps training on meshes
            that need many rounds; the states are normalised once more after the last round)
            or ``"none"``. (default: :obj:`"post"`)
        encode_pos (bool, optional): feed sample positions to the encoders. (default: :obj:`True`)
        decode_pos (bool, optional): feed query positions to the decoders. (default: :obj:`True`)
        relative_pos (bool, optional): encode and decode per (point, node) pair of the
            representation with the point's offset from the node (see above). One MLP call
            per pair instead of per point: 4 pairs per point with :class:`Bilinear`, 3 with
            :class:`Barycentric`, :math:`N` with dense :class:`SoftNearest`. Needs
            :obj:`readout="interpolate"` for the decoding part. (default: :obj:`False`)
        pair_hidden_channels (int, optional): width of the pair decoder :math:`d'` (its
            hidden layer and its output) with :obj:`relative_pos=True`. (default: :obj:`64`)
        recall (bool, optional): feed the encoded inputs back at every round,
            :math:`\mathbf{z}^{t+1} = \mathrm{ElementConv}(\mathbf{z}^t + W\mathbf{z}^0)`
            (the "recall" of deep-thinking recurrent networks), so that the rounds can iterate
            towards a fixed point of the inputs instead of carrying them along.
            (default: :obj:`False`)
        geometry (str, optional): the edge geometry the message passing sees:
            ``"absolute"`` (offsets and lengths, the paper's) or ``"local"`` (divided by the
            receiving node's shortest edge :math:`\ell_i`, so that a uniform grid looks the
            same to the processor at every resolution). (default: :obj:`"absolute"`)
        encoder_kernel (float, optional): encode the samples onto the nodes with a Gaussian
            kernel of this bandwidth :math:`\sigma` (in the units of the positions) instead of
            the representation: :math:`\mathbf{z}^0_n = \sum_p k(x_p - x_n)\,
            e_{i_p}(\cdot)` with :math:`k(\delta) = \exp(-\lVert\delta\rVert^2 / 2\sigma^2)`
            over the nodes within :math:`3\sigma` of each sample, not normalised over the
            nodes, so that a node's encoding depends on where it is and not on how many
            other nodes the mesh has (as in graph kernel networks); the offsets of
            :obj:`relative_pos` are then divided by :math:`\sigma`. The decoder keeps the
            representation. A sample farther than :math:`3\sigma` from every node adds
            nothing: keep :math:`3\sigma` above the largest distance from a point to its
            nearest node (:math:`\sigma \geq 0.24h` on a square grid of spacing :math:`h`).
            (default: :obj:`None`, the representation)
        decoder_kernel (float, optional): decode with a Gaussian kernel of this bandwidth
            :math:`\sigma_d` instead of the representation: a query gets the average of the
            nodes within :math:`3\sigma_d`, weighted :math:`k(x_q - x_n)` and normalised
            over those nodes (with :obj:`relative_pos`, of the pair decoder's
            :math:`d'(\mathbf{z}_n, (x_q - x_n)/\sigma_d)`), so that on a finer mesh more
            nodes answer with the same offsets in the units of the positions rather than
            fewer nodes with offsets rescaled to smaller cells. A query with no node within
            :math:`3\sigma_d` decodes from zero states. (default: :obj:`None`, the
            representation)
        processor_radius (float, optional): run the message passing over every pair of
            nodes of an example closer than this distance (a radius graph built at each
            call, with :func:`gen_pyg.ops.radius_graph`) instead of the mesh's edges, so that
            a round reaches the same distance on every mesh; with :obj:`aggr="mean"` a round
            averages over a disc, which converges as the mesh is refined. Needs
            :obj:`num_steps` (the rounds no longer follow the mesh's diameter); the mesh's
            edges still give the offsets' scales of :obj:`relative_pos`. (default:
            :obj:`None`, the mesh's edges)

    Shapes:
        - **input:** samples :math:`(P, C_{in})` at :math:`(P, D)`, mesh nodes :math:`(N, D)`
          with edges :math:`(2, E)`, queries :math:`(Q, D)`, batch vectors :math:`(P)`,
          :math:`(N)`, :math:`(Q)`; or a :class:`~torch_geometric.data.Data` /
          :class:`~torch_geometric.data.Batch` holding them
        - **output:** :math:`(Q, \max_j c'_j)` predictions at the queries, or
          :math:`(B, \max_j c'_j)` with :obj:`readout="sum"`

    Example:
        >>> from torch_geometric.data import Data
        >>> data = Data(pos=torch.rand(4, 2), edge_index=torch.tensor([[0, 1], [1, 0]]),
        ...             input_pos=torch.rand(5, 2), input_x=torch.rand(5, 1),
        ...             query_pos=torch.rand(3, 2))
        >>> model = GEN(num_steps=2)
        >>> model(data).shape
        torch.Size([3, 1])
        >>> model(data.input_x, data.input_pos, data.pos, data.edge_index, data.query_pos).shape
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
        norm: str = "post",
        encode_pos: bool = True,
        decode_pos: bool = True,
        conv_backend: str = "auto",
        encoder_aggr: str = "sum",
        relative_pos: bool = False,
        pair_hidden_channels: int = 64,
        recall: bool = False,
        geometry: str = "absolute",
        encoder_kernel: float | None = None,
        processor_radius: float | None = None,
        decoder_kernel: float | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = as_channel_list(in_channels, "in_channels")
        self.out_channels = as_channel_list(out_channels, "out_channels")
        for name, value in (
            ("pos_dim", pos_dim), ("latent_channels", latent_channels),
            ("message_channels", message_channels), ("edge_hidden_channels", edge_hidden_channels),
            ("node_hidden_channels", node_hidden_channels),
            ("encoder_hidden_channels", encoder_hidden_channels),
            ("decoder_hidden_channels", decoder_hidden_channels),
            ("pair_hidden_channels", pair_hidden_channels),
        ):
            check_int(value, name)
        if num_steps is not None:
            check_num_steps(num_steps, "num_steps")
        check_choice(readout, "readout", READOUTS)
        check_choice(conv_backend, "conv_backend", CONV_BACKENDS)
        if conv_backend == "fused" and aggr not in FUSED_AGGRS:
            raise ValueError(f"conv_backend='fused' needs aggr in {FUSED_AGGRS}, got {aggr!r}; "
                             "use conv_backend='auto' or 'propagate'")
        check_choice(encoder_aggr, "encoder_aggr", ENCODER_AGGRS)
        check_choice(norm, "norm", NORMS)
        check_choice(geometry, "geometry", GEOMETRIES)
        for name, flag in (("encode_pos", encode_pos), ("decode_pos", decode_pos),
                           ("relative_pos", relative_pos), ("recall", recall)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, got {flag!r}")
        self.pos_dim = pos_dim
        self.latent_channels = latent_channels
        self.num_steps = num_steps
        self.readout = readout
        self.encode_pos = encode_pos
        self.decode_pos = decode_pos
        self.relative_pos = relative_pos
        self.geometry = geometry
        self.encoder_kernel = check_length(encoder_kernel, "encoder_kernel")
        self.processor_radius = check_length(processor_radius, "processor_radius")
        self.decoder_kernel = check_length(decoder_kernel, "decoder_kernel")
        if self.processor_radius is not None and num_steps is None:
            raise ValueError("processor_radius needs num_steps: the rounds no longer follow "
                             "the mesh's diameter")

        self.encoders = FunctionHeads(
            self.in_channels,
            [latent_channels] * len(self.in_channels),
            encoder_hidden_channels,
            extra_channels=pos_dim * (int(encode_pos) + int(relative_pos)),
        )
        self.representation = get_representation(representation)
        self.spatial_encoder = SpatialEncoder(self.representation, aggr=encoder_aggr)
        self.conv = ElementConv(
            latent_channels,
            message_channels=message_channels,
            edge_hidden_channels=edge_hidden_channels,
            node_hidden_channels=node_hidden_channels,
            pos_dim=pos_dim,
            aggr=aggr,
            norm=norm,
            backend=conv_backend,
        )
        # recall: the encoded inputs, projected, added to the states before every round
        self.recall = (torch.nn.Linear(latent_channels, latent_channels, bias=False)
                       if recall else None)
        # pre-norm leaves the states of the last round un-normalised: one norm after it
        self.final_norm = torch.nn.LayerNorm(latent_channels) if norm == "pre" else None
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
        if self.recall is not None:
            self.recall.reset_parameters()
        if self.pair_decoder is not None:
            reset_mlp(self.pair_decoder)
        if self.final_norm is not None:
            self.final_norm.reset_parameters()
        self.decoders.reset_parameters()

    # ------------------------------------------------------------------ the entry points
    def forward(
        self,
        input_x: Tensor | Data,
        input_pos: Tensor | None = None,
        pos: Tensor | None = None,
        edge_index: Tensor | None = None,
        query_pos: Tensor | None = None,
        input_fn: Tensor | None = None,
        query_fn: Tensor | None = None,
        input_batch: Tensor | None = None,
        batch: Tensor | None = None,
        query_batch: Tensor | None = None,
        num_steps: int | None = None,
        batch_size: int | None = None,
        mesh: Data | None = None,
    ) -> Tensor:
        r"""Predictions at :obj:`query_pos` (or one per example with :obj:`readout="sum"`).

        The inputs are checked here, once (shapes, dtypes, devices, index ranges and, unless
        :func:`~gen_pyg.set_value_checks` turned them off, finite values); the layers inside
        trust them. A :class:`~torch_geometric.data.Data` or
        :class:`~torch_geometric.data.Batch` as the only argument is :meth:`forward_data`.

        Args:
            input_x (Tensor): sample values :math:`(P, \max_i c_i)`.
            input_pos (Tensor): sample positions :math:`(P, D)`.
            pos (Tensor): mesh node positions :math:`(N, D)`.
            edge_index (Tensor): mesh edges :math:`(2, E)`.
            query_pos (Tensor, optional): query positions :math:`(Q, D)` (needed by
                :obj:`readout="interpolate"`). (default: :obj:`None`)
            input_fn (Tensor, optional): input function of every sample :math:`(P,)`, needed
                with several input functions. (default: :obj:`None`)
            query_fn (Tensor, optional): output function of every query :math:`(Q,)`, needed
                with several output functions. (default: :obj:`None`)
            input_batch (Tensor, optional): example of every sample :math:`(P,)`.
                (default: :obj:`None`, one example)
            batch (Tensor, optional): example of every node :math:`(N,)`.
                (default: :obj:`None`)
            query_batch (Tensor, optional): example of every query :math:`(Q,)`.
                (default: :obj:`None`)
            num_steps (int, optional): message-passing rounds for this call; :obj:`None` uses
                the model's :obj:`num_steps`, else the mesh diameter. (default: :obj:`None`)
            batch_size (int, optional): number of examples. (default: :obj:`None`, from the
                batch vectors)
            mesh (Data, optional): the mesh's extra attributes for representation functions
                that need more than node positions (:obj:`face` for :class:`Barycentric`,
                grid metadata for :class:`Bilinear`). (default: :obj:`None`)
        """
        if isinstance(input_x, Data):
            rest = (input_pos, pos, edge_index, query_pos, input_fn, query_fn, input_batch, batch,
                    query_batch, num_steps, batch_size, mesh)
            if any(v is not None for v in rest):
                raise TypeError("GEN takes either a Data/Batch alone or tensors, not both")
            return self.forward_data(input_x)
        for key, value in (("input_pos", input_pos), ("pos", pos), ("edge_index", edge_index)):
            if value is None:
                raise ValueError(f"GEN input is missing '{key}'")
        assert input_pos is not None and pos is not None and edge_index is not None
        if batch_size is None:
            batch_size = infer_batch_size(input_batch, batch, query_batch)
        check_int(batch_size, "batch_size")
        self._check_inputs(TENSOR_NAMES, input_x, input_pos, pos, edge_index, query_pos,
                           input_fn, query_fn, input_batch, batch, query_batch, batch_size)
        if num_steps is not None:
            steps = check_num_steps(num_steps, "num_steps")
        else:
            steps = self._default_steps(None, pos, edge_index, batch, "diameter")
        return self._trusted_run(input_x, input_pos, pos, edge_index, query_pos, input_fn,
                                 query_fn, input_batch, batch, query_batch, steps, batch_size,
                                 mesh, self._dense_sizes(input_x, pos, query_pos, input_batch,
                                                         batch, query_batch, batch_size))

    def forward_data(self, data: Data) -> Tensor:
        """:meth:`forward` on a :class:`~torch_geometric.data.Data` (or a
        :class:`~torch_geometric.data.Batch` made with ``follow_batch=["input_pos",
        "query_pos"]``) holding the tensors under their names; :obj:`data.diameter`, where
        present, gives the number of rounds. Errors name ``data.<attribute>``."""
        args = self._data_args(data)
        batch_size = num_examples(data)
        self._check_inputs(DATA_NAMES, *args, batch_size)
        input_x, _, pos, _, query_pos, _, _, input_batch, batch, query_batch = args
        sizes = self._dense_sizes(input_x, pos, query_pos, input_batch, batch, query_batch,
                                  batch_size)
        return self._trusted_run(*args, self.steps_for(data), batch_size, data, sizes)

    def _trusted_run(self, *args: Any) -> Tensor:
        return run_trusted(self._run, *args)  # the layers trust what the entry point checked

    def _run(self, input_x: Tensor, input_pos: Tensor, pos: Tensor, edge_index: Tensor,
             query_pos: Tensor | None, input_fn: Tensor | None, query_fn: Tensor | None,
             input_batch: Tensor | None, batch: Tensor | None, query_batch: Tensor | None,
             steps: int, batch_size: int, mesh: Data | None,
             sizes: tuple[DenseSizes | None, DenseSizes | None] = (None, None)) -> Tensor:
        z = self._encode(input_x, input_pos, pos, edge_index, input_fn, input_batch, batch, mesh,
                         sizes[0])
        z = self._process(z, pos, edge_index, steps, batch=batch)
        return self._decode(z, pos, edge_index, query_pos, query_fn, batch, query_batch,
                            batch_size, mesh, sizes[1])

    # ----------------------------------------------------------------- stages
    #: the scale of the offsets of ``relative_pos``: the shortest edge at each node
    node_scales = staticmethod(_node_scales)

    def _offsets(self, points: Tensor, pos: Tensor, edge_index: Tensor, point: Tensor,
                 node: Tensor) -> Tensor:
        """:math:`(x_p - x_n) / \\ell_n` for the pairs :obj:`(point, node)`."""
        scale = self.node_scales(pos, edge_index)
        return (points[point] - pos[node]) / scale[node].unsqueeze(-1)

    def _default_steps(self, diameter: object, pos: Tensor, edge_index: Tensor,
                       batch: Tensor | None, name: str) -> int:
        if self.num_steps is not None:
            return check_num_steps(self.num_steps, "num_steps")
        if diameter is None:
            check_edge_index(edge_index, name.replace("diameter", "edge_index"))
            diameter = graph_diameter(edge_index, pos.size(0), batch)
        return steps_from_diameter(diameter, name)

    def steps_for(self, data: Data) -> int:
        """The number of message-passing rounds used for ``data`` (at most
        :obj:`10_000`): the model's :obj:`num_steps`, else :obj:`data.diameter`, else the
        mesh's diameter."""
        return self._default_steps(getattr(data, "diameter", None), data.pos, data.edge_index,
                                   getattr(data, "batch", None), "data.diameter")

    def _encode(self, input_x: Tensor, input_pos: Tensor, pos: Tensor, edge_index: Tensor,
                input_fn: Tensor | None, input_batch: Tensor | None, batch: Tensor | None,
                mesh: Data | None, sizes: DenseSizes | None = None) -> Tensor:
        kernel = self.encoder_kernel
        if kernel is None and not self.relative_pos:
            h = self.encoders(input_x, input_pos if self.encode_pos else None, input_fn)
            encoded: Tensor = self.spatial_encoder(h, input_pos, pos, input_batch, batch,
                                                   mesh=mesh, sizes=sizes)
            return encoded
        # (sample, node, weight) pairs: of the kernel, else of the representation
        point, node, weight = (
            self.kernel_pairs(input_pos, pos, input_batch, batch) if kernel is not None
            else self.representation(input_pos, pos, input_batch, batch, mesh))
        if not self.relative_pos:
            h = self.encoders(input_x, input_pos if self.encode_pos else None, input_fn)
            z0: Tensor = self.spatial_encoder(h, input_pos, pos,
                                              assignment=(point, node, weight))
            return z0
        # every (sample, node) pair is encoded as seen from its node, then aggregated like
        # samples, through an assignment of pair m to its node with its weight
        offset = self._pair_offsets(input_pos, pos, edge_index, point, node, kernel)
        extra = torch.cat([input_pos[point], offset], 1) if self.encode_pos else offset
        h = self.encoders(input_x[point], extra, None if input_fn is None else input_fn[point])
        pairs = torch.arange(point.numel(), device=point.device)
        z0 = self.spatial_encoder(  # batches are in the assignment already
            h, input_pos[point], pos, assignment=(pairs, node, weight))
        return z0

    def _pair_offsets(self, points: Tensor, pos: Tensor, edge_index: Tensor, point: Tensor,
                      node: Tensor, sigma: float | None) -> Tensor:
        """The offsets of :obj:`relative_pos`: divided by a kernel's bandwidth, else by the
        node's shortest edge."""
        if sigma is not None:
            return (points[point] - pos[node]) / sigma
        return self._offsets(points, pos, edge_index, point, node)

    def kernel_pairs(self, points: Tensor, pos: Tensor, point_batch: Tensor | None = None,
                     batch: Tensor | None = None, sigma: float | None = None,
                     ) -> tuple[Tensor, Tensor, Tensor]:
        r"""The (point, node, weight) pairs of a Gaussian kernel of bandwidth :obj:`sigma`
        (default: :obj:`encoder_kernel`): every node within :math:`3\sigma` of a point,
        weighted :math:`\exp(-d^2 / 2\sigma^2)`."""
        sigma = self.encoder_kernel if sigma is None else sigma
        if sigma is None:
            raise ValueError("kernel_pairs needs a sigma or a GEN built with encoder_kernel")
        point, node = radius(pos, points, KERNEL_CUTOFF * sigma, batch, point_batch)
        d2 = (points[point] - pos[node]).pow(2).sum(-1)
        return point, node, torch.exp(-0.5 * d2 / sigma ** 2)

    def _process(self, z: Tensor, pos: Tensor, edge_index: Tensor, steps: int,
                 z0: Tensor | None = None, conv: ElementConv | None = None,
                 recall: torch.nn.Module | None = None,
                 batch: Tensor | None = None) -> Tensor:
        """``steps`` rounds of :obj:`conv` (default: the GEN's own, with its own recall; a
        :class:`MultilevelGEN` passes its refinement processor); with
        :obj:`processor_radius`, over the radius graph of :obj:`pos` (examples by
        :obj:`batch`) instead of :obj:`edge_index`."""
        if conv is None:
            conv, recall = self.conv, self.recall
        if steps == 0:
            return z
        if self.processor_radius is not None:
            edge_index = radius_graph(pos.detach(), self.processor_radius, batch)
        # what depends only on the mesh is computed once for all rounds
        geometry = ElementConv.edge_geometry(pos, edge_index)
        if self.geometry == "local":
            scale = self.node_scales(pos, edge_index)[edge_index[1]]
            geometry = geometry / scale.unsqueeze(-1)
        in_degree = degree(edge_index[1], z.size(0), dtype=z.dtype)
        recalled = recall(z if z0 is None else z0) if recall is not None else None
        for _ in range(steps):
            if recalled is not None:
                z = z + recalled
            z = conv(z, edge_index, geometry=geometry, in_degree=in_degree)
        if self.final_norm is not None:
            z = self.final_norm(z)
        return z

    def _decode(self, z: Tensor, pos: Tensor, edge_index: Tensor, query_pos: Tensor | None,
                query_fn: Tensor | None, batch: Tensor | None, query_batch: Tensor | None,
                batch_size: int, mesh: Data | None, sizes: DenseSizes | None = None) -> Tensor:
        if self.readout == "sum":
            pooled = global_add_pool(z, batch, size=batch_size)
            per_example: Tensor = self.decoders(pooled)
            return per_example
        assert query_pos is not None
        kernel = self.decoder_kernel
        if kernel is None and self.pair_decoder is None:
            zq = self.spatial_decoder(z, pos, query_pos, batch, query_batch, mesh=mesh,
                                      sizes=sizes)
        else:
            if kernel is not None:  # a kernel average: weights normalised over each query's
                point, node, weight = self.kernel_pairs(query_pos, pos, query_batch, batch,
                                                        kernel)
                total = weight.new_zeros(query_pos.size(0)).index_add_(0, point, weight)
                weight = weight / total[point]  # a query with pairs has a positive total
            else:
                point, node, weight = self.representation(query_pos, pos, query_batch, batch,
                                                          mesh)
            if self.pair_decoder is None:
                zq = self.spatial_decoder(z, pos, query_pos, assignment=(point, node, weight))
            else:
                # d'(z_n, offset of the query from node n) per pair, weighted onto the query
                offset = self._pair_offsets(query_pos, pos, edge_index, point, node, kernel)
                pair_states = self.pair_decoder(torch.cat([z[node], offset], 1))
                pairs = torch.arange(point.numel(), device=point.device)
                zq = self.spatial_decoder(pair_states, pos[node], query_pos,
                                          assignment=(point, pairs, weight))
        out: Tensor = self.decoders(zq, query_pos if self.decode_pos else None, query_fn)
        return out

    # ------------------------------------------------- stages on Data (for inspection)
    def encode(self, data: Data) -> Tensor:
        """Initial node states :math:`\\mathbf{z}^0` :obj:`[N, latent]` of ``data``
        (checked as :meth:`forward_data` checks it)."""
        args = self._data_args(data)
        self._check_inputs(DATA_NAMES, *args, num_examples(data))
        input_x, input_pos, pos, edge_index, _, input_fn, _, input_batch, batch, _ = args
        return run_trusted(self._encode, input_x, input_pos, pos, edge_index, input_fn,
                           input_batch, batch, data)

    def process(self, z: Tensor, data: Data, num_steps: int | None = None,
                z0: Tensor | None = None) -> Tensor:
        """:math:`T` rounds of :class:`ElementConv` with shared weights on ``data``'s mesh,
        from the states :obj:`z`; with :obj:`recall=True`, :obj:`z0` are the encoded states
        fed back every round (default: :obj:`z`, right when :obj:`z` is the encoding; pass
        the encoding to continue from states after some rounds)."""
        steps = self.steps_for(data) if num_steps is None else check_num_steps(
            num_steps, "num_steps")
        if not isinstance(z, Tensor) or z.dim() != 2 or z.size(1) != self.latent_channels:
            raise ValueError(f"z must be node states [N, {self.latent_channels}], got "
                             f"{shape_of(z)}")
        check_edge_index(data.edge_index, "data.edge_index")
        check_index(data.edge_index, z.size(0), "data.edge_index", f"z has {z.size(0)} rows")
        if z0 is not None and (not isinstance(z0, Tensor) or z0.shape != z.shape):
            raise ValueError(f"z0 must have the shape of z {tuple(z.shape)}, got "
                             f"{shape_of(z0)}")
        return run_trusted(self._process, z, data.pos, data.edge_index, steps, z0,
                           batch=getattr(data, "batch", None))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(in_channels={self.in_channels}, "
            f"out_channels={self.out_channels}, pos_dim={self.pos_dim}, "
            f"latent_channels={self.latent_channels}, num_steps={self.num_steps}, "
            f"representation={self.representation}, readout={self.readout}"
            + (", relative_pos=True" if self.relative_pos else "")
            + (", recall=True" if self.recall is not None else "")
            + (f", geometry={self.geometry!r}" if self.geometry != "absolute" else "")
            + (f", encoder_kernel={self.encoder_kernel}" if self.encoder_kernel is not None
               else "")
            + (f", processor_radius={self.processor_radius}"
               if self.processor_radius is not None else "")
            + (f", decoder_kernel={self.decoder_kernel}" if self.decoder_kernel is not None
               else "")
            + (f", norm={self.conv.norm_position!r}" if self.conv.norm_position != "post"
               else "") + ")"
        )
