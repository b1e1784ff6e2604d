"""A model predicting relative to the mean of one of its input functions."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from gen_pyg._validation import check_int
from gen_pyg.nn._checks import batch_vector, num_examples


def _example_of(data: Data, key: str, size: int) -> Tensor:
    vec = batch_vector(data, key, size)
    return torch.zeros(size, dtype=torch.long, device=data[key].device) if vec is None else vec


class InputOffset(torch.nn.Module):
    r"""Wraps a model of input functions (a :class:`~gen_pyg.nn.GEN` or a
    :class:`~gen_pyg.nn.NeuralProcess`) so that it predicts relative to the mean sample value of
    one input function in the same example:

    .. math::
        \hat{y}(\mathbf{q}) = f_\theta(\mathbf{q}) + \frac{1}{|P_c|} \sum_{p \in P_c} x_p,

    where :math:`P_c` are the example's samples with ``input_fn == function``. The wrapped
    model then learns only what the offset does not explain. On the Poisson houses
    (:class:`~gen_pyg.datasets.PoissonSquare`) the wall samples (function 1) all carry the wall
    temperature :math:`T`, the solution's boundary value, so with ``function=1`` the model
    learns :math:`\varphi - T`, the part the heaters cause; the offset is exact, not learnt.

    Args:
        model (torch.nn.Module): maps a batch of examples to ``[Q, C]`` predictions at
            ``data.query_pos``.
        function (int, optional): the input function whose mean is added; its samples must
            have as many channels as the predictions. (default: :obj:`1`)

    Shapes:
        - **input:** what :obj:`model` takes, with ``input_x`` :math:`(P, C)`, ``input_fn``
          :math:`(P,)` and ``query_pos`` :math:`(Q, D)` (and their ``_batch`` vectors in a batch)
        - **output:** :math:`(Q, C)`

    Example:
        >>> from gen_pyg.nn import GEN
        >>> from gen_pyg.testing import make_example
        >>> model = InputOffset(GEN(in_channels=[1, 1], out_channels=1), function=1)
        >>> model(make_example(num_queries=5, in_channels=[1, 1])).shape
        torch.Size([5, 1])
    """

    def __init__(self, model: torch.nn.Module, function: int = 1) -> None:
        super().__init__()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        check_int(function, "function", 0)
        self.model = model
        self.function = function

    def offset(self, data: Data) -> Tensor:
        """The mean of function :attr:`function`'s sample values per example, ``[B, C]``."""
        for key in ("input_x", "input_fn", "query_pos"):
            if not isinstance(getattr(data, key, None), Tensor):
                raise ValueError(f"InputOffset needs data.{key}")
        mask = data.input_fn == self.function
        examples = num_examples(data)
        index = _example_of(data, "input_pos", data.input_x.size(0))[mask]
        counts = torch.bincount(index, minlength=examples)
        if bool((counts == 0).any()):
            missing = int((counts == 0).nonzero()[0])
            raise ValueError(f"InputOffset(function={self.function}): example {missing} has no "
                             f"sample with input_fn == {self.function}")
        mean: Tensor = scatter(data.input_x[mask], index, 0, examples, reduce="mean")
        return mean

    def forward(self, data: Data) -> Tensor:
        out: Tensor = self.model(data)
        offset = self.offset(data)
        if offset.size(-1) != out.size(-1):
            raise ValueError(f"InputOffset(function={self.function}): the function's samples "
                             f"have {offset.size(-1)} channels but the model predicts "
                             f"{out.size(-1)}")
        return out + offset[_example_of(data, "query_pos", data.query_pos.size(0))]

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.model}, function={self.function})"
