"""The Graph Element Network model: an encoder, a processor and a decoder."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import (
    check_choice,
    check_edge_index,
    check_index,
    check_int,
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
from gen_pyg.nn._function_heads import as_channel_list
from gen_pyg.nn.gaussian_kernel import GaussianKernel
from gen_pyg.nn.graphs import RadiusGraph
from gen_pyg.nn.models._gen_inputs import DataArgs, GENInputs
from gen_pyg.nn.models.decoders import PairDecoder, PointDecoder, SumReadout
from gen_pyg.nn.models.encoders import PairEncoder, PointEncoder
from gen_pyg.nn.models.processors import ElementProcessor
from gen_pyg.nn.representation import DenseSizes, Representation, get_representation

#: Readouts of :meth:`GEN.paper`: answers at query points, or one answer per example.
READOUTS = ("interpolate", "sum")


class GEN(GENInputs):
    r"""A Graph Element Network from the `"Graph Element Networks: adaptive, structured
    computation and memory" <https://arxiv.org/abs/1904.09019>`_ paper (Alet et al., ICML 2019),
    composed of three stages:

    .. math::
        \mathbf{z}^0 &= \mathrm{encoder}\big(\{(s_p, x_p, i_p)\}_p;\ \{x_n\}_n\big) \\
        \mathbf{z}^T &= \mathrm{processor}\big(\mathbf{z}^0;\ \{x_n\}_n, \mathcal{E}\big) \\
        \hat{g}_j(x_q) &= \mathrm{decoder}\big(\mathbf{z}^T;\ \{x_n\}_n, x_q\big)

    input samples (values :math:`s_p` at :math:`x_p` of input function :math:`i_p`) are encoded
    onto mesh nodes at :math:`x_n` (:class:`~gen_pyg.nn.PointEncoder`,
    :class:`~gen_pyg.nn.PairEncoder`), message passing makes local information global
    (:class:`~gen_pyg.nn.ElementProcessor` over the mesh's edges :math:`\mathcal{E}` or a
    graph it builds) and the node states are decoded at query points
    (:class:`~gen_pyg.nn.PointDecoder`, :class:`~gen_pyg.nn.PairDecoder`) or once per
    example (:class:`~gen_pyg.nn.SumReadout`). Any module with the same call serves as a
    stage. A missing stage is the paper's, at its default sizes; :meth:`paper` and
    :meth:`mesh_independent` build the two common models in one line.

    :meth:`forward` takes tensors, in PyG's order (values, then positions): the inputs
    (:obj:`input_x` :math:`[P, \max_i c_i]`, :obj:`input_pos` :math:`[P, D]`), the mesh
    (:obj:`pos` :math:`[N, D]`, :obj:`edge_index`), the queries (:obj:`query_pos`
    :math:`[Q, D]`), function ids where there are several functions, and batch vectors. It also
    takes a :class:`~torch_geometric.data.Data` holding those tensors under the same names
    (:meth:`forward_data`); batch such examples with
    ``DataLoader(..., follow_batch=["input_pos", "query_pos"])``. One batch may mix meshes of
    different sizes and examples with different numbers of inputs and queries. The inputs are
    checked once, here; the stages trust them.

    The stages' calls: ``encoder(input_x, input_pos, pos, input_batch, batch, input_fn=...,
    edge_index=..., mesh=..., sizes=...)`` with attributes :obj:`in_channels` (a list) and
    :obj:`pos_dim`; ``processor(z, pos, edge_index, batch, num_steps=...)`` (the processor's
    own :obj:`num_steps`, else the mesh diameter); ``decoder(z, pos, query_pos, batch,
    query_batch, query_fn=..., edge_index=..., mesh=..., sizes=...)`` with
    :obj:`out_channels`, or ``decoder(z, batch, batch_size)`` for a decoder whose
    :obj:`needs_queries` is false.

    Args:
        encoder (torch.nn.Module, optional): samples to node states. (default:
            :class:`~gen_pyg.nn.PointEncoder` with soft nearest weights)
        processor (torch.nn.Module, optional): node states to node states. (default:
            :class:`~gen_pyg.nn.ElementProcessor`, mesh-diameter rounds)
        decoder (torch.nn.Module, optional): node states to answers. (default:
            :class:`~gen_pyg.nn.PointDecoder` sharing the encoder's soft nearest weights)

    Shapes:
        - **input:** samples :math:`(P, C_{in})` at :math:`(P, D)`, mesh nodes :math:`(N, D)`
          with edges :math:`(2, E)`, queries :math:`(Q, D)`, batch vectors :math:`(P)`,
          :math:`(N)`, :math:`(Q)`; or a :class:`~torch_geometric.data.Data` /
          :class:`~torch_geometric.data.Batch` holding them
        - **output:** :math:`(Q, \max_j c'_j)` predictions at the queries, or
          :math:`(B, c')` with a readout

    Example:
        >>> from torch_geometric.data import Data
        >>> data = Data(pos=torch.rand(4, 2), edge_index=torch.tensor([[0, 1], [1, 0]]),
        ...             input_pos=torch.rand(5, 2), input_x=torch.rand(5, 1),
        ...             query_pos=torch.rand(3, 2))
        >>> model = GEN.paper(num_steps=2)
        >>> model(data).shape
        torch.Size([3, 1])
        >>> model(data.input_x, data.input_pos, data.pos, data.edge_index, data.query_pos).shape
        torch.Size([3, 1])
    """

    def __init__(
        self,
        encoder: torch.nn.Module | None = None,
        processor: torch.nn.Module | None = None,
        decoder: torch.nn.Module | None = None,
    ) -> None:
        super().__init__()
        if encoder is None or processor is None or decoder is None:
            paper = GEN.paper()
            encoder = paper.encoder if encoder is None else encoder
            processor = paper.processor if processor is None else processor
            decoder = paper.decoder if decoder is None else decoder
        for name, stage in (("encoder", encoder), ("processor", processor),
                            ("decoder", decoder)):
            if not isinstance(stage, torch.nn.Module):
                raise TypeError(f"{name} must be a torch.nn.Module, got {type(stage).__name__}")
        for name, stage, attrs in (("encoder", encoder, ("in_channels", "pos_dim")),
                                   ("decoder", decoder, ("out_channels",))):
            missing = [a for a in attrs if not hasattr(stage, a)]
            if missing:
                raise TypeError(f"{name} {type(stage).__name__} needs the attribute(s) "
                                f"{', '.join(missing)} (see the GEN's stage calls)")
        widths = {name: getattr(stage, attr) for name, stage, attr in (
            ("encoder.latent_channels", encoder, "latent_channels"),
            ("processor.channels", processor, "channels"),
            ("decoder.latent_channels", decoder, "latent_channels")) if hasattr(stage, attr)}
        if len(set(widths.values())) > 1:
            raise ValueError("the stages disagree on the node state size: "
                             + ", ".join(f"{k}={v}" for k, v in widths.items()))
        self.encoder = encoder
        self.processor = processor
        self.decoder = decoder

    # ------------------------------------------------------------------ presets
    @classmethod
    def paper(cls, in_channels: int | Sequence[int] = 1, out_channels: int | Sequence[int] = 1,
              pos_dim: int = 2, latent_channels: int = 32,
              representation: Representation | str = "soft_nearest",
              num_steps: int | None = None, readout: str = "interpolate") -> GEN:
        """The paper's GEN (its Poisson sizes, appendix A.2): one representation shared by
        the encoder and the decoder (or a sum readout), mesh-diameter rounds unless
        :obj:`num_steps` is given.

        Example:
            >>> model = GEN.paper(in_channels=[1, 1], representation="bilinear")
            >>> model.encoder
            PointEncoder([1, 1], 32, representation=Bilinear())
            >>> model.encoder.representation is model.decoder.representation
            True
        """
        check_choice(readout, "readout", READOUTS)
        rep = get_representation(representation)
        decoder: torch.nn.Module
        if readout == "interpolate":
            decoder = PointDecoder(latent_channels, out_channels, rep, pos_dim)
        else:
            out = as_channel_list(out_channels, "out_channels")
            if len(out) != 1:
                raise ValueError(f"readout='sum' answers one function, got out_channels={out}")
            decoder = SumReadout(latent_channels, out[0])
        return cls(PointEncoder(in_channels, latent_channels, rep, pos_dim),
                   ElementProcessor(latent_channels, pos_dim, num_steps), decoder)

    @classmethod
    def mesh_independent(cls, in_channels: int | Sequence[int] = 1,
                         out_channels: int | Sequence[int] = 1, pos_dim: int = 2,
                         latent_channels: int = 32, sigma: float = 0.08, radius: float = 0.36,
                         num_steps: int = 6) -> GEN:
        """A GEN whose weights do not depend on the mesh's node count: a Gaussian-kernel pair
        encoder of bandwidth :obj:`sigma`, :obj:`num_steps` rounds averaging over the nodes
        within :obj:`radius`, and a kernel-average pair decoder (lengths in the units of the
        positions; the defaults suit the unit square with meshes of 4x4 nodes and finer).

        Example:
            >>> GEN.mesh_independent().processor
            ElementProcessor(32, num_steps=6, graph=RadiusGraph(r=0.36), aggr='mean')
        """
        return cls(PairEncoder(in_channels, latent_channels, GaussianKernel(sigma), pos_dim),
                   ElementProcessor(latent_channels, pos_dim, num_steps,
                                    graph=RadiusGraph(radius), aggr="mean"),
                   PairDecoder(latent_channels, out_channels,
                               GaussianKernel(sigma, normalize=True), pos_dim))

    def reset_parameters(self) -> None:
        for stage in (self.encoder, self.processor, self.decoder):
            reset = getattr(stage, "reset_parameters", None)
            if callable(reset):
                reset()

    @property
    def num_steps(self) -> int | None:
        """The processor's fixed rounds, or :obj:`None` (the mesh's diameter)."""
        steps = getattr(self.processor, "num_steps", None)
        return steps if isinstance(steps, int) else None

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
        """Predictions at :obj:`query_pos` (or per example with a readout).

        Args:
            num_steps (int, optional): message-passing rounds for this call. (default: the
                processor's :obj:`num_steps`, else the mesh diameter)
            batch_size (int, optional): number of examples. (default: from the batch vectors)
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
        args = DataArgs(input_x, input_pos, pos, edge_index, query_pos, input_fn, query_fn,
                        input_batch, batch, query_batch)
        self._check_inputs(TENSOR_NAMES, *args, batch_size)
        steps = (check_num_steps(num_steps, "num_steps") if num_steps is not None
                 else self._default_steps(None, pos, edge_index, batch, "diameter"))
        return run_trusted(self._run, args, steps, batch_size, mesh, self._sizes(args, batch_size))

    def forward_data(self, data: Data) -> Tensor:
        """:meth:`forward` on a :class:`~torch_geometric.data.Data` (or a
        :class:`~torch_geometric.data.Batch` made with ``follow_batch=["input_pos",
        "query_pos"]``) holding the tensors under their names; :obj:`data.diameter`, where
        present, gives the number of rounds. Errors name ``data.<attribute>``."""
        args, batch_size = self.read_data(data), num_examples(data)
        return run_trusted(self._run, args, self.steps_for(data), batch_size, data,
                           self._sizes(args, batch_size))

    def read_data(self, data: Data) -> DataArgs:
        """The tensors of ``data`` under :meth:`forward`'s names, checked once as
        :meth:`forward_data` checks them (for models that run the stages themselves)."""
        args = self._data_args(data)
        self._check_inputs(DATA_NAMES, *args, num_examples(data))
        return args

    def _sizes(self, args: DataArgs, batch_size: int,
               ) -> tuple[DenseSizes | None, DenseSizes | None]:
        # read at the entry point, so that no stage reads them back from the device
        return self._dense_sizes(args.input_x, args.pos, args.query_pos, args.input_batch,
                                 args.batch, args.query_batch, batch_size)

    def _run(self, args: DataArgs, steps: int, batch_size: int, mesh: Data | None,
             sizes: tuple[DenseSizes | None, DenseSizes | None]) -> Tensor:
        z = self.encoder(args.input_x, args.input_pos, args.pos, args.input_batch, args.batch,
                         input_fn=args.input_fn, edge_index=args.edge_index, mesh=mesh,
                         sizes=sizes[0])
        z = self.processor(z, args.pos, args.edge_index, args.batch, num_steps=steps)
        return self._decode(z, args, batch_size, mesh, sizes[1])

    def _decode(self, z: Tensor, args: DataArgs, batch_size: int, mesh: Data | None,
                sizes: DenseSizes | None = None) -> Tensor:
        if self.readout == "sum":
            pooled: Tensor = self.decoder(z, args.batch, batch_size)
            return pooled
        out: Tensor = self.decoder(z, args.pos, args.query_pos, args.batch, args.query_batch,
                                   query_fn=args.query_fn, edge_index=args.edge_index,
                                   mesh=mesh, sizes=sizes)
        return out

    def _default_steps(self, diameter: object, pos: Tensor, edge_index: Tensor,
                       batch: Tensor | None, name: str) -> int:
        if self.num_steps is not None:
            return self.num_steps
        if diameter is None:
            check_edge_index(edge_index, name.replace("diameter", "edge_index"))
            diameter = graph_diameter(edge_index, pos.size(0), batch)
        return steps_from_diameter(diameter, name)

    def steps_for(self, data: Data) -> int:
        """The number of message-passing rounds used for ``data`` (at most
        :obj:`10_000`): the processor's :obj:`num_steps`, else :obj:`data.diameter`, else the
        mesh's diameter."""
        return self._default_steps(getattr(data, "diameter", None), data.pos, data.edge_index,
                                   getattr(data, "batch", None), "data.diameter")

    # ------------------------------------------------- the stages on Data (for inspection)
    def encode(self, data: Data) -> Tensor:
        """Initial node states :math:`\\mathbf{z}^0` :obj:`[N, C]` of ``data`` (checked as
        :meth:`forward_data` checks it)."""
        a = self.read_data(data)
        z: Tensor = run_trusted(self.encoder, a.input_x, a.input_pos, a.pos, a.input_batch, a.batch,
                                input_fn=a.input_fn, edge_index=a.edge_index, mesh=data)
        return z

    def process(self, z: Tensor, data: Data, num_steps: int | None = None,
                z0: Tensor | None = None) -> Tensor:
        """The processor's rounds on ``data``'s mesh from the states :obj:`z` (default rounds:
        :meth:`steps_for`); with recall, :obj:`z0` are the encoded states fed back every
        round (default: :obj:`z`, right when :obj:`z` is the encoding; pass the encoding to
        continue from states after some rounds)."""
        steps = self.steps_for(data) if num_steps is None else check_num_steps(
            num_steps, "num_steps")
        self._check_states(z, data)
        if z0 is not None and (not isinstance(z0, Tensor) or z0.shape != z.shape):
            raise ValueError(f"z0 must have the shape of z {tuple(z.shape)}, got "
                             f"{shape_of(z0)}")
        extra = {} if z0 is None else {"z0": z0}
        out: Tensor = run_trusted(self.processor, z, data.pos, data.edge_index,
                                  getattr(data, "batch", None), num_steps=steps, **extra)
        return out

    def decode(self, z: Tensor, data: Data) -> Tensor:
        """The decoder's answers from node states :obj:`z` on ``data``'s mesh, at
        :obj:`data.query_pos` (or per example with a readout), checked as
        :meth:`forward_data` checks ``data``."""
        args = self.read_data(data)
        self._check_states(z, data)
        return run_trusted(self._decode, z, args, num_examples(data), data)

    def _check_states(self, z: object, data: Data) -> None:
        width = getattr(self.processor, "channels", None)
        if not isinstance(z, Tensor) or z.dim() != 2 or (width is not None
                                                        and z.size(1) != width):
            raise ValueError(f"z must be node states [N, {width or 'C'}], got {shape_of(z)}")
        check_edge_index(data.edge_index, "data.edge_index")
        check_index(data.edge_index, z.size(0), "data.edge_index", f"z has {z.size(0)} rows")

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.encoder}, {self.processor}, "
                f"{self.decoder})")
