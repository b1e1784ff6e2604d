"""What a task optimises and reports: losses and metrics as sums over terms.

Every loss and metric of the :class:`~gen_pyg.training.Trainer` is an :class:`Objective`:
called as ``objective(pred, batch)`` it returns ``(sum over terms, number of terms)``, so that
the engine weighs every term of a step equally however the step's examples are split into
groups and processes, and evaluation over many batches is exact (sum the sums, divide once).
:meth:`Objective.terms` tells the number of terms of a batch before the forward pass, which is
what lets a data-parallel step scale every process's gradient by the same global count.

The built-in objectives are registered by name in :data:`OBJECTIVES` (``"mse"``, ``"rmse"``,
``"mae"``, ``"cross_entropy"``, ``"accuracy"``, ``"retrieval_cross_entropy"``,
``"retrieval_accuracy"``); :func:`get_objective` resolves a name, an :class:`Objective` or any
callable ``fn(pred, batch) -> mean loss over the batch's examples``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "OBJECTIVES",
    "Accuracy",
    "CrossEntropy",
    "EveryLevel",
    "FunctionObjective",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Objective",
    "RetrievalAccuracy",
    "RetrievalCrossEntropy",
    "RootMeanSquaredError",
    "get_objective",
]


def _num_examples(batch: Any) -> int:
    num = getattr(batch, "num_graphs", None)
    return int(num) if num is not None else 1


class Objective:
    """A loss or a metric: ``objective(pred, batch) -> (sum over terms, number of terms)``.

    Subclasses set :attr:`name` (the key of metrics files and tables), :attr:`higher_is_better`
    (how early stopping and the plateau schedule read it) and implement :meth:`__call__` and
    :meth:`terms`; :meth:`finish` turns the mean over all terms into the reported value (the
    square root for :class:`RootMeanSquaredError`).
    """

    name: str = "objective"
    higher_is_better: bool = False

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        raise NotImplementedError

    def terms(self, batch: Any) -> int:
        """The number of terms :obj:`batch` contributes (known before the forward pass)."""
        raise NotImplementedError

    def finish(self, mean: float) -> float:
        """The reported value of the mean over all terms."""
        return mean

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class _TargetObjective(Objective):
    """An objective comparing the prediction with the batch attribute :obj:`target`."""

    def __init__(self, target: str = "y") -> None:
        if not isinstance(target, str) or not target:
            raise ValueError(f"target must be a non-empty attribute name, got {target!r}")
        self.target = target

    def _target(self, batch: Any) -> Tensor:
        value = getattr(batch, self.target, None)
        if not isinstance(value, Tensor):
            raise ValueError(f"the batch has no tensor '{self.target}' (the targets of "
                             f"{self.__class__.__name__})")
        return value

    def __repr__(self) -> str:
        arg = "" if self.target == "y" else f"target={self.target!r}"
        return f"{self.__class__.__name__}({arg})"


class _Regression(_TargetObjective):
    def _pair(self, pred: Any, batch: Any) -> tuple[Tensor, Tensor]:
        y = self._target(batch)
        if not isinstance(pred, Tensor) or pred.shape != y.shape:
            shape = tuple(pred.shape) if isinstance(pred, Tensor) else type(pred).__name__
            raise ValueError(f"the model returned {shape} but the targets '{self.target}' "
                             f"have shape {tuple(y.shape)}")
        return pred, y

    def terms(self, batch: Any) -> int:
        return int(self._target(batch).numel())


class MeanSquaredError(_Regression):
    r"""Squared error summed over every entry of the target :math:`\sum (\hat y - y)^2`, one
    term per entry: the mean is the MSE.

    Example:
        >>> from torch_geometric.data import Data
        >>> MeanSquaredError()(torch.tensor([[1.0], [3.0]]), Data(y=torch.tensor([[0.0], [1.0]])))
        (tensor(5.), 2)
    """

    name = "mse"

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        pred, y = self._pair(pred, batch)
        return ((pred - y.to(pred.dtype)) ** 2).sum(), y.numel()


class RootMeanSquaredError(MeanSquaredError):
    """:class:`MeanSquaredError` reported as its square root (the RMSE)."""

    name = "rmse"

    def finish(self, mean: float) -> float:
        return math.sqrt(mean)


class MeanAbsoluteError(_Regression):
    """Absolute error summed over every entry of the target; the mean is the MAE."""

    name = "mae"

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        pred, y = self._pair(pred, batch)
        return (pred - y.to(pred.dtype)).abs().sum(), y.numel()


class _Classification(_TargetObjective):
    def _pair(self, logits: Any, batch: Any) -> tuple[Tensor, Tensor]:
        y = self._target(batch).view(-1)
        if not isinstance(logits, Tensor) or logits.dim() != 2 or logits.size(0) != y.numel():
            shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
            raise ValueError(f"{self.__class__.__name__} needs logits [N, classes] with one row "
                             f"per class label in '{self.target}' ({y.numel()}), got {shape}")
        if y.is_floating_point():
            raise ValueError(f"the class labels '{self.target}' must be integers, got {y.dtype}")
        return logits, y.long()

    def terms(self, batch: Any) -> int:
        return int(self._target(batch).numel())


class CrossEntropy(_Classification):
    """Cross-entropy of logits ``[N, classes]`` against integer labels (one term per row).

    Example:
        >>> from torch_geometric.data import Data
        >>> loss, n = CrossEntropy()(torch.zeros(2, 4), Data(y=torch.tensor([1, 3])))
        >>> round(float(loss) / n, 4), n  # log(4)
        (1.3863, 2)
    """

    name = "cross_entropy"

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        logits, y = self._pair(pred, batch)
        return F.cross_entropy(logits.float(), y, reduction="sum"), y.numel()


class Accuracy(_Classification):
    """Share of rows whose largest logit is the label.

    Example:
        >>> from torch_geometric.data import Data
        >>> Accuracy()(torch.tensor([[0.0, 1.0], [2.0, 1.0]]), Data(y=torch.tensor([1, 1])))
        (tensor(1.), 2)
    """

    name = "accuracy"
    higher_is_better = True

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        logits, y = self._pair(pred, batch)
        return (logits.argmax(dim=-1) == y).sum().to(logits.dtype), y.numel()


class _Retrieval(Objective):
    """Logits ``[Q, K]`` over K candidates whose true candidate for row ``q`` is ``q`` (the
    queries' own candidates come first), as :class:`~gen_pyg.nn.SceneRetrieval` returns."""

    def __init__(self, query: str = "query_pos") -> None:
        self.query = query

    def _logits(self, pred: Any) -> Tensor:
        if not isinstance(pred, Tensor) or pred.dim() != 2 or pred.size(1) < pred.size(0):
            shape = tuple(pred.shape) if isinstance(pred, Tensor) else type(pred).__name__
            raise ValueError(f"{self.__class__.__name__} needs logits [Q, K] with K >= Q "
                             f"candidates, got {shape}")
        return pred

    def terms(self, batch: Any) -> int:
        value = getattr(batch, self.query, None)
        if not isinstance(value, Tensor):
            raise ValueError(f"the batch has no tensor '{self.query}' (one row per query)")
        return int(value.size(0))


class RetrievalCrossEntropy(_Retrieval):
    """Cross-entropy of candidate retrieval: row ``q`` of the logits should pick candidate
    ``q``. One term per query.

    Example:
        >>> RetrievalCrossEntropy()(torch.tensor([[9.0, 0.0], [0.0, 9.0]]), None)[1]
        2
    """

    name = "retrieval_cross_entropy"

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        logits = self._logits(pred)
        target = torch.arange(logits.size(0), device=logits.device)
        return F.cross_entropy(logits.float(), target, reduction="sum"), logits.size(0)


class RetrievalAccuracy(_Retrieval):
    """Share of queries whose largest logit is their own candidate.

    Example:
        >>> RetrievalAccuracy()(torch.tensor([[9.0, 0.0, 1.0], [9.0, 0.0, 1.0]]), None)
        (tensor(1.), 2)
    """

    name = "retrieval_accuracy"
    higher_is_better = True

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        logits = self._logits(pred)
        target = torch.arange(logits.size(0), device=logits.device)
        return (logits.argmax(dim=-1) == target).sum().to(logits.dtype), logits.size(0)


class FunctionObjective(Objective):
    """A plain callable ``fn(pred, batch) -> scalar`` read as the **mean** over the batch's
    examples (``batch.num_graphs`` terms), so that groups of different sizes weigh by their
    examples.

    Args:
        fn (callable): the function.
        name (str, optional): its key in metrics files. (default: the function's name)
        higher_is_better (bool, optional): for metrics watched by early stopping.
            (default: :obj:`False`)
    """

    def __init__(self, fn: Callable[[Any, Any], Tensor], name: str | None = None,
                 higher_is_better: bool = False) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = str(name or getattr(fn, "__name__", "loss"))
        self.higher_is_better = higher_is_better

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        value = self.fn(pred, batch)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(f"the objective {self.name!r} must return a scalar tensor (the mean "
                             f"over the batch's examples), got {type(value).__name__}")
        n = _num_examples(batch)
        return value.reshape(()) * n, n

    def terms(self, batch: Any) -> int:
        return _num_examples(batch)

    def __repr__(self) -> str:
        return f"FunctionObjective({self.name!r})"


#: The built-in objectives by name.
OBJECTIVES: dict[str, Callable[[], Objective]] = {
    "mse": MeanSquaredError,
    "rmse": RootMeanSquaredError,
    "mae": MeanAbsoluteError,
    "cross_entropy": CrossEntropy,
    "accuracy": Accuracy,
    "retrieval_cross_entropy": RetrievalCrossEntropy,
    "retrieval_accuracy": RetrievalAccuracy,
}


def check_level_weight(value: object, name: str) -> float | None:
    """:obj:`value` as the weight of the finest level of :class:`EveryLevel`: a number in
    :math:`(0, 1]`, or :obj:`None` (every level weighs the same); else a :class:`ValueError`
    naming :obj:`name`."""
    if value is None:
        return None
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 < value <= 1):
        raise ValueError(f"{name} must be a number in (0, 1] or None, got {value!r}")
    return float(value)


class EveryLevel(Objective):
    """:obj:`objective` on every prediction of a list (deep supervision): a model that returns
    one prediction per level in training, coarse to fine (:class:`~gen_pyg.nn.MultilevelGEN`
    with ``supervise=True``), is trained on the mean of :obj:`objective` over its levels; a
    single prediction (the model in evaluation) is scored as :obj:`objective` scores it.

    Args:
        objective (str, Objective or callable): the objective of each level (as
            :func:`get_objective` takes it).
        finest (float, optional): the weight of the last (finest) prediction, the coarser
            ones sharing the rest equally; :obj:`None` weighs every level equally.
            (default: :obj:`None`)

    Example:
        >>> from types import SimpleNamespace
        >>> batch = SimpleNamespace(y=torch.zeros(2, 1), num_graphs=1)
        >>> loss = EveryLevel("mse")
        >>> loss([torch.ones(2, 1), torch.zeros(2, 1)], batch)  # (2 + 0) / 2 over 2 terms
        (tensor(1.), 2)
    """

    def __init__(self, objective: str | Objective | Callable[[Any, Any], Tensor],
                 finest: float | None = None) -> None:
        self.objective = get_objective(objective, "objective")
        self.finest = check_level_weight(finest, "finest")
        self.name = self.objective.name
        self.higher_is_better = self.objective.higher_is_better

    def __call__(self, pred: Any, batch: Any) -> tuple[Tensor, int]:
        if not isinstance(pred, (list, tuple)):
            return self.objective(pred, batch)
        if not pred:
            raise ValueError("EveryLevel needs at least one prediction, got an empty list")
        parts = [self.objective(p, batch) for p in pred]
        values = torch.stack([value for value, _ in parts])
        if self.finest is None or len(parts) == 1:
            total = values.sum() / len(parts)
        else:
            total = (self.finest * values[-1]
                     + (1 - self.finest) * values[:-1].sum() / (len(parts) - 1))
        return total, parts[-1][1]

    def terms(self, batch: Any) -> int:
        return self.objective.terms(batch)

    def finish(self, mean: float) -> float:
        return self.objective.finish(mean)

    def __repr__(self) -> str:
        finest = "" if self.finest is None else f", finest={self.finest}"
        return f"{self.__class__.__name__}({self.objective!r}{finest})"


def get_objective(value: str | Objective | Callable[[Any, Any], Tensor],
                  argument: str = "loss") -> Objective:
    """An :class:`Objective` from a registered name, an objective, or a callable returning the
    mean over a batch (wrapped in :class:`FunctionObjective`).

    Example:
        >>> get_objective("mse"), get_objective("accuracy").higher_is_better
        (MeanSquaredError(), True)
    """
    if isinstance(value, Objective):
        return value
    if isinstance(value, str):
        if value not in OBJECTIVES:
            raise ValueError(f"{argument} must be one of {sorted(OBJECTIVES)}, an Objective or a "
                             f"callable, got {value!r}")
        return OBJECTIVES[value]()
    if callable(value):
        return FunctionObjective(value)
    raise TypeError(f"{argument} must be a name, an Objective or a callable, got "
                    f"{type(value).__name__}")
