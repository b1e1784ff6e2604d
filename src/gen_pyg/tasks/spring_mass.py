r"""The ``spring_mass`` task: an :class:`~gen_pyg.nn.InteractionNetwork` learns the
accelerations of the masses of spring chains (:class:`~gen_pyg.datasets.SpringMass`
snapshots, each carrying its own graph) on the :class:`~gen_pyg.training.Trainer`, then rolls
out on longer chains (:func:`rollout_spring_model`, :func:`run_spring_experiment`).

:func:`train_spring_model` is the reference loop the spring-mass benchmark times against the
batched models; the workflow trains on the Trainer."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from gen_pyg._validation import check_int
from gen_pyg.datasets import SpringMass
from gen_pyg.nn import InteractionNetwork
from gen_pyg.solvers import spring_graph_energy
from gen_pyg.solvers.spring_chain import semi_implicit_euler
from gen_pyg.training import DataConfig, ModelConfig, Task, TrainConfig, Trainer
from gen_pyg.viz import plot_spring_errors, plot_spring_positions

__all__ = ["SPRING_MASS", "GraphModel", "evaluate_spring_model", "rollout_spring_model",
           "run_spring_experiment", "train_spring_model"]


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
    check_int(epochs, "epochs", 0)
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


def spring_splits(cfg: DataConfig, log: bool) -> dict[str, Any]:
    """``train`` (seed ``cfg.seed``), ``test`` (seed + 1) and ``val`` (seed + 1000) snapshots of
    3-mass chains with the time step ``options["dt"]``."""
    dt = cfg.options["dt"]
    assert cfg.num_instances is not None and cfg.num_test_instances is not None
    num_train = cfg.num_instances - cfg.num_test_instances - cfg.num_val_instances
    root = str(cfg.root)
    out = {"train": SpringMass(root, num_graphs=num_train, dt=dt, seed=cfg.seed, log=log),
           "test": SpringMass(root, num_graphs=cfg.num_test_instances, dt=dt,
                              seed=cfg.seed + 1, log=log)}
    if cfg.num_val_instances:
        out["val"] = SpringMass(root, num_graphs=cfg.num_val_instances, dt=dt,
                                seed=cfg.seed + 1000, log=log)
    return out


class GraphModel(torch.nn.Module):
    """A tensor-level graph model ``net(x, edge_index, edge_attr)`` called on a batch, the
    form the :class:`~gen_pyg.training.Trainer` calls (``model(batch)``).

    Example:
        >>> from gen_pyg.datasets import spring_chain_graph
        >>> graph = spring_chain_graph(torch.randn(4), torch.zeros(4))
        >>> GraphModel(InteractionNetwork())(graph).shape
        torch.Size([4, 1])
    """

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, batch: Data | Batch) -> Tensor:
        return _predict(self.net, batch)


def spring_model(cfg: ModelConfig) -> torch.nn.Module:
    """An :class:`~gen_pyg.nn.InteractionNetwork` of width ``latent_channels`` on batches."""
    return GraphModel(InteractionNetwork(hidden_channels=cfg.latent_channels))


def _check_options(options: dict[str, Any]) -> None:
    dt = options["dt"]
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not 0 < dt < math.inf:
        raise ValueError(f"options['dt'] must be a positive finite number, got {dt!r}")


def _rmse(a: Tensor, b: Tensor) -> float:
    return float((a - b).double().square().mean().sqrt())


#: Spring-mass chains: 2200 snapshots of 3-mass chains (200 for testing), each carrying its
#: own graph, plain mini-batches, the per-node MSE of the accelerations.
SPRING_MASS = Task(
    "spring_mass", "the accelerations of the masses of spring chains, rolled out on longer "
    "chains (an interaction network, not a GEN)", spring_splits, spring_model,
    lambda cfg: None, group_by=None, instance="snapshot", num_instances=2200,
    num_test_instances=200, options={"dt": 0.01},
    option_help={"dt": "time step of the chains (s): the snapshots' accelerations and the "
                       "rollouts"}, check_options=_check_options)


def run_spring_experiment(
    out_dir: str | Path,
    *,
    epochs: int = 40,
    batch_size: int = 64,
    lr: float = 3e-2,
    final_lr: float = 0.0,
    num_train: int = 2000,
    num_test: int = 200,
    num_steps: int = 500,
    dt: float = 0.01,
    hidden_channels: int = 32,
    long_chains: tuple[int, ...] = (10, 100),
    num_rollout_chains: int = 20,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    r"""Generate spring-chain data, train an :class:`~gen_pyg.nn.InteractionNetwork` on
    3-mass snapshots with the :class:`~gen_pyg.training.Trainer` (the :data:`SPRING_MASS`
    task: plain mini-batches of ``batch_size`` snapshots, Adam with :math:`\beta_2 = 0.95`, a
    cosine schedule per step to ``final_lr``), and roll it out on 3-mass and longer chains.

    Writes into ``out_dir``: the generated data (``data/``), the run folder (``run/``:
    ``config.json``, ``metrics.jsonl``, ``checkpoint.pt``), ``metrics.json``,
    ``positions.png`` (learned vs true positions of a 3-mass chain), ``positions_<n>.png``
    for each longer chain length, and ``errors.png`` (rollout RMSE and energy over time).

    Args:
        out_dir (str or pathlib.Path): Output directory (created if missing).
        epochs (int, optional): Training epochs. (default: :obj:`40`)
        batch_size (int, optional): Graphs per mini-batch. (default: :obj:`64`)
        lr (float, optional): Initial Adam learning rate (with :math:`\beta_2 = 0.95`).
            (default: :obj:`3e-2`)
        final_lr (float, optional): Learning rate at the end of the cosine schedule.
            (default: :obj:`0.0`)
        num_train (int, optional): Training snapshots. (default: :obj:`2000`)
        num_test (int, optional): Test snapshots. (default: :obj:`200`)
        num_steps (int, optional): Rollout steps. (default: :obj:`500`)
        dt (float, optional): Time step. (default: :obj:`0.01`)
        hidden_channels (int, optional): Hidden width. (default: :obj:`32`)
        long_chains (tuple of int, optional): Longer chain lengths for the generalisation
            rollouts. (default: :obj:`(10, 100)`)
        num_rollout_chains (int, optional): Chains per rollout set. (default: :obj:`20`)
        seed (int, optional): Seed of data and weights. (default: :obj:`0`)
        progress (bool, optional): Show progress bars. (default: :obj:`True`)

    Returns:
        dict: The metrics also written to ``metrics.json``: ``test_mse`` (acceleration),
        ``train_seconds``, and per chain length the rollout position RMSE against the
        integrator with exact forces (``rmse_vs_euler``) and against the exact solution
        (``rmse_vs_exact``), the integrator's own error (``integrator_rmse``) and the mean
        relative energy drift of the learned rollout.

    Example:
        >>> import tempfile
        >>> metrics = run_spring_experiment(
        ...     tempfile.mkdtemp(), epochs=1, num_train=64, num_test=16, num_steps=20,
        ...     long_chains=(5,), num_rollout_chains=2, progress=False
        ... )
        >>> sorted(metrics["rollout"])
        ['3', '5']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    root = str(out / "data")
    data = DataConfig("spring_mass", root=root, num_instances=num_train + num_test,
                      num_test_instances=num_test, seed=seed, options={"dt": dt})
    splits = spring_splits(data, False)
    train, test = splits["train"], splits["test"]
    config = TrainConfig(epochs=epochs, lr=lr, schedule="cosine", min_lr_ratio=final_lr / lr,
                         beta2=0.95, group_size=batch_size, seed=seed, progress=progress,
                         **SPRING_MASS.train_settings())
    torch.manual_seed(seed)
    model = InteractionNetwork(hidden_channels=hidden_channels)
    wrapped = GraphModel(model)
    trainer = Trainer(wrapped, train, config=config, run_dir=out / "run")
    trainer.fit()
    seconds = trainer.train_seconds
    metrics: dict[str, Any] = {
        "model": str(model),
        "epochs": epochs,
        "train_seconds": seconds,
        "train_mse": trainer.history[-1]["train_mse"] if trainer.history else None,
        "test_mse": evaluate_spring_model(model, DataLoader(test, batch_size=batch_size)),
        "rollout": {},
    }
    times = torch.arange(num_steps + 1) * dt
    errors: dict[str, Tensor] = {}
    energies: dict[str, Tensor] = {}
    for n in (3, *long_chains):
        traj = SpringMass(root, num_graphs=num_rollout_chains, num_masses=n, mode="trajectory",
                          num_steps=num_steps, dt=dt, seed=seed + 2 + n, log=False)
        batch = Batch.from_data_list(list(traj))
        pos, vel = rollout_spring_model(model, batch, num_steps, dt)
        energy = spring_graph_energy(pos, vel, batch.edge_index, batch.stiffness, batch.mass,
                                     batch.batch, batch.num_graphs)
        metrics["rollout"][str(n)] = {
            "chains": num_rollout_chains,
            "rmse_vs_euler": _rmse(pos, batch.euler_pos),
            "rmse_vs_exact": _rmse(pos, batch.exact_pos),
            "integrator_rmse": _rmse(batch.euler_pos, batch.exact_pos),
            "energy_drift": float(((energy - energy[:, :1]).abs().amax(1) / energy[:, 0]).mean()),
        }
        errors[f"model vs Euler, {n} masses"] = (pos - batch.euler_pos).square().mean(0).sqrt()
        name = "positions.png" if n == 3 else f"positions_{n}.png"
        plot_spring_positions(times, pos[:n], batch.euler_pos[:n], max_masses=6,
                              title=f"{n}-mass chain: learned (dashed) vs true physics",
                              path=out / name)
        if n == 3:
            errors["Euler vs exact, 3 masses"] = (
                (batch.euler_pos - batch.exact_pos).square().mean(0).sqrt()
            )
            true_energy = spring_graph_energy(batch.exact_pos, batch.exact_vel,
                                              batch.edge_index, batch.stiffness, batch.mass,
                                              batch.batch, batch.num_graphs)
            energies = {"exact": true_energy.mean(0), "learned": energy.mean(0)}
    import matplotlib.pyplot as plt

    plt.close("all")
    fig = plot_spring_errors(times, errors, energies, path=out / "errors.png")
    plt.close(fig)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
