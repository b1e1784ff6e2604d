"""A GEN that solves on a hierarchy of grids, coarse to fine (nested iteration)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gen_pyg._validation import check_choice, check_int, run_trusted
from gen_pyg.nn._checks import num_examples
from gen_pyg.nn.conv.spatial_decoder import SpatialDecoder
from gen_pyg.nn.models._gen_inputs import DataArgs
from gen_pyg.nn.models.decoders import PointDecoder
from gen_pyg.nn.models.gen import GEN
from gen_pyg.nn.models.processors import ElementProcessor

__all__ = ["MultilevelGEN", "grid_levels"]

#: Where a :class:`MultilevelGEN` encodes the inputs (``encode``).
MULTILEVEL_ENCODES = ("every", "coarsest")


def grid_levels(k: int, coarsest: int = 4) -> list[int]:
    """The grid sizes a :class:`MultilevelGEN` visits for a :math:`k \\times k` grid, coarse
    to fine: :math:`k`, then :math:`\\lceil k / 2 \\rceil` (the grid whose nodes a
    :math:`(2m - 1)`-grid contains) and so on while the last is above :obj:`coarsest`.

    Example:
        >>> grid_levels(14), grid_levels(7), grid_levels(4), grid_levels(20)
        ([4, 7, 14], [4, 7], [4], [3, 5, 10, 20])
    """
    check_int(k, "k", 2)
    check_int(coarsest, "coarsest", 2)
    levels = [k]
    while levels[-1] > coarsest:
        levels.append((levels[-1] + 1) // 2)
    return levels[::-1]


class MultilevelGEN(torch.nn.Module):
    r"""A :class:`GEN` run coarse to fine on a hierarchy of grids (nested iteration, the
    upward half of a multigrid V-cycle): on a :math:`k \times k` grid it encodes the inputs on
    the coarsest grid of :func:`grid_levels`, runs that grid's diameter in rounds, then, on
    each finer grid, adds the previous node states interpolated onto the new nodes (through
    the representation, then a learned linear map :math:`P`) to the new encoding and runs a
    fixed number of :obj:`rounds`:

    .. math::
        \mathbf{z}_{\ell} = \mathrm{processor}^{R}\big(\mathrm{encoder}_{\ell}(\text{inputs})
        + P\, r_{\ell - 1}(\mathbf{z}_{\ell - 1})\big), \qquad
        \hat{g}(x_q) = \mathrm{decoder}(\mathbf{z}_{L}, x_q)

    so that information crosses the domain on the coarse grid, in a number of rounds that does
    not grow with :math:`k`, and the finer grids only refine. The weights are the wrapped GEN's
    (one encoder, processor and decoder for every level; give it an
    ``ElementProcessor(geometry="local")`` so that every level looks the same to the processor)
    and :math:`P`; :math:`r` is the decoder's representation.

    A batch whose :obj:`diameter` exceeds the grid's :math:`2(k-1)` (as
    :class:`~gen_pyg.training.RandomRounds` makes it in training) runs that many more rounds on
    every level.

    It takes the batches a :class:`GEN` takes on regular grids (:func:`~gen_pyg.mesh.grid`
    meshes, every example on the same :math:`k \times k` grid, as the
    :class:`~gen_pyg.training.Trainer` makes them) and builds the coarser grids itself.

    Args:
        gen (GEN): the model of every level: an :class:`~gen_pyg.nn.ElementProcessor` on the
            mesh's edges with :obj:`num_steps=None`, a decoder at query points.
        rounds (int, optional): rounds on each level after the coarsest. (default: :obj:`4`)
        coarsest (int, optional): the coarsest grid size (see :func:`grid_levels`).
            (default: :obj:`4`)
        encode (str, optional): ``"every"`` encodes the inputs on every level, as above;
            ``"coarsest"`` only on the coarsest, where each node gathers the most samples:
            a finer level starts from :math:`P\, r_{\ell - 1}(\mathbf{z}_{\ell - 1})` alone
            (and recalls that, with ``recall=True``), so its processor never sees an encoding
            whose density falls with the grid spacing. (default: :obj:`"every"`)
        share_processor (bool, optional): run the finer levels with the GEN's own processor
            (and recall). :obj:`False` gives them a processor of their own, of the same
            shape (:attr:`refiner`, starting from a copy of the GEN's processor): the
            coarsest grid solves, the finer ones refine, each with weights for its job.
            (default: :obj:`True`)
        supervise (bool, optional): in training mode, return the list of every level's
            prediction, coarse to fine (each decoded from that level's states), for a loss on
            all of them (:class:`~gen_pyg.training.EveryLevel`): every level is then trained
            to predict, so a finer level always refines a state that already decodes. In
            evaluation mode the finest prediction alone. (default: :obj:`False`)

    Example:
        >>> from gen_pyg.mesh import grid
        >>> from gen_pyg.nn import ElementProcessor, PointDecoder, PointEncoder
        >>> model = MultilevelGEN(GEN(PointEncoder(representation="bilinear"),
        ...                           ElementProcessor(geometry="local"),
        ...                           PointDecoder(representation="bilinear")))
        >>> data = grid(7)
        >>> data.input_pos, data.input_x = torch.rand(5, 2), torch.rand(5, 1)
        >>> data.query_pos = torch.rand(3, 2)
        >>> model(data).shape
        torch.Size([3, 1])
    """

    def __init__(self, gen: GEN, rounds: int = 4, coarsest: int = 4,
                 encode: str = "every", share_processor: bool = True,
                 supervise: bool = False) -> None:
        super().__init__()
        if not isinstance(gen, GEN):
            raise TypeError(f"gen must be a GEN, got {type(gen).__name__}")
        processor = gen.processor
        if not isinstance(processor, ElementProcessor) or processor.graph is not None:
            raise ValueError(f"MultilevelGEN needs a GEN whose processor is an ElementProcessor "
                             f"on the mesh's edges (its levels run on the grids' edges), got "
                             f"{processor}")
        if gen.num_steps is not None:
            raise ValueError("gen.num_steps must be None: a MultilevelGEN picks the rounds of "
                             "each level")
        if not isinstance(gen.decoder, PointDecoder):
            raise ValueError(f"MultilevelGEN needs a GEN whose decoder answers at query points "
                             f"(a PointDecoder or PairDecoder), got {gen.decoder}")
        self.gen = gen
        self.rounds = check_int(rounds, "rounds", 0)
        self.coarsest = check_int(coarsest, "coarsest", 2)
        check_choice(encode, "encode", MULTILEVEL_ENCODES)
        self.encode = encode
        if not isinstance(share_processor, bool):
            raise TypeError(f"share_processor must be a bool, got {share_processor!r}")
        self.share_processor = share_processor
        if not isinstance(supervise, bool):
            raise TypeError(f"supervise must be a bool, got {supervise!r}")
        self.supervise = supervise
        # the finer levels' processor: the GEN's, or a copy of its shape with its own weights
        self.refiner = None if share_processor else copy.deepcopy(processor)
        # the states of a level interpolated onto the next level's nodes, with the
        # decoder's representation (shared with the decoder)
        self.interpolate = SpatialDecoder(gen.decoder.representation)
        self.prolong = torch.nn.Linear(processor.channels, processor.channels)
        self._grids: dict[tuple[Any, ...], Data] = {}

    def reset_parameters(self) -> None:
        self.gen.reset_parameters()
        self.prolong.reset_parameters()
        if self.refiner is not None:
            self.refiner.reset_parameters()

    def _grid_size(self, data: Data) -> int:
        shape = getattr(data, "grid_shape", None)
        if not isinstance(shape, Tensor) or shape.dim() != 2 or shape.size(1) != 2:
            raise ValueError("MultilevelGEN needs a square grid mesh on every example "
                             "(data.grid_shape [B, 2], as gen_pyg.mesh.grid makes it), got "
                             f"{None if shape is None else tuple(shape.shape)}")
        sizes = {tuple(row) for row in shape.tolist()}
        if len(sizes) != 1 or len(next(iter(sizes))) != 2 or len(set(next(iter(sizes)))) != 1:
            raise ValueError(f"MultilevelGEN needs every example on the same k x k grid, got "
                             f"grid shapes {sorted(sizes)}")
        return int(shape[0, 0])

    def _level(self, data: Data, k: int) -> Data:
        """``data`` with its mesh replaced by the k x k grid on the same box."""
        from gen_pyg.mesh import grid
        from gen_pyg.mesh.batching import replicate_mesh

        lo = tuple(data.grid_lo[0].tolist())
        hi = tuple(data.grid_hi[0].tolist())
        key = (k, lo, hi, data.pos.dtype, data.pos.device)
        if key not in self._grids:
            self._grids[key] = grid(k, bounds=(lo, hi), dtype=data.pos.dtype,
                                    device=data.pos.device)
        return replicate_mesh(data, self._grids[key])

    def forward(self, data: Data) -> Tensor | list[Tensor]:
        """Predictions at :obj:`data.query_pos` from the inputs of :obj:`data` (a
        :class:`~torch_geometric.data.Data` or batch on a :math:`k \\times k` grid)."""
        if not isinstance(data, Batch):
            data = Batch.from_data_list([data], follow_batch=["input_pos", "query_pos"])
        k = self._grid_size(data)
        # the inputs are checked once, as GEN.forward_data checks them; the coarser levels
        # are grids built here on the same inputs, so every level then runs trusted
        args = self.gen.read_data(data)
        # a diameter above the grid's (RandomRounds in training) adds rounds to every level
        diameter = getattr(data, "diameter", None)
        extra = (max(0, int(diameter.max()) - 2 * (k - 1))
                 if isinstance(diameter, Tensor) and diameter.numel() else 0)
        return run_trusted(self._run, data, args, k, extra, num_examples(data))

    def _run(self, data: Data, args: DataArgs, k: int, extra: int,
             batch_size: int) -> Tensor | list[Tensor]:
        gen = self.gen
        z: Tensor | None = None
        prev: Data | None = None
        every = self.supervise and self.training
        outs: list[Tensor] = []
        for m in grid_levels(k, self.coarsest):
            level = data if m == k else self._level(data, m)
            if z is None or self.encode == "every":
                z0 = gen.encoder(args.input_x, args.input_pos, level.pos, args.input_batch,
                                 level.batch, input_fn=args.input_fn,
                                 edge_index=level.edge_index, mesh=level)
            if z is None:
                z = gen.processor(z0, level.pos, level.edge_index, level.batch,
                                  num_steps=2 * (m - 1) + extra)
            else:
                assert prev is not None
                moved = self.prolong(self.interpolate(z, prev.pos, level.pos, prev.batch,
                                                      level.batch, mesh=prev))
                processor = gen.processor if self.refiner is None else self.refiner
                steps = self.rounds + extra
                if self.encode == "every":
                    z = processor(z0 + moved, level.pos, level.edge_index, level.batch,
                                  num_steps=steps, z0=z0)
                else:
                    z = processor(moved, level.pos, level.edge_index, level.batch,
                                  num_steps=steps)
            prev = level
            if every and m != k:
                outs.append(gen.decoder(z, level.pos, args.query_pos, level.batch,
                                        args.query_batch, query_fn=args.query_fn,
                                        edge_index=level.edge_index, mesh=level))
        assert z is not None
        out: Tensor = gen.decoder(z, data.pos, args.query_pos, data.batch, args.query_batch,
                                  query_fn=args.query_fn, edge_index=data.edge_index, mesh=data)
        return [*outs, out] if every else out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.gen}, rounds={self.rounds}, "
                f"coarsest={self.coarsest}, encode={self.encode!r}"
                + ("" if self.share_processor else ", share_processor=False")
                + (", supervise=True" if self.supervise else "") + ")")
