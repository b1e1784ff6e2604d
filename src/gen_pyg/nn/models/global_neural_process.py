"""The Neural Process with one answer per example (a global readout)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.nn.models.neural_process import NeuralProcess

__all__ = ["GlobalNeuralProcess"]


class GlobalNeuralProcess(NeuralProcess):
    r"""The Neural Process with one answer per example, the counterpart of
    ``GEN.paper(readout="sum")``: the inputs are encoded and pooled into :math:`\mathbf{r}` as in
    :class:`~gen_pyg.nn.NeuralProcess`, and :math:`\mathbf{r}` is decoded once per example.

    :class:`~gen_pyg.nn.NeuralProcess` has no readout option (it always decodes at query
    positions), so this decodes at one fixed query position per example (the origin), which
    makes the decoder a function of :math:`\mathbf{r}` alone; the data need no ``query_pos``.
    Arguments as :class:`~gen_pyg.nn.NeuralProcess` (one output function).

    Example:
        >>> data = Data(input_pos=torch.rand(5, 2), input_x=torch.rand(5, 4))
        >>> GlobalNeuralProcess(in_channels=4, out_channels=3)(data).shape
        torch.Size([1, 3])
    """

    def forward_data(self, data: Data) -> Tensor:
        if not isinstance(data, Data):
            raise TypeError(f"GlobalNeuralProcess input must be a torch_geometric Data or "
                            f"Batch, got {type(data).__name__}")
        num = int(getattr(data, "num_graphs", None) or 1)
        ref = data.input_pos
        queried = data.clone() if "query_pos" in data else data.__copy__()
        queried.query_pos = torch.zeros(num, self.pos_dim, dtype=ref.dtype, device=ref.device)
        queried.query_pos_batch = torch.arange(num, device=ref.device)
        return super().forward_data(queried)
