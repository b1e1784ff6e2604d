"""A model averaged over the symmetries of its domain."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import _value_checks_active
from gen_pyg.ops.symmetry import square_symmetry

GROUPS = ("square",)
#: Slack of the box check, relative to the side of the square (rounding of points on its edge).
BOX_RTOL = 1e-6


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

    The points must lie in the square: the symmetries of a point outside it are not points of
    the data's domain. The call refuses such points with a ``ValueError`` naming the first;
    the check is one scan and one device sync per call, skipped with
    :func:`gen_pyg.set_value_checks` ``(False)`` and while compiling.

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
        >>> from gen_pyg.ops.symmetry import square_symmetry
        >>> model = SymmetryAverage(GEN.paper(in_channels=[1, 1]).eval())
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

    def check_in_box(self, data: Data) -> None:
        """Raise ``ValueError`` naming the first point of :attr:`keys` outside the square
        :math:`[lo, hi]^2` (to a slack of ``1e-6`` of its side); one device sync for all keys.
        Skipped when value checks are off (:func:`gen_pyg.set_value_checks`) or compiling."""
        if not _value_checks_active(region=False):
            return
        slack = BOX_RTOL * (self.hi - self.lo)
        points = [(key, pos.detach()) for key in self.keys
                  if isinstance(pos := getattr(data, key, None), Tensor) and pos.dim() == 2
                  and pos.size(-1) == 2 and pos.numel()]  # square_symmetry names the others
        outside = [((p < self.lo - slack) | (p > self.hi + slack)).any(dim=1) for _, p in points]
        if not outside or not bool(torch.stack([o.any() for o in outside]).any()):
            return
        for (key, pos), bad in zip(points, outside, strict=True):
            if bool(bad.any()):
                i = int(bad.nonzero()[0])
                x, y = pos[i].tolist()
                raise ValueError(
                    f"data.{key}[{i}] = ({x:.6g}, {y:.6g}) lies outside the square "
                    f"[{self.lo:g}, {self.hi:g}]^2 whose symmetries SymmetryAverage averages "
                    f"over (its images are not points of the domain); give the square of the "
                    f"data as lo= and hi=, or keep data.{key} inside it")

    def forward(self, data: Data) -> Tensor:
        self.check_in_box(data)
        total: Tensor | None = None
        for index in range(self.order):
            out: Tensor = self.model(self.transform(data, index))
            total = out if total is None else total + out
        assert total is not None
        return total / self.order

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.model}, group={self.group!r}, "
                f"lo={self.lo}, hi={self.hi})")
