"""The GEN paper's protocol for optimised meshes: fit the node positions of an unseen instance on
some of its scenarios with the network frozen, then evaluate on its other scenarios."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.mesh._build import check_int
from gen_pyg.mesh.learnable import LearnableMesh

#: ``loss_fn(mesh_data, batch) -> scalar Tensor``: the loss of a model on one batch of
#: scenarios, given the mesh (whose ``pos`` is attached to :attr:`LearnableMesh.pos`).
MeshLoss = Callable[[Data, Any], Tensor]


@dataclass
class PositionFit:
    """What :func:`fit_and_evaluate` measured.

    Attributes:
        losses (list[float]): loss on the fitting scenarios at each step (before the step).
        eval_before (float): mean loss on the evaluation scenarios with the initial positions.
        eval_after (float): the same after fitting.
    """

    losses: list[float] = field(default_factory=list)
    eval_before: float = math.nan
    eval_after: float = math.nan


@contextmanager
def frozen(model: torch.nn.Module | None, keep: Sequence[Tensor] = ()) -> Iterator[None]:
    """Within the block, :obj:`model` is in eval mode and its parameters (other than those in
    :obj:`keep`) do not require gradients; both are restored afterwards.

    Example:
        >>> lin = torch.nn.Linear(2, 1)
        >>> with frozen(lin):
        ...     lin.weight.requires_grad
        False
        >>> lin.weight.requires_grad, lin.training
        (True, True)
    """
    if model is None:
        yield
        return
    keep_ids = {id(t) for t in keep}
    saved = [(p, p.requires_grad) for p in model.parameters() if id(p) not in keep_ids]
    training = model.training
    try:
        model.eval()
        for p, _ in saved:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)
        model.train(training)


def _reiterable(batches: Iterable[Any]) -> Iterable[Any]:
    if iter(batches) is batches:  # a one-shot iterator: keep its items for the next passes
        batches = list(batches)
    return batches


def _cycle(batches: Iterable[Any], name: str) -> Iterator[Any]:
    while True:
        empty = True
        for b in batches:
            empty = False
            yield b
        if empty:
            raise ValueError(f"{name} must contain at least one batch")


def _scalar(loss: object) -> Tensor:
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        raise TypeError("loss_fn must return a scalar Tensor")
    if not bool(torch.isfinite(loss.detach()).all()):
        raise ValueError(f"loss_fn returned a non-finite loss ({float(loss.detach())})")
    return loss.reshape(())


def fit_positions(
    mesh: LearnableMesh,
    loss_fn: MeshLoss,
    batches: Iterable[Any],
    *,
    model: torch.nn.Module | None = None,
    instance: int | None = None,
    steps: int = 100,
    lr: float = 3e-4,
    optimizer_cls: Callable[..., torch.optim.Optimizer] = torch.optim.Adam,
) -> list[float]:
    r"""Optimise the node positions of one instance of :obj:`mesh` with the network frozen:
    for :obj:`steps` steps (cycling through :obj:`batches`), minimise
    :obj:`loss_fn(mesh.data(instance), batch)` over the positions only, then project them into
    the domain and re-mesh (:meth:`LearnableMesh.post_step`). This is the GEN paper's
    adaptation to an unseen house (Alet et al., 2019, §4.1 "Optimizing node positions"):
    weights trained on all houses, positions fitted on a few scenarios of the new one.

    The loss is a generic callable so that any model fits: it typically attaches
    :obj:`mesh_data` (positions, edges, diameter) to the batch of scenarios and runs the model.
    During fitting, :obj:`model` is in eval mode with gradients off; other instances' positions
    are left untouched.

    Args:
        mesh (LearnableMesh): the mesh to adapt (modified in place).
        loss_fn (callable): :obj:`loss_fn(mesh_data, batch) -> Tensor` (scalar).
        batches (iterable): batches of fitting scenarios (a list, or a re-iterable loader).
        model (torch.nn.Module, optional): the network to freeze. (default: :obj:`None`)
        instance (int, optional): instance of :obj:`mesh` to fit; required when it has several.
            (default: :obj:`None`)
        steps (int, optional): number of optimiser steps. (default: :obj:`100`)
        lr (float, optional): learning rate of the positions. (default: :obj:`3e-4`)
        optimizer_cls (callable, optional): optimiser class, called as
            :obj:`optimizer_cls([mesh.pos], lr=lr)`. (default: :class:`torch.optim.Adam`)

    Returns:
        The loss at each step, before that step's update.
    """
    steps = check_int(steps, "steps", 0)
    i = mesh._index(instance)
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    batches = _reiterable(batches)
    stream = _cycle(batches, "batches")
    optimizer = optimizer_cls([mesh.pos], lr=lr)
    others = None
    if mesh.num_instances is not None:
        others = torch.ones(mesh.num_instances, dtype=torch.bool, device=mesh.pos.device)
        others[i] = False
    losses = []
    requires_grad = mesh.pos.requires_grad
    mesh.pos.requires_grad_(True)
    try:
        with frozen(model, keep=[mesh.pos]):
            for _ in range(steps):
                batch = next(stream)
                optimizer.zero_grad(set_to_none=True)
                loss = _scalar(loss_fn(mesh.data(instance), batch))
                torch.autograd.backward(loss)
                if others is None:
                    optimizer.step()
                else:
                    saved = mesh.pos.detach()[others].clone()
                    optimizer.step()
                    with torch.no_grad():
                        mesh.pos[others] = saved
                mesh.post_step(instance)
                losses.append(float(loss.detach()))
    finally:
        mesh.pos.requires_grad_(requires_grad)
        mesh.pos.grad = None
    return losses


@torch.no_grad()
def evaluate_positions(
    mesh: LearnableMesh,
    loss_fn: MeshLoss,
    batches: Iterable[Any],
    *,
    model: torch.nn.Module | None = None,
    instance: int | None = None,
) -> float:
    """Mean of :obj:`loss_fn(mesh.data(instance), batch)` over :obj:`batches`, without
    gradients and with :obj:`model` in eval mode.

    Example:
        >>> from gen_pyg.mesh import LearnableMesh, grid
        >>> mesh = LearnableMesh(grid(2).pos)
        >>> evaluate_positions(mesh, lambda m, b: m.pos.sum() * b, [1.0, 2.0])
        6.0
    """
    total, count = 0.0, 0
    with frozen(model):
        data = mesh.data(instance)
        for batch in batches:
            total += float(_scalar(loss_fn(data, batch)))
            count += 1
    if count == 0:
        raise ValueError("batches must contain at least one batch")
    return total / count


def fit_and_evaluate(
    mesh: LearnableMesh,
    loss_fn: MeshLoss,
    fit_batches: Iterable[Any],
    eval_batches: Iterable[Any],
    *,
    model: torch.nn.Module | None = None,
    instance: int | None = None,
    steps: int = 100,
    lr: float = 3e-4,
    optimizer_cls: Callable[..., torch.optim.Optimizer] = torch.optim.Adam,
) -> PositionFit:
    """The paper's protocol in one call: evaluate on :obj:`eval_batches`, fit the positions on
    :obj:`fit_batches` (:func:`fit_positions`), evaluate again. Fitting and evaluation
    scenarios should be disjoint scenarios of the same instance.

    Returns:
        A :class:`PositionFit` with the fitting losses and the evaluation loss before and after.
    """
    eval_batches = _reiterable(eval_batches)
    before = evaluate_positions(mesh, loss_fn, eval_batches, model=model, instance=instance)
    losses = fit_positions(
        mesh, loss_fn, fit_batches, model=model, instance=instance, steps=steps, lr=lr,
        optimizer_cls=optimizer_cls,
    )
    after = evaluate_positions(mesh, loss_fn, eval_batches, model=model, instance=instance)
    return PositionFit(losses=losses, eval_before=before, eval_after=after)
