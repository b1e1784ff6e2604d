"""The entry point of :class:`~gen_pyg.nn.GEN`: reading a ``Data`` call into tensors, every
check of the inputs (once, before the layers run), the padded sizes of a dense representation,
and the state-dict layout of the representation the encoder and decoder share."""

from __future__ import annotations

from typing import Any

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
from gen_pyg.nn.representation import DenseSizes, Representation, dense_sizes

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
    # the state dict lists the shared tensors once, under "representation."; strict loading
    # expects them under the encoder and decoder that share the module too
    if not _shares_representation(module):
        return
    own = prefix + "representation."
    for key in [k for k in state_dict if k.startswith(own)]:
        for shared in _SHARED_REPRESENTATION:
            state_dict.setdefault(prefix + shared + key[len(own):], state_dict[key])


#: The tensors of a Data call, in the order of :meth:`GEN.forward`'s first ten arguments.
DataArgs = tuple[Any, Any, Any, Any, Any, Any, Any, Any, Any, Any]


def node_scales(pos: Tensor, edge_index: Tensor) -> Tensor:
    """Length of the shortest mesh edge that ends at each node, :obj:`[N]`: the scale of
    the offsets of :obj:`relative_pos` (the grid spacing on a grid; a node without edges
    gets the mean of the others, or 1 when the mesh has no edges).

    Example:
        >>> pos = torch.tensor([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0], [5.0, 5.0]])
        >>> node_scales(pos, torch.tensor([[1, 0, 2, 1], [0, 1, 1, 2]])).tolist()
        [0.5, 0.5, 1.5, 0.8333333134651184]
    """
    src, dst = edge_index
    length = (pos[src] - pos[dst]).norm(dim=-1)
    inf = torch.full((pos.size(0),), torch.inf, dtype=pos.dtype, device=pos.device)
    shortest = inf.scatter_reduce(0, dst, length, reduce="amin")
    has_edge = torch.isfinite(shortest)
    # the mean of the nodes with edges, 1 without any: no device sync
    count = has_edge.sum()
    mean = torch.where(has_edge, shortest, 0.0).sum() / count.clamp(min=1)
    fallback = torch.where(count > 0, mean, torch.ones_like(mean))
    return torch.where(has_edge, shortest, fallback)


class GENInputs(torch.nn.Module):
    """The input half of :class:`~gen_pyg.nn.GEN` (a base class: it reads the GEN's
    ``readout``, ``pos_dim``, channels and representation)."""

    readout: str
    pos_dim: int
    in_channels: Any
    out_channels: Any
    representation: Representation
    relative_pos: bool

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
        return (data.input_x, data.input_pos, data.pos, data.edge_index, query_pos,
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
        if (all(b is None for b in (input_batch, batch, query_batch))
                or type(self.representation).dense is Representation.dense
                or self.relative_pos):
            return None, None

        def rows(vec: Tensor | None, n: int) -> Tensor:
            return vec if vec is not None else pos.new_zeros(n, dtype=torch.long)

        nodes = rows(batch, pos.size(0))
        encoder = dense_sizes(rows(input_batch, input_x.size(0)), nodes, batch_size)
        if query_pos is None or self.readout != "interpolate":
            return encoder, None
        return encoder, dense_sizes(rows(query_batch, query_pos.size(0)), nodes, batch_size)
