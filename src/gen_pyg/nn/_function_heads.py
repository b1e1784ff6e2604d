"""One small MLP per input or output function, applied by function id."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from gen_pyg._validation import check_int
from gen_pyg.nn._mlp import mlp, reset_mlp


def as_channel_list(value: int | Sequence[int], name: str) -> list[int]:
    """``value`` as a non-empty list of positive channel counts (an int is one function)."""
    channels = [value] if isinstance(value, int) else list(value)
    if not channels:
        raise ValueError(f"{name} must be a positive int or a non-empty list of them, got "
                         f"{value!r}")
    for i, c in enumerate(channels):
        check_int(c, name if isinstance(value, int) else f"{name}[{i}]")
    return channels


class FunctionHeads(torch.nn.Module):
    r"""Per-function MLPs: row :math:`m` with function id :math:`f_m` is mapped by head
    :math:`f_m` from its first :obj:`in_channels[f_m]` columns concatenated with :obj:`extra`
    features (positions, for instance) to :obj:`out_channels[f_m]` columns; narrower outputs are
    zero-padded to the widest. These are the encoders :math:`e_1, \dots, e_c` and decoders
    :math:`d_1, \dots, d_{c'}` of the GEN paper (§3.3).

    Args:
        in_channels (list of int): value columns read by each head.
        out_channels (list of int): output columns of each head.
        hidden_channels (int): hidden width (one hidden layer).
        extra_channels (int, optional): width of the :obj:`extra` features. (default: :obj:`0`)

    Shapes:
        - **input:** values :math:`(M, \max_f \text{in_channels}[f])`, optionally extra
          features :math:`(M, \text{extra_channels})` and function ids :math:`(M,)` (all rows
          are function 0 without them)
        - **output:** :math:`(M, \max_f \text{out_channels}[f])`

    Example:
        >>> heads = FunctionHeads([1, 2], [4, 4], hidden_channels=8)
        >>> heads(torch.randn(3, 2), fn=torch.tensor([0, 1, 1])).shape
        torch.Size([3, 4])
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: Sequence[int],
        hidden_channels: int,
        extra_channels: int = 0,
    ) -> None:
        super().__init__()
        if len(in_channels) != len(out_channels):
            raise ValueError("in_channels and out_channels must list the same number of functions")
        self.in_channels = list(in_channels)
        self.out_channels = list(out_channels)
        self.extra_channels = extra_channels
        self.heads = torch.nn.ModuleList(
            mlp([c_in + extra_channels, hidden_channels, c_out])
            for c_in, c_out in zip(self.in_channels, self.out_channels, strict=True)
        )
        self.reset_parameters()

    @property
    def num_functions(self) -> int:
        return len(self.heads)

    def reset_parameters(self) -> None:
        reset_mlp(self.heads)

    def forward(self, x: Tensor, extra: Tensor | None = None, fn: Tensor | None = None) -> Tensor:
        if extra is None and self.extra_channels:
            raise ValueError(f"extra features of width {self.extra_channels} are required")
        width = max(self.out_channels)
        if self.num_functions == 1:
            inp = x[:, : self.in_channels[0]]
            single: Tensor = self.heads[0](inp if extra is None else torch.cat([inp, extra], -1))
            return single
        if fn is None:
            raise ValueError(
                f"a function id per row is required with {self.num_functions} functions"
            )
        out: Tensor | None = None
        for i, head in enumerate(self.heads):
            idx = (fn == i).nonzero().view(-1)
            inp = x[idx, : self.in_channels[i]]
            if extra is not None:
                inp = torch.cat([inp, extra[idx]], dim=-1)
            part = F.pad(head(inp), (0, width - self.out_channels[i]))
            # the heads' dtype (autocast may make it lower than x's)
            out = part.new_zeros(x.size(0), width) if out is None else out
            out = out.index_copy(0, idx, part.to(out.dtype))
        assert out is not None
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(in_channels={self.in_channels}, "
            f"out_channels={self.out_channels}, extra_channels={self.extra_channels})"
        )
