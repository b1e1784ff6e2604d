"""The entry point of :class:`~gen_pyg.nn.GEN`: reading a ``Data`` call into tensors, every
check of the inputs (once, before the stages run) and the padded sizes of a dense
representation."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import (
    check_device,
    check_edge_index,
    check_index,
    check_points,
    parameter_device,
    parameter_dtype,
)
from gen_pyg.nn._checks import (
    batch_vector,
    check_example_index,
    check_nonempty,
    check_samples,
)
from gen_pyg.nn.representation import DenseSizes, dense_sizes


class DataArgs(NamedTuple):
    """The tensors of a ``Data`` call, in the order of :meth:`GEN.forward`'s first ten
    arguments (:meth:`GEN.read_data`)."""

    input_x: Any
    input_pos: Any
    pos: Any
    edge_index: Any
    query_pos: Any
    input_fn: Any
    query_fn: Any
    input_batch: Any
    batch: Any
    query_batch: Any


class GENInputs(torch.nn.Module):
    """The input half of :class:`~gen_pyg.nn.GEN` (a base class: it reads the GEN's
    stages for the channels, the dimension and whether there are queries)."""

    encoder: torch.nn.Module
    processor: torch.nn.Module
    decoder: torch.nn.Module

    @property
    def readout(self) -> str:
        """``"interpolate"`` (answers at query points) or ``"sum"`` (one per example)."""
        return "interpolate" if getattr(self.decoder, "needs_queries", True) else "sum"

    @property
    def in_channels(self) -> list[int]:
        return list(self.encoder.in_channels)  # type: ignore[arg-type]

    @property
    def out_channels(self) -> list[int]:
        return list(self.decoder.out_channels)  # type: ignore[arg-type]

    @property
    def pos_dim(self) -> int:
        return int(self.encoder.pos_dim)  # type: ignore[arg-type]

    def _data_args(self, data: Data) -> DataArgs:
        if not isinstance(data, Data):
            raise TypeError(f"GEN input must be a torch_geometric Data or Batch, got "
                            f"{type(data).__name__}")
        queries = self.readout == "interpolate"
        if queries and getattr(data, "query_pos", None) is None:
            raise ValueError(
                "GEN input is missing 'data.query_pos' (needed by readout='interpolate')"
            )
        for key in ("pos", "edge_index", "input_pos", "input_x"):
            if getattr(data, key, None) is None:
                raise ValueError(f"GEN input is missing 'data.{key}'")
        query_pos = data.query_pos if queries else None
        input_batch = batch_vector(data, "input_pos", data.input_pos.size(0))
        query_batch = (batch_vector(data, "query_pos", query_pos.size(0))
                       if isinstance(query_pos, Tensor) else None)
        return DataArgs(data.input_x, data.input_pos, data.pos, data.edge_index, query_pos,
                        getattr(data, "input_fn", None), getattr(data, "query_fn", None),
                        input_batch, getattr(data, "batch", None), query_batch)

    def _check_inputs(self, names: dict[str, str], input_x: object, input_pos: object,
                      pos: object, edge_index: object, query_pos: object, input_fn: object,
                      query_fn: object, input_batch: Tensor | None, batch: Tensor | None,
                      query_batch: Tensor | None, batch_size: int) -> None:
        """Every check of the entry point, naming the arguments as ``names`` says."""
        if self.readout == "interpolate" and query_pos is None:
            raise ValueError(f"GEN input is missing '{names['query_pos']}' (needed by "
                             "readout='interpolate')")
        dtype, device = parameter_dtype(self), parameter_device(self)
        nodes = check_points(pos, names["pos"], dim=self.pos_dim, finite=False)
        ei = check_edge_index(edge_index, names["edge_index"])
        check_device(ei, names["edge_index"], device)
        check_samples("GEN", names, self.in_channels, self.out_channels, self.pos_dim, input_x,
                      input_pos, query_pos if self.readout == "interpolate" else None, input_fn,
                      query_fn, input_batch, query_batch, batch_size, dtype, device,
                      more=[(nodes, names["pos"])])
        check_index(ei, nodes.size(0), names["edge_index"],
                    f"{names['pos']} has {nodes.size(0)} rows")
        check_example_index(batch, nodes.size(0), names["batch"], batch_size)
        check_nonempty(batch, nodes.size(0), batch_size, f"nodes ({names['pos']})")

    def _dense_sizes(self, input_x: Tensor, pos: Tensor, query_pos: Tensor | None,
                     input_batch: Tensor | None, batch: Tensor | None,
                     query_batch: Tensor | None, batch_size: int,
                     ) -> tuple[DenseSizes | None, DenseSizes | None]:
        """The padded block sizes of a dense representation for the encoder and the decoder,
        read at the entry point so that no layer reads them back (None for one example, or
        where the representation has no dense form)."""
        encoder = getattr(self.encoder, "takes_dense_sizes", False)
        decoder = (getattr(self.decoder, "takes_dense_sizes", False) and query_pos is not None
                   and self.readout == "interpolate")
        if all(b is None for b in (input_batch, batch, query_batch)) or not (encoder or decoder):
            return None, None

        def rows(vec: Tensor | None, n: int) -> Tensor:
            return vec if vec is not None else pos.new_zeros(n, dtype=torch.long)

        nodes = rows(batch, pos.size(0))
        return (
            dense_sizes(rows(input_batch, input_x.size(0)), nodes, batch_size) if encoder
            else None,
            dense_sizes(rows(query_batch, query_pos.size(0)), nodes, batch_size)  # type: ignore[union-attr]
            if decoder else None)
