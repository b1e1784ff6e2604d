"""The (deterministic) neural process baseline of the GEN paper."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from gen_pyg._validation import parameter_device, parameter_dtype
from gen_pyg.nn._checks import (
    batch_vector,
    check_function_samples,
    check_positive_ints,
    num_examples,
)
from gen_pyg.nn.function_heads import FunctionHeads, as_channel_list


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
        if aggr not in ("mean", "sum"):
            raise ValueError(f"aggr must be 'mean' or 'sum', got {aggr!r}")
        check_positive_ints(
            pos_dim=pos_dim,
            latent_channels=latent_channels,
            encoder_hidden_channels=encoder_hidden_channels,
            decoder_hidden_channels=decoder_hidden_channels,
        )
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

    def forward(self, data: Data) -> Tensor:
        if not isinstance(data, Data):
            raise TypeError(f"NeuralProcess input must be a torch_geometric Data or Batch, got "
                            f"{type(data).__name__}")
        input_batch = check_function_samples(
            data, "NeuralProcess", self.in_channels, self.out_channels, self.pos_dim, True,
            parameter_dtype(self), parameter_device(self),
        )
        B = num_examples(data)
        query_batch = batch_vector(data, "query_pos", data.query_pos.size(0))
        h = self.encoders(data.input_x, data.input_pos, getattr(data, "input_fn", None))
        r = scatter(h, input_batch, dim=0, dim_size=B, reduce=self.aggr)
        out: Tensor = self.decoders(r[query_batch], data.query_pos, getattr(data, "query_fn", None))
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(in_channels={self.in_channels}, "
            f"out_channels={self.out_channels}, pos_dim={self.pos_dim}, "
            f"latent_channels={self.latent_channels}, aggr={self.aggr})"
        )
