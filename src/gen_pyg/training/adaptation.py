"""The GEN paper's meta-learning protocol for node positions: with the weights frozen, fit
the positions of a mesh to some scenarios of an unseen house and test on its other scenarios."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch_geometric.data import Batch, Data

from gen_pyg.mesh.batching import collate_group, group_examples, replicate_mesh
from gen_pyg.mesh.learnable import LearnableMesh
from gen_pyg.mesh.protocol import fit_and_evaluate


def mse_on_mesh(model: torch.nn.Module, mesh: Data, batch: Batch) -> torch.Tensor:
    """Mean squared error of :obj:`model` on the pre-collated :obj:`batch` put on :obj:`mesh`
    (a :class:`~gen_pyg.mesh.protocol.MeshLoss` once :obj:`model` is bound)."""
    b = replicate_mesh(batch, mesh)
    return torch.nn.functional.mse_loss(model(b), b.y)


def adapt_positions(
    model: torch.nn.Module,
    dataset: Sequence[Data],
    mesh: Data,
    *,
    fit_scenarios: int = 16,
    steps: int = 100,
    lr: float = 3e-4,
    group_by: str = "house",
    edges: str | None = None,
) -> list[dict[str, Any]]:
    """For every house (group) of :obj:`dataset`: start a
    :class:`~gen_pyg.mesh.LearnableMesh` from :obj:`mesh`, fit its positions on the house's
    first :obj:`fit_scenarios` scenarios with :func:`~gen_pyg.mesh.fit_positions` (weights
    frozen), and measure the MSE on the house's other scenarios before (the fixed mesh) and
    after (the fitted positions): the paper's §4.1 "Optimizing node positions".

    Args:
        model (torch.nn.Module): a trained model of the GEN call signature.
        dataset (sequence of Data): scenarios of unseen houses, without meshes.
        mesh (Data): the starting mesh (e.g. :func:`gen_pyg.mesh.grid`).
        fit_scenarios (int, optional): scenarios per house used to fit. (default: :obj:`16`)
        steps (int, optional): optimiser steps per house. (default: :obj:`100`)
        lr (float, optional): learning rate of the positions. (default: :obj:`3e-4`)
        group_by (str, optional): attribute naming the house. (default: :obj:`"house"`)
        edges (str, optional): edge builder after each step (see
            :class:`~gen_pyg.mesh.LearnableMesh`). (default: :obj:`None`, Delaunay)

    Returns:
        One dict per house: ``house`` (group index), ``before``, ``after`` (test MSE on the
        held-out scenarios), ``losses`` (fitting losses) and ``pos`` (fitted positions).
    """
    if not isinstance(fit_scenarios, int) or fit_scenarios < 1:
        raise ValueError(f"fit_scenarios must be a positive integer, got {fit_scenarios!r}")
    device = next(model.parameters()).device
    results = []
    for h, idx in enumerate(group_examples(dataset, group_by, fit_scenarios * 2)):
        if len(idx) <= fit_scenarios:
            raise ValueError(
                f"house {h} has {len(idx)} scenarios; fit_scenarios={fit_scenarios} leaves "
                "none to test on")
        fit = collate_group([dataset[i] for i in idx[:fit_scenarios]], False).to(device)
        test = collate_group([dataset[i] for i in idx[fit_scenarios:]], False).to(device)
        learnable = LearnableMesh(mesh.to(device), edges=edges)

        def loss_fn(mesh_data: Data, batch: Batch) -> torch.Tensor:
            return mse_on_mesh(model, mesh_data, batch)

        fitted = fit_and_evaluate(learnable, loss_fn, [fit], [test], model=model, steps=steps,
                                  lr=lr)
        results.append({"house": h, "before": fitted.eval_before, "after": fitted.eval_after,
                        "losses": fitted.losses, "pos": learnable.pos.detach().cpu()})
    return results
