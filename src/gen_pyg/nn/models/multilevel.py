"""A GEN that solves on a hierarchy of grids, coarse to fine (nested iteration)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gen_pyg._validation import check_int, run_trusted
from gen_pyg.nn._checks import DATA_NAMES, num_examples
from gen_pyg.nn.models.gen import GEN

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
        \mathbf{z}_{\ell} = \mathrm{GEN.process}^{R}\big(\mathrm{enc}_{\ell}(\text{inputs}) +
        P\, r_{\ell - 1}(\mathbf{z}_{\ell - 1})\big), \qquad
        \hat{g}(x_q) = \mathrm{GEN.decode}(\mathbf{z}_{L}, x_q)

    so that information crosses the domain on the coarse grid, in a number of rounds that does
    not grow with :math:`k`, and the finer grids only refine. The weights are the wrapped GEN's
    (one encoder, processor and decoder for every level; build it with ``geometry="local"``
    so that every level looks the same to the processor) and :math:`P`.

    A batch whose :obj:`diameter` exceeds the grid's :math:`2(k-1)` (as
    :class:`~gen_pyg.training.RandomRounds` makes it in training) runs that many more rounds on
    every level.

    It takes the batches a :class:`GEN` takes on regular grids (:func:`~gen_pyg.mesh.grid`
    meshes, every example on the same :math:`k \times k` grid, as the
    :class:`~gen_pyg.training.Trainer` makes them) and builds the coarser grids itself.

    Args:
        gen (GEN): the model of every level (its :obj:`num_steps` must be :obj:`None`).
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
            shape (:attr:`refiner`, :attr:`refiner_recall`, starting from a copy of the GEN's
            weights): the coarsest grid solves, the finer ones refine, each with weights for
            its job. (default: :obj:`True`)
        supervise (bool, optional): in training mode, return the list of every level's
            prediction, coarse to fine (each decoded from that level's states), for a loss on
            all of them (:class:`~gen_pyg.training.EveryLevel`): every level is then trained
            to predict, so a finer level always refines a state that already decodes. In
            evaluation mode the finest prediction alone. (default: :obj:`False`)

    Example:
        >>> from gen_pyg.mesh import grid
        >>> model = MultilevelGEN(GEN(representation="bilinear", geometry="local"))
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
        if gen.processor_radius is not None:
            raise ValueError("MultilevelGEN needs a GEN without processor_radius: its levels "
                             "run on the grids' edges")
        if gen.num_steps is not None:
            raise ValueError("gen.num_steps must be None: a MultilevelGEN picks the rounds of "
                             "each level")
        if gen.readout != "interpolate":
            raise ValueError("MultilevelGEN needs a GEN with readout='interpolate'")
        self.gen = gen
        self.rounds = check_int(rounds, "rounds", 0)
        self.coarsest = check_int(coarsest, "coarsest", 2)
        if encode not in MULTILEVEL_ENCODES:
            raise ValueError(f"encode must be one of {MULTILEVEL_ENCODES}, got {encode!r}")
        self.encode = encode
        if not isinstance(share_processor, bool):
            raise TypeError(f"share_processor must be a bool, got {share_processor!r}")
        self.share_processor = share_processor
        if not isinstance(supervise, bool):
            raise TypeError(f"supervise must be a bool, got {supervise!r}")
        self.supervise = supervise
        # the finer levels' processor: the GEN's, or a copy of its shape with its own weights
        self.refiner = None if share_processor else copy.deepcopy(gen.conv)
        self.refiner_recall = (None if share_processor or gen.recall is None
                               else copy.deepcopy(gen.recall))
        self.prolong = torch.nn.Linear(gen.latent_channels, gen.latent_channels)
        self._grids: dict[tuple[Any, ...], Data] = {}

    def reset_parameters(self) -> None:
        self.gen.reset_parameters()
        self.prolong.reset_parameters()
        for part in (self.refiner, self.refiner_recall):
            if part is not None:
                part.reset_parameters()

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
        from gen_pyg.training.batching import replicate_mesh

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
        gen = self.gen
        # the inputs are checked once, as GEN.forward_data checks them; the coarser levels
        # are grids built here on the same inputs, so every level then runs trusted
        args = gen._data_args(data)
        batch_size = num_examples(data)
        gen._check_inputs(DATA_NAMES, *args, batch_size)
        # a diameter above the grid's (RandomRounds in training) adds rounds to every level
        diameter = getattr(data, "diameter", None)
        extra = (max(0, int(diameter.max()) - 2 * (k - 1))
                 if isinstance(diameter, Tensor) and diameter.numel() else 0)
        return run_trusted(self._run, data, args, k, extra, batch_size)

    def _run(self, data: Data, args: tuple[Any, ...], k: int, extra: int,
             batch_size: int) -> Tensor | list[Tensor]:
        gen = self.gen
        input_x, input_pos, _, _, query_pos, input_fn, query_fn, input_batch, _, query_batch = args
        z: Tensor | None = None
        prev: Data | None = None
        every = self.supervise and self.training
        outs: list[Tensor] = []
        for m in grid_levels(k, self.coarsest):
            level = data if m == k else self._level(data, m)
            if z is None or self.encode == "every":
                z0 = gen._encode(input_x, input_pos, level.pos, level.edge_index, input_fn,
                                 input_batch, level.batch, level)
            if z is None:
                z = gen._process(z0, level.pos, level.edge_index, 2 * (m - 1) + extra)
            else:
                assert prev is not None
                moved = self.prolong(gen.spatial_decoder(z, prev.pos, level.pos, prev.batch,
                                                         level.batch, mesh=prev))
                conv, recall = ((gen.conv, gen.recall) if self.refiner is None
                                else (self.refiner, self.refiner_recall))
                if self.encode == "every":
                    z = gen._process(z0 + moved, level.pos, level.edge_index,
                                     self.rounds + extra, z0, conv, recall)
                else:
                    z = gen._process(moved, level.pos, level.edge_index, self.rounds + extra,
                                     None, conv, recall)
            prev = level
            if every and m != k:
                outs.append(gen._decode(z, level.pos, level.edge_index, query_pos, query_fn,
                                        level.batch, query_batch, batch_size, level))
        assert z is not None
        out: Tensor = gen._decode(z, data.pos, data.edge_index, query_pos, query_fn,
                                  data.batch, query_batch, batch_size, data)
        return [*outs, out] if every else out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.gen}, rounds={self.rounds}, "
                f"coarsest={self.coarsest}, encode={self.encode!r}"
                + ("" if self.share_processor else ", share_processor=False")
                + (", supervise=True" if self.supervise else "") + ")")
