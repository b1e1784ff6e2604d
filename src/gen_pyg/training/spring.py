r"""Mini-batch training of per-node dynamics models on spring chains, evaluation, and batched
rollouts of a learned model."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gen_pyg.solvers.spring_chain import semi_implicit_euler

__all__ = ["evaluate_spring_model", "rollout_spring_model", "train_spring_model"]


def _predict(model: torch.nn.Module, data: Data | Batch, x: Tensor | None = None) -> Tensor:
    edge_attr = data.edge_attr if "edge_attr" in data else None
    out: Tensor = model(data.x if x is None else x, data.edge_index, edge_attr)
    return out


def _check_target(data: Data | Batch, out: Tensor) -> Tensor:
    y = data.y
    if y is None:
        raise ValueError("the graphs must carry targets in 'y'")
    if y.dim() == 1:
        y = y.unsqueeze(-1)
    if out.shape != y.shape:
        raise ValueError(
            f"the model predicts shape {tuple(out.shape)} but the targets 'y' have shape "
            f"{tuple(y.shape)}"
        )
    return y  # type: ignore[no-any-return]


def _adam(
    model: torch.nn.Module, lr: float, betas: tuple[float, float]
) -> torch.optim.Optimizer:
    """Adam, fused into one kernel per step where every parameter allows it."""
    params = [p for p in model.parameters() if p.requires_grad]
    fusable = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fusable and bool(params))


def train_spring_model(
    model: torch.nn.Module,
    loader: Iterable[Batch],
    *,
    epochs: int = 100,
    lr: float = 1e-3,
    final_lr: float | None = None,
    betas: tuple[float, float] = (0.9, 0.999),
    cache_batches: bool = False,
    test_loader: Iterable[Batch] | None = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    r"""Fit a per-node model to the targets ``y`` by mean squared error with Adam.

    Each step takes one mini-batch of graphs from ``loader`` (typically a
    :class:`torch_geometric.loader.DataLoader` over :class:`~gen_pyg.datasets.SpringMass`),
    runs ``model(batch.x, batch.edge_index, batch.edge_attr)`` once on the whole batch and
    minimises

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{V}| C} \sum_{i \in \mathcal{V}} \lVert
        f_\theta(\mathcal{G})_i - \mathbf{y}_i \rVert^2 .

    With ``final_lr`` the learning rate follows a cosine from ``lr`` down to ``final_lr``,
    updated after every step (after every epoch when ``loader`` has no length). The batches
    are used on the device they come on, which must be the model's.

    For small graphs, collating a mini-batch costs more than the training step itself. With
    ``cache_batches=True`` the loader's mini-batches are collated once, in the first epoch,
    and every later epoch visits the same batches in a new random order; the composition of
    each mini-batch is then fixed, which makes little difference on data sets like
    :class:`~gen_pyg.datasets.SpringMass` and saves most of the time.

    Args:
        model (torch.nn.Module): Maps ``(x, edge_index, edge_attr)`` to ``[num_nodes, C]``.
        loader (iterable): Yields batches with ``x``, ``edge_index`` and ``y`` (``[N, C]``).
        epochs (int, optional): Passes over ``loader``. (default: :obj:`100`)
        lr (float, optional): Adam learning rate. (default: :obj:`1e-3`)
        final_lr (float, optional): Learning rate at the end of a cosine schedule;
            :obj:`None` keeps ``lr`` constant. (default: :obj:`None`)
        betas (tuple, optional): Adam's decay rates of the gradient moments.
            (default: :obj:`(0.9, 0.999)`)
        cache_batches (bool, optional): Collate the batches once and reuse them in every
            epoch, shuffled. (default: :obj:`False`)
        test_loader (iterable, optional): Evaluated after every epoch when given.
            (default: :obj:`None`)
        progress (bool, optional): Show a :mod:`tqdm` progress bar. (default: :obj:`True`)

    Returns:
        dict: ``"train_mse"`` (mean over the batches of each epoch) and, with a
        ``test_loader``, ``"test_mse"``: one value per epoch.

    Example:
        >>> import tempfile
        >>> from torch_geometric.loader import DataLoader
        >>> from gen_pyg.datasets import SpringMass
        >>> from gen_pyg.nn import InteractionNetwork
        >>> data = SpringMass(tempfile.mkdtemp(), num_graphs=64)
        >>> history = train_spring_model(
        ...     InteractionNetwork(), DataLoader(data, batch_size=16), epochs=2, progress=False
        ... )
        >>> len(history["train_mse"])
        2
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int):
        raise TypeError(f"'epochs' must be an int, got {type(epochs).__name__}")
    if epochs < 0:
        raise ValueError(f"'epochs' must be non-negative, got {epochs}")
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"'lr' must be finite and positive, got {lr}")
    if final_lr is not None and (not math.isfinite(final_lr) or final_lr < 0):
        raise ValueError(f"'final_lr' must be finite and non-negative, got {final_lr}")
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"'betas' must be two numbers in [0, 1), got {betas!r}")
    from tqdm.auto import tqdm

    optimizer = _adam(model, lr, betas)
    cached: list[Batch] = []
    try:
        steps_per_epoch = len(loader)  # type: ignore[arg-type]
    except TypeError:
        steps_per_epoch = 1  # unknown length: the schedule advances once per epoch
    total_steps = max(1, epochs * steps_per_epoch)
    schedule: torch.optim.lr_scheduler.LRScheduler | None = None
    if final_lr is not None:
        floor = final_lr / lr

        def cosine(step: int) -> float:
            # the closed form, held at final_lr after total_steps (no restart)
            return floor + (1.0 - floor) * 0.5 * (
                1.0 + math.cos(math.pi * min(step, total_steps) / total_steps)
            )

        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)

    history: dict[str, list[float]] = {"train_mse": []}
    if test_loader is not None:
        history["test_mse"] = []
    bar = tqdm(range(epochs), desc="train", unit="epoch", disable=not progress)
    for epoch in bar:
        model.train()
        if cache_batches and epoch > 0:
            batches: Iterable[Batch] = [cached[i] for i in torch.randperm(len(cached)).tolist()]
        else:
            batches = loader
        total, count = 0.0, 0
        for batch in batches:
            if cache_batches and epoch == 0:
                cached.append(batch)
            optimizer.zero_grad(set_to_none=True)
            out = _predict(model, batch)
            loss = torch.nn.functional.mse_loss(out, _check_target(batch, out))
            torch.autograd.backward(loss)
            optimizer.step()
            total += float(loss.detach())
            count += 1
            if schedule is not None and steps_per_epoch > 1:
                schedule.step()
        if count == 0:
            raise ValueError("'loader' yielded no batches")
        if schedule is not None and steps_per_epoch == 1:
            schedule.step()
        history["train_mse"].append(total / count)
        postfix = {"train_mse": f"{total / count:.3g}"}
        if test_loader is not None:
            history["test_mse"].append(evaluate_spring_model(model, test_loader))
            postfix["test_mse"] = f"{history['test_mse'][-1]:.3g}"
        bar.set_postfix(postfix)
    return history


@torch.no_grad()
def evaluate_spring_model(model: torch.nn.Module, loader: Iterable[Batch]) -> float:
    r"""Mean squared error of ``model`` against ``y`` over every node and output channel.

    Args:
        model (torch.nn.Module): Maps ``(x, edge_index, edge_attr)`` to ``[num_nodes, C]``.
        loader (iterable): Yields batches with ``x``, ``edge_index`` and ``y``.

    Returns:
        float: The mean squared error.

    Example:
        >>> import tempfile
        >>> from torch_geometric.loader import DataLoader
        >>> from gen_pyg.datasets import SpringMass
        >>> from gen_pyg.nn import InteractionNetwork
        >>> data = SpringMass(tempfile.mkdtemp(), num_graphs=8)
        >>> evaluate_spring_model(InteractionNetwork(), DataLoader(data, batch_size=4)) > 0
        True
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in loader:
        out = _predict(model, batch)
        total += float(torch.sum((out - _check_target(batch, out)) ** 2))
        count += out.numel()
    model.train(was_training)
    if count == 0:
        raise ValueError("'loader' yielded no nodes to evaluate")
    return total / count


@torch.no_grad()
def rollout_spring_model(
    model: torch.nn.Module,
    data: Data | Batch,
    num_steps: int,
    dt: float = 0.01,
    *,
    target: Literal["acceleration", "velocity_change"] = "acceleration",
    output_column: int = 0,
) -> tuple[Tensor, Tensor]:
    r"""Run a learned model forward in time with the semi-implicit Euler integrator.

    Column 0 of ``data.x`` is the position and column 1 the velocity; further columns (such
    as the mass) are held fixed. At every step the model is called **once** on the whole
    graph, so a :class:`~torch_geometric.data.Batch` of many chains (of any lengths) advances
    together:

    .. math::
        v_{t+1} = v_t + \Delta t \, \hat{a}(x_t, v_t), \qquad x_{t+1} = x_t + \Delta t \, v_{t+1},

    where :math:`\hat{a}` is the model's output, or the output divided by :math:`\Delta t`
    when the model predicts the velocity change.

    Args:
        model (torch.nn.Module): Maps ``(x, edge_index, edge_attr)`` to ``[num_nodes, C]``.
        data (torch_geometric.data.Data or torch_geometric.data.Batch): Initial state.
        num_steps (int): Number of steps.
        dt (float, optional): Time step. (default: :obj:`0.01`)
        target (str, optional): What the model predicts, ``"acceleration"`` or
            ``"velocity_change"``. (default: :obj:`"acceleration"`)
        output_column (int, optional): Which output column holds that prediction.
            (default: :obj:`0`)

    Returns:
        (torch.Tensor, torch.Tensor): Positions and velocities of every node, shape
        ``[num_nodes, num_steps + 1]``.

    Example:
        >>> from gen_pyg.datasets import spring_chain_graph
        >>> from gen_pyg.nn import InteractionNetwork
        >>> graph = spring_chain_graph(torch.randn(5), torch.zeros(5))
        >>> pos, vel = rollout_spring_model(InteractionNetwork(), graph, num_steps=10)
        >>> pos.shape
        torch.Size([5, 11])
    """
    if target not in ("acceleration", "velocity_change"):
        raise ValueError(f"'target' must be 'acceleration' or 'velocity_change', got {target!r}")
    x = data.x
    if x is None or x.dim() != 2 or x.size(1) < 2:
        raise ValueError("'data.x' must have shape [num_nodes, >= 2] (position, velocity, ...)")
    rest = x[:, 2:]
    scale = 1.0 / dt if target == "velocity_change" else 1.0

    def acceleration(pos: Tensor, vel: Tensor) -> Tensor:
        state = torch.cat([pos.unsqueeze(1), vel.unsqueeze(1), rest], dim=1)
        out = _predict(model, data, state)
        if not -out.size(1) <= output_column < out.size(1):
            raise ValueError(
                f"'output_column' {output_column} is out of range for {out.size(1)} outputs"
            )
        return out[:, output_column] * scale

    was_training = model.training
    model.eval()
    try:
        return semi_implicit_euler(x[:, 0], x[:, 1], acceleration, dt, num_steps)
    finally:
        model.train(was_training)
