"""A model averaged over the symmetries of its domain."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.ops.symmetry import square_symmetry

GROUPS = ("square",)


class SymmetryAverage(torch.nn.Module):
    r"""Wraps a model of input functions (a :class:`~gen_pyg.nn.GEN`, a
    :class:`~gen_pyg.nn.NeuralProcess`, ...) so that it predicts the average of the model over
    the symmetry group :math:`G` of the domain:

    .. math::
        \hat{y}(\mathbf{q}) = \frac{1}{|G|} \sum_{g \in G}
        f_\theta\big(\{(g\,\mathbf{p}, x_p)\}_p\big)(g\,\mathbf{q}),

    every sample position :math:`\mathbf{p}` and query :math:`\mathbf{q}` moved by :math:`g`
    (the mesh, if the example carries one, stays where it is). Where the physics is invariant
    under :math:`G` (the Poisson houses in the unit square are: a rotated or reflected house
    is a valid house whose solution is the rotated or reflected solution) the averaged model
    is exactly invariant, :math:`\hat{y}` of a moved example equals :math:`\hat{y}` at the
    moved queries, whatever the weights; a model trained with the symmetries as augmentation
    (:class:`~gen_pyg.training.TrainConfig` ``augment="square"``) is only approximately so, and
    the average removes the part of its error that changes from one symmetric image to the
    next. It costs :math:`|G|` forward passes (8 for the square); wrap a trained model for
    evaluation, or train through the wrapper (8 times the cost per step). The outputs are
    averaged as they are, so they must be scalar fields (temperatures), not vectors or
    gradients that would turn with the domain.

    Args:
        model (torch.nn.Module): maps a batch of examples to ``[Q, C]`` predictions at
            ``data.query_pos``.
        group (str, optional): ``"square"``: the 8 rotations and reflections of the square
            :math:`[lo, hi]^2` (:func:`~gen_pyg.training.square_symmetry`).
            (default: :obj:`"square"`)
        keys (sequence of str, optional): the point attributes moved by each symmetry.
            (default: :obj:`("input_pos", "query_pos")`)
        lo (float, optional): lower corner coordinate of the square. (default: :obj:`0.0`)
        hi (float, optional): upper corner coordinate of the square. (default: :obj:`1.0`)

    Shapes:
        - **input:** what :obj:`model` takes, with the :obj:`keys` as :math:`(*, 2)` points
        - **output:** what :obj:`model` returns

    Example:
        >>> from gen_pyg.nn import GEN
        >>> from gen_pyg.testing import make_example
        >>> from gen_pyg.training import square_symmetry
        >>> model = SymmetryAverage(GEN(in_channels=[1, 1], out_channels=1).eval())
        >>> data = make_example(num_queries=5, in_channels=[1, 1])
        >>> out = model(data)
        >>> torch.allclose(model(square_symmetry(data, 3)), out, atol=1e-5)
        True
    """

    def __init__(self, model: torch.nn.Module, group: str = "square",
                 keys: Sequence[str] = ("input_pos", "query_pos"), lo: float = 0.0,
                 hi: float = 1.0) -> None:
        super().__init__()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if group not in GROUPS:
            raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
        if isinstance(keys, str) or not keys or not all(isinstance(k, str) for k in keys):
            raise ValueError(f"keys must be a non-empty sequence of attribute names, got "
                             f"{keys!r}")
        lo, hi = float(lo), float(hi)
        if not lo < hi:
            raise ValueError(f"lo must be below hi (the square [lo, hi]^2), got lo={lo}, "
                             f"hi={hi}")
        self.model = model
        self.group = group
        self.keys = tuple(keys)
        self.lo, self.hi = lo, hi

    @property
    def order(self) -> int:
        """The number of symmetries averaged over (forward passes per call)."""
        return 8

    def transform(self, data: Data, index: int) -> Data:
        """A shallow copy of :obj:`data` with the :attr:`keys` moved by symmetry
        :obj:`index` (0 is the identity, returned as it is)."""
        return square_symmetry(data, index, self.keys, self.lo, self.hi)

    def forward(self, data: Data) -> Tensor:
        total: Tensor | None = None
        for index in range(self.order):
            out: Tensor = self.model(self.transform(data, index))
            total = out if total is None else total + out
        assert total is not None
        return total / self.order

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.model}, group={self.group!r}, "
                f"lo={self.lo}, hi={self.hi})")
