"""The (deterministic) neural process baseline of the GEN paper."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from gen_pyg._validation import (
    check_choice,
    check_int,
    parameter_device,
    parameter_dtype,
)
from gen_pyg.nn._checks import (
    DATA_NAMES,
    TENSOR_NAMES,
    batch_vector,
    check_samples,
    infer_batch_size,
    num_examples,
)
from gen_pyg.nn._function_heads import FunctionHeads, as_channel_list


class NeuralProcess(torch.nn.Module):
    r"""The conditional neural process baseline (Garnelo et al., 2018) as used in the GEN paper
    (Alet et al., ICML 2019, §4): inputs are encoded, pooled per example into one vector, and
    decoded together with each query position,

    .. math::
        \mathbf{r} = \bigoplus_p e_{i_p}(s_p, x_p), \qquad
        \hat{g}_j(x_q) = d_j(\mathbf{r}, x_q).

    It takes the same data as :class:`GEN` (the mesh is ignored). With :obj:`aggr="sum"` it is
    exactly a GEN with one node and no message passing, as the paper notes.

    Args:
        in_channels (int or list of int, optional): value size of each input function.
            (default: :obj:`1`)
        out_channels (int or list of int, optional): value size of each output function.
            (default: :obj:`1`)
        pos_dim (int, optional): dimension of the space. (default: :obj:`2`)
        latent_channels (int, optional): size of :math:`\mathbf{r}`. (default: :obj:`32`)
        encoder_hidden_channels (int, optional): hidden width of the encoders. (default: :obj:`48`)
        decoder_hidden_channels (int, optional): hidden width of the decoders. (default: :obj:`32`)
        aggr (str, optional): pooling :math:`\bigoplus`, :obj:`"mean"` or :obj:`"sum"`.
            (default: :obj:`"mean"`)

    Shapes:
        - **input:** as :class:`GEN`
        - **output:** :math:`(Q, \max_j c'_j)`

    Example:
        >>> from torch_geometric.data import Data
        >>> data = Data(input_pos=torch.rand(5, 2), input_x=torch.rand(5, 1),
        ...             query_pos=torch.rand(3, 2))
        >>> NeuralProcess()(data).shape
        torch.Size([3, 1])
    """

    def __init__(
        self,
        in_channels: int | Sequence[int] = 1,
        out_channels: int | Sequence[int] = 1,
        pos_dim: int = 2,
        latent_channels: int = 32,
        encoder_hidden_channels: int = 48,
        decoder_hidden_channels: int = 32,
        aggr: str = "mean",
    ) -> None:
        super().__init__()
        check_choice(aggr, "aggr", ("mean", "sum"))
        for name, value in (("pos_dim", pos_dim), ("latent_channels", latent_channels),
                            ("encoder_hidden_channels", encoder_hidden_channels),
                            ("decoder_hidden_channels", decoder_hidden_channels)):
            check_int(value, name)
        self.in_channels = as_channel_list(in_channels, "in_channels")
        self.out_channels = as_channel_list(out_channels, "out_channels")
        self.pos_dim = pos_dim
        self.latent_channels = latent_channels
        self.aggr = aggr
        self.encoders = FunctionHeads(
            self.in_channels,
            [latent_channels] * len(self.in_channels),
            encoder_hidden_channels,
            extra_channels=pos_dim,
        )
        self.decoders = FunctionHeads(
            [latent_channels] * len(self.out_channels),
            self.out_channels,
            decoder_hidden_channels,
            extra_channels=pos_dim,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.encoders.reset_parameters()
        self.decoders.reset_parameters()

    def forward(
        self,
        input_x: Tensor | Data,
        input_pos: Tensor | None = None,
        query_pos: Tensor | None = None,
        input_fn: Tensor | None = None,
        query_fn: Tensor | None = None,
        input_batch: Tensor | None = None,
        query_batch: Tensor | None = None,
        batch_size: int | None = None,
    ) -> Tensor:
        """Predictions at :obj:`query_pos` from the samples :obj:`input_x` at
        :obj:`input_pos` (arguments as in :meth:`GEN.forward`, without a mesh), checked here
        once. A :class:`~torch_geometric.data.Data` or :class:`~torch_geometric.data.Batch`
        as the only argument is :meth:`forward_data`."""
        if isinstance(input_x, Data):
            rest = (input_pos, query_pos, input_fn, query_fn, input_batch, query_batch,
                    batch_size)
            if any(v is not None for v in rest):
                raise TypeError("NeuralProcess takes either a Data/Batch alone or tensors, not "
                                "both")
            return self.forward_data(input_x)
        if query_pos is None:
            raise ValueError("NeuralProcess input is missing 'query_pos'")
        if batch_size is None:
            batch_size = infer_batch_size(input_batch, query_batch)
        check_int(batch_size, "batch_size")
        self._check(TENSOR_NAMES, input_x, input_pos, query_pos, input_fn, query_fn,
                    input_batch, query_batch, batch_size)
        assert isinstance(input_pos, Tensor)
        return self._run(input_x, input_pos, query_pos, input_fn, query_fn, input_batch,
                         query_batch, batch_size)

    def forward_data(self, data: Data) -> Tensor:
        """:meth:`forward` on a :class:`~torch_geometric.data.Data` holding the tensors under
        their names (the mesh, if any, is ignored); errors name ``data.<attribute>``."""
        if not isinstance(data, Data):
            raise TypeError(f"NeuralProcess input must be a torch_geometric Data or Batch, got "
                            f"{type(data).__name__}")
        for key in ("input_pos", "input_x", "query_pos"):
            if getattr(data, key, None) is None:
                raise ValueError(f"NeuralProcess input is missing 'data.{key}'")
        input_batch = batch_vector(data, "input_pos", data.input_pos.size(0))
        query_batch = batch_vector(data, "query_pos", data.query_pos.size(0))
        args = (data.input_x, data.input_pos, data.query_pos, getattr(data, "input_fn", None),
                getattr(data, "query_fn", None), input_batch, query_batch, num_examples(data))
        self._check(DATA_NAMES, *args)
        return self._run(*args)

    def _check(self, names: dict[str, str], input_x: object, input_pos: object,
               query_pos: object, input_fn: object, query_fn: object,
               input_batch: Tensor | None, query_batch: Tensor | None, batch_size: int) -> None:
        check_samples("NeuralProcess", names, self.in_channels, self.out_channels, self.pos_dim,
                      input_x, input_pos, query_pos, input_fn, query_fn, input_batch,
                      query_batch, batch_size, parameter_dtype(self), parameter_device(self))

    def _run(self, input_x: Tensor, input_pos: Tensor, query_pos: Tensor,
             input_fn: Tensor | None, query_fn: Tensor | None, input_batch: Tensor | None,
             query_batch: Tensor | None, batch_size: int) -> Tensor:
        h = self.encoders(input_x, input_pos, input_fn)
        if input_batch is None:
            r = h.sum(0, keepdim=True) if self.aggr == "sum" else h.mean(0, keepdim=True)
        else:
            r = scatter(h, input_batch, dim=0, dim_size=batch_size, reduce=self.aggr)
        r_q = r.expand(query_pos.size(0), -1) if query_batch is None else r[query_batch]
        out: Tensor = self.decoders(r_q, query_pos, query_fn)
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(in_channels={self.in_channels}, "
            f"out_channels={self.out_channels}, pos_dim={self.pos_dim}, "
            f"latent_channels={self.latent_channels}, aggr={self.aggr})"
        )
