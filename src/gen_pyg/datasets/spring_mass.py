r"""Spring-mass chains as PyG graphs: random snapshots for training and whole trajectories
for evaluation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg.datasets._cached import _CachedDataset
from gen_pyg.solvers.spring_chain import (
    chain_accelerations,
    chain_euler_rollout,
    chain_exact_solution,
)

__all__ = ["SpringMass", "chain_edge_index", "spring_chain_graph"]

Mode = Literal["snapshot", "trajectory"]
Target = Literal["acceleration", "velocity_change", "both"]
_TARGETS: dict[str, tuple[str, ...]] = {
    "acceleration": ("acceleration",),
    "velocity_change": ("velocity_change",),
    "both": ("acceleration", "velocity_change"),
}


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"'{name}' must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"'{name}' must be at least {minimum}, got {value}")
    return value


def _check_positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"'{name}' must be a float, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        expect = "non-negative" if allow_zero else "positive"
        raise ValueError(f"'{name}' must be finite and {expect}, got {value}")
    return value


def _check_range(name: str, value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"'{name}' must be None or a pair (low, high), got {value!r}")
    low = _check_positive(f"{name}[0]", value[0])
    high = _check_positive(f"{name}[1]", value[1])
    if high < low:
        raise ValueError(f"'{name}' must satisfy low <= high, got {value!r}")
    return (low, high)


def chain_edge_index(num_masses: int, device: torch.device | str | None = None) -> Tensor:
    r"""Edges of a chain of ``num_masses`` nodes, each spring in both directions.

    Spring :math:`s` joins nodes :math:`s` and :math:`s + 1`; it appears as columns
    :math:`2s` (:math:`s \to s + 1`) and :math:`2s + 1` (:math:`s + 1 \to s`).

    Args:
        num_masses (int): Number of nodes, at least 2.
        device (torch.device, optional): Device of the result. (default: :obj:`None`)

    Returns:
        torch.Tensor: Shape ``[2, 2 * (num_masses - 1)]``.

    Example:
        >>> chain_edge_index(3)
        tensor([[0, 1, 1, 2],
                [1, 0, 2, 1]])
    """
    n = _check_int("num_masses", num_masses, 2)
    left = torch.arange(n - 1, device=device)
    right = left + 1
    return torch.stack(
        [torch.stack([left, right], 1).reshape(-1), torch.stack([right, left], 1).reshape(-1)]
    )


def spring_chain_graph(
    position: Tensor,
    velocity: Tensor,
    stiffness: float | Tensor = 1.0,
    mass: float | Tensor = 1.0,
    *,
    stiffness_feature: bool = False,
    mass_feature: bool = False,
) -> Data:
    r"""One spring chain as a :class:`~torch_geometric.data.Data` graph.

    Attributes of the result:

    - ``x`` ``[n, 2]`` (position, velocity), with a third column holding the mass when
      ``mass_feature`` is set;
    - ``pos`` ``[n, 1]``: the displacement from rest;
    - ``edge_index`` ``[2, 2(n - 1)]`` from :func:`chain_edge_index`;
    - ``edge_attr`` ``[2(n - 1), 1]``: the spring constant, only when ``stiffness_feature`` is
      set;
    - ``mass`` ``[n]`` and ``stiffness`` ``[2(n - 1)]``: the physical parameters, always kept
      so the reference physics can be run on a batch.

    Args:
        position (torch.Tensor): Displacements, shape ``[n]``.
        velocity (torch.Tensor): Velocities, shape ``[n]``.
        stiffness (float or torch.Tensor, optional): Spring constants, one number or ``[n - 1]``.
            (default: :obj:`1.0`)
        mass (float or torch.Tensor, optional): Masses, one number or ``[n]``.
            (default: :obj:`1.0`)
        stiffness_feature (bool, optional): Add the spring constants as ``edge_attr``.
            (default: :obj:`False`)
        mass_feature (bool, optional): Add the masses as a node-feature column.
            (default: :obj:`False`)

    Example:
        >>> g = spring_chain_graph(torch.zeros(4), torch.zeros(4))
        >>> g.x.shape, g.edge_index.shape
        (torch.Size([4, 2]), torch.Size([2, 6]))
    """
    if not isinstance(position, Tensor) or position.dim() != 1:
        raise ValueError("'position' must be a one-dimensional tensor [num_masses]")
    n = _check_int("len(position)", position.numel(), 2)
    if not isinstance(velocity, Tensor) or velocity.shape != position.shape:
        raise ValueError(f"'velocity' must be a tensor of shape [{n}]")
    k = torch.as_tensor(stiffness, dtype=position.dtype, device=position.device)
    m = torch.as_tensor(mass, dtype=position.dtype, device=position.device)
    k = k.expand(n - 1) if k.dim() == 0 else k
    m = m.expand(n) if m.dim() == 0 else m
    if k.shape != (n - 1,) or m.shape != (n,):
        raise ValueError(
            f"'stiffness' must be a number or [{n - 1}] and 'mass' a number or [{n}], "
            f"got {tuple(k.shape)} and {tuple(m.shape)}"
        )
    if not bool(torch.all(k > 0)) or not bool(torch.all(m > 0)):
        raise ValueError("'stiffness' and 'mass' must be positive")
    columns = [position, velocity, m] if mass_feature else [position, velocity]
    edge_k = k.repeat_interleave(2)
    data = Data(
        x=torch.stack(columns, dim=1),
        pos=position.unsqueeze(1),
        edge_index=chain_edge_index(n, device=position.device),
        mass=m.clone(),
        stiffness=edge_k,
    )
    if stiffness_feature:
        data.edge_attr = edge_k.unsqueeze(1)
    return data


class SpringMass(_CachedDataset):
    r"""Chains of masses joined by springs, for learning their dynamics with a GNN.

    Every example is a free-ended chain of ``num_masses`` masses on a line (the setting of a
    well-known teaching notebook, which uses 3). Displacements from rest are drawn from
    :math:`\mathcal{N}(0, \sigma_x^2)` and velocities from :math:`\mathcal{N}(0, \sigma_v^2)`;
    the targets follow from Hooke's law (see :func:`~gen_pyg.solvers.chain_accelerations`):

    .. math::
        a_i = -\frac{k}{m} (2 x_i - x_{i-1} - x_{i+1}), \qquad
        \Delta v_i = a_i \, \Delta t,

    with one-sided forms at the two ends. :math:`\Delta v` is exactly the velocity change of
    one semi-implicit Euler step.

    In ``"snapshot"`` mode the examples are independent random states (for training). In
    ``"trajectory"`` mode each example also carries its motion over ``num_steps`` steps, as
    ``[n, num_steps + 1]`` tensors: ``euler_pos`` / ``euler_vel`` from the semi-implicit Euler
    integrator with the exact forces and ``exact_pos`` / ``exact_vel`` from the exact modal
    solution, so integrator error and model error can be separated.

    Each graph is built by :func:`spring_chain_graph` (node features ``x`` = position,
    velocity and optionally mass; ``edge_attr`` = spring constant when ``stiffness_range`` is
    set) and has targets ``y`` of shape ``[n, 1]`` (or ``[n, 2]`` with columns acceleration,
    velocity change for ``target="both"``). The data are generated once from ``seed`` and
    cached under ``root/processed`` in a file whose name encodes every parameter, so changing
    any parameter regenerates the data and different settings can share one ``root``.

    Args:
        root (str): Root directory of the cache.
        num_graphs (int, optional): Number of chains. (default: :obj:`2000`)
        num_masses (int, optional): Masses per chain, at least 2. (default: :obj:`3`)
        mode (str, optional): ``"snapshot"`` or ``"trajectory"``. (default: :obj:`"snapshot"`)
        target (str, optional): ``"acceleration"``, ``"velocity_change"`` or ``"both"``.
            (default: :obj:`"acceleration"`)
        num_steps (int, optional): Steps per trajectory (``"trajectory"`` mode).
            (default: :obj:`500`)
        dt (float, optional): Time step. (default: :obj:`0.01`)
        stiffness (float, optional): Spring constant of every spring. (default: :obj:`1.0`)
        mass (float, optional): Mass of every body. (default: :obj:`1.0`)
        stiffness_range (tuple, optional): If given, ``(low, high)``: each spring draws its
            constant uniformly from this range and it becomes an edge feature.
            (default: :obj:`None`)
        mass_range (tuple, optional): If given, ``(low, high)``: each mass is drawn uniformly
            from this range and becomes a third node-feature column. (default: :obj:`None`)
        position_std (float, optional): :math:`\sigma_x`. (default: :obj:`0.5`)
        velocity_std (float, optional): :math:`\sigma_v`. (default: :obj:`0.3`)
        seed (int, optional): Seed of the generator. (default: :obj:`0`)
        transform (callable, optional): Applied to each example on access.
            (default: :obj:`None`)
        pre_transform (callable, optional): Applied once before caching.
            (default: :obj:`None`)
        pre_filter (callable, optional): Keeps the examples for which it returns :obj:`True`.
            (default: :obj:`None`)
        force_reload (bool, optional): Regenerate even if a cache exists.
            (default: :obj:`False`)
        log (bool, optional): Print a line while generating. (default: :obj:`True`)

    **STATS** (defaults):

    .. list-table::
        :widths: 15 10 10 10 10
        :header-rows: 1

        * - mode
          - #graphs
          - #nodes
          - #edges
          - #features
        * - snapshot
          - 2,000
          - 3
          - 4
          - 2

    Example:
        >>> import tempfile
        >>> ds = SpringMass(tempfile.mkdtemp(), num_graphs=8, num_masses=4, log=False)
        >>> ds[0]
        Data(x=[4, 2], edge_index=[2, 6], pos=[4, 1], mass=[4], stiffness=[6], y=[4, 1])
    """

    cache_name = "spring_mass"
    cache_hash = "sha1"

    def __init__(
        self,
        root: str,
        num_graphs: int = 2000,
        num_masses: int = 3,
        mode: Mode = "snapshot",
        target: Target = "acceleration",
        num_steps: int = 500,
        dt: float = 0.01,
        stiffness: float = 1.0,
        mass: float = 1.0,
        stiffness_range: tuple[float, float] | None = None,
        mass_range: tuple[float, float] | None = None,
        position_std: float = 0.5,
        velocity_std: float = 0.3,
        seed: int = 0,
        transform: Callable[[Data], Data] | None = None,
        pre_transform: Callable[[Data], Data] | None = None,
        pre_filter: Callable[[Data], bool] | None = None,
        force_reload: bool = False,
        log: bool = True,
    ) -> None:
        if mode not in ("snapshot", "trajectory"):
            raise ValueError(f"'mode' must be 'snapshot' or 'trajectory', got {mode!r}")
        if target not in _TARGETS:
            raise ValueError(f"'target' must be one of {sorted(_TARGETS)}, got {target!r}")
        self.num_graphs = _check_int("num_graphs", num_graphs, 1)
        self.num_masses = _check_int("num_masses", num_masses, 2)
        self.mode: Mode = mode
        self.target: Target = target
        self.num_steps = _check_int("num_steps", num_steps, 1)
        self.dt = _check_positive("dt", dt)
        self.stiffness = _check_positive("stiffness", stiffness)
        self.mass = _check_positive("mass", mass)
        self.stiffness_range = _check_range("stiffness_range", stiffness_range)
        self.mass_range = _check_range("mass_range", mass_range)
        self.position_std = _check_positive("position_std", position_std, allow_zero=True)
        self.velocity_std = _check_positive("velocity_std", velocity_std, allow_zero=True)
        self.seed = _check_int("seed", seed, 0)
        super().__init__(root, transform, pre_transform, pre_filter, log, force_reload)

    @property
    def target_names(self) -> tuple[str, ...]:
        """Names of the columns of ``y``."""
        return _TARGETS[self.target]

    @property
    def params(self) -> dict[str, object]:
        """Every parameter that determines the data (its hash names the cache file)."""
        return {
            "num_graphs": self.num_graphs,
            "num_masses": self.num_masses,
            "mode": self.mode,
            "target": self.target,
            "num_steps": self.num_steps if self.mode == "trajectory" else None,
            "dt": self.dt,
            "stiffness": self.stiffness,
            "mass": self.mass,
            "stiffness_range": self.stiffness_range,
            "mass_range": self.mass_range,
            "position_std": self.position_std,
            "velocity_std": self.velocity_std,
            "seed": self.seed,
            "version": 1,
        }

    def _cache_params(self) -> dict[str, object]:
        return self.params

    def _cache_tag(self) -> str:
        return self.mode

    def _draw_parameters(
        self, gen: torch.Generator, base: float, bounds: tuple[float, float] | None, size: int
    ) -> Tensor:
        if bounds is None:
            return torch.full((self.num_graphs, size), base, dtype=torch.float64)
        low, high = bounds
        u = torch.rand(self.num_graphs, size, generator=gen, dtype=torch.float64)
        return low + (high - low) * u

    def _generate(self) -> list[Data]:
        n, b = self.num_masses, self.num_graphs
        gen = torch.Generator().manual_seed(self.seed)
        x0 = self.position_std * torch.randn(b, n, generator=gen, dtype=torch.float64)
        v0 = self.velocity_std * torch.randn(b, n, generator=gen, dtype=torch.float64)
        k = self._draw_parameters(gen, self.stiffness, self.stiffness_range, n - 1)
        m = self._draw_parameters(gen, self.mass, self.mass_range, n)
        acc = chain_accelerations(x0, k, m)
        columns = {"acceleration": acc, "velocity_change": acc * self.dt}
        y = torch.stack([columns[name] for name in self.target_names], dim=-1)
        traj: dict[str, Tensor] = {}
        if self.mode == "trajectory":
            traj["euler_pos"], traj["euler_vel"] = chain_euler_rollout(
                x0, v0, self.dt, self.num_steps, k, m
            )
            times = torch.arange(self.num_steps + 1, dtype=torch.float64) * self.dt
            traj["exact_pos"], traj["exact_vel"] = chain_exact_solution(x0, v0, times, k, m)
        dtype = torch.get_default_dtype()
        data_list = []
        for i in range(b):
            data = spring_chain_graph(
                x0[i].to(dtype),
                v0[i].to(dtype),
                k[i].to(dtype),
                m[i].to(dtype),
                stiffness_feature=self.stiffness_range is not None,
                mass_feature=self.mass_range is not None,
            )
            data.y = y[i].to(dtype)
            for key, value in traj.items():
                data[key] = value[i].to(dtype)
            data_list.append(data)
        return data_list

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({len(self)}, num_masses={self.num_masses}, "
            f"mode={self.mode!r}, target={self.target!r})"
        )

