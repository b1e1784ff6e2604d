r"""Reference physics of a one-dimensional chain of masses joined by springs.

Mass :math:`i` sits at displacement :math:`x_i` from its rest position; spring :math:`s` joins
masses :math:`s` and :math:`s + 1` and has constant :math:`k_s`. Both ends are free, so

.. math::
    m_i \ddot{x}_i = k_{i-1} (x_{i-1} - x_i) + k_i (x_{i+1} - x_i),

where a term is left out when its spring does not exist (the first and last mass have one
spring each). With :math:`D` the :math:`(n - 1) \times n` difference matrix and
:math:`K = D^\top \operatorname{diag}(k) D` the stiffness matrix, this reads
:math:`M \ddot{x} = -K x`.

Three references are provided: the accelerations themselves, the semi-implicit (symplectic)
Euler integrator that also drives learned models, and the exact solution by eigen-decomposition
of :math:`M^{-1/2} K M^{-1/2}`, so that the integrator's own error and a learned model's error
can be told apart. Every function works on a batch of chains: the masses are the last axis and
any leading axes are batch axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = [
    "chain_accelerations",
    "chain_energy",
    "chain_euler_rollout",
    "chain_exact_solution",
    "chain_stiffness_matrix",
    "semi_implicit_euler",
    "spring_graph_energy",
]

#: A stiffness or a mass: one number for the whole chain, or a tensor per spring / per mass.
Param = float | Tensor


def _check_chain(position: Tensor, name: str = "position") -> int:
    if not isinstance(position, Tensor):
        raise TypeError(f"'{name}' must be a torch.Tensor, got {type(position).__name__}")
    if position.dim() < 1:
        raise ValueError(f"'{name}' must have the masses on its last axis, got a scalar")
    if not position.is_floating_point():
        raise TypeError(f"'{name}' must be a floating-point tensor, got {position.dtype}")
    n = position.size(-1)
    if n < 2:
        raise ValueError(f"a chain needs at least 2 masses, got '{name}' with {n} on its last axis")
    return n


def _as_param(value: Param, size: int, like: Tensor, name: str, what: str) -> Tensor:
    """A positive scalar or tensor broadcast to ``[..., size]`` on ``like``'s device."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Tensor)):
        raise TypeError(f"'{name}' must be a float or a tensor, got {type(value).__name__}")
    out = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if out.dim() > 0 and out.size(-1) not in (1, size):
        raise ValueError(
            f"'{name}' must hold one value per {what} ({size}) on its last axis, "
            f"got shape {tuple(out.shape)}"
        )
    if not bool(torch.all(out > 0)) or not bool(torch.all(torch.isfinite(out))):
        raise ValueError(f"'{name}' must be finite and positive")
    return out


def chain_accelerations(position: Tensor, stiffness: Param = 1.0, mass: Param = 1.0) -> Tensor:
    r"""Accelerations of the masses of free-ended spring chains.

    .. math::
        a_i = \frac{1}{m_i} \left( k_{i-1} (x_{i-1} - x_i) + k_i (x_{i+1} - x_i) \right),

    so :math:`a_i = -k (2 x_i - x_{i-1} - x_{i+1}) / m` inside a uniform chain and
    :math:`a_0 = -k (x_0 - x_1) / m` at its first end.

    Args:
        position (torch.Tensor): Displacements from rest, shape ``[..., n]`` with ``n >= 2``.
        stiffness (float or torch.Tensor, optional): Spring constants, one number or a tensor
            broadcastable to ``[..., n - 1]``. (default: :obj:`1.0`)
        mass (float or torch.Tensor, optional): Masses, one number or a tensor broadcastable to
            ``[..., n]``. (default: :obj:`1.0`)

    Returns:
        torch.Tensor: The accelerations, shape ``[..., n]``.

    Example:
        >>> chain_accelerations(torch.tensor([0.0, 1.0, 0.0]))
        tensor([ 1., -2.,  1.])
    """
    n = _check_chain(position)
    k = _as_param(stiffness, n - 1, position, "stiffness", "spring")
    m = _as_param(mass, n, position, "mass", "mass")
    tension = k * (position[..., 1:] - position[..., :-1])  # > 0 when a spring is stretched
    zero = torch.zeros_like(position[..., :1])
    force = torch.cat([tension, zero], dim=-1) - torch.cat([zero, tension], dim=-1)
    return force / m


def chain_stiffness_matrix(
    num_masses: int, stiffness: Param = 1.0, *, dtype: torch.dtype | None = None
) -> Tensor:
    r"""The stiffness matrix :math:`K = D^\top \operatorname{diag}(k) D` of a free-ended chain.

    The spring forces are :math:`-K x` and the potential energy is :math:`\frac12 x^\top K x`.

    Args:
        num_masses (int): Number of masses ``n >= 2``.
        stiffness (float or torch.Tensor, optional): Spring constants, one number or a tensor of
            shape ``[..., n - 1]``; a tensor gives a batch of matrices on its device.
            (default: :obj:`1.0`)
        dtype (torch.dtype, optional): Data type when ``stiffness`` is a number.
            (default: :obj:`torch.get_default_dtype()`)

    Returns:
        torch.Tensor: Shape ``[..., n, n]``.

    Example:
        >>> chain_stiffness_matrix(3)
        tensor([[ 1., -1.,  0.],
                [-1.,  2., -1.],
                [ 0., -1.,  1.]])
    """
    if isinstance(num_masses, bool) or not isinstance(num_masses, int):
        raise TypeError(f"'num_masses' must be an int, got {type(num_masses).__name__}")
    if num_masses < 2:
        raise ValueError(f"'num_masses' must be at least 2, got {num_masses}")
    like = (
        stiffness
        if isinstance(stiffness, Tensor) and stiffness.is_floating_point()
        else torch.empty(0, dtype=dtype or torch.get_default_dtype())
    )
    k = _as_param(stiffness, num_masses - 1, like, "stiffness", "spring")
    k = k.expand(*k.shape[:-1], num_masses - 1) if k.dim() > 0 else k.expand(num_masses - 1)
    diff = torch.zeros(num_masses - 1, num_masses, dtype=k.dtype, device=k.device)
    rows = torch.arange(num_masses - 1, device=k.device)
    diff[rows, rows] = -1.0
    diff[rows, rows + 1] = 1.0
    return diff.mT @ (k.unsqueeze(-1) * diff)


def chain_energy(
    position: Tensor, velocity: Tensor, stiffness: Param = 1.0, mass: Param = 1.0
) -> Tensor:
    r"""Total (kinetic plus spring) energy of each chain.

    .. math::
        E = \frac12 \sum_i m_i v_i^2 + \frac12 \sum_s k_s (x_{s+1} - x_s)^2

    Args:
        position (torch.Tensor): Displacements, shape ``[..., n]``.
        velocity (torch.Tensor): Velocities, same shape as ``position``.
        stiffness (float or torch.Tensor, optional): Spring constants, broadcastable to
            ``[..., n - 1]``. (default: :obj:`1.0`)
        mass (float or torch.Tensor, optional): Masses, broadcastable to ``[..., n]``.
            (default: :obj:`1.0`)

    Returns:
        torch.Tensor: The energies, shape ``[...]``.

    Example:
        >>> chain_energy(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 0.0]))
        tensor(2.5000)
    """
    n = _check_chain(position)
    if velocity.shape != position.shape:
        raise ValueError(
            f"'velocity' must have the shape of 'position' {tuple(position.shape)}, "
            f"got {tuple(velocity.shape)}"
        )
    k = _as_param(stiffness, n - 1, position, "stiffness", "spring")
    m = _as_param(mass, n, position, "mass", "mass")
    stretch = position[..., 1:] - position[..., :-1]
    kinetic = 0.5 * (m * velocity.square()).sum(-1)
    return kinetic + 0.5 * (k * stretch.square()).sum(-1)


def _check_step(dt: float, num_steps: int) -> None:
    if isinstance(dt, bool) or not isinstance(dt, (int, float)):
        raise TypeError(f"'dt' must be a float, got {type(dt).__name__}")
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"'dt' must be finite and positive, got {dt}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int):
        raise TypeError(f"'num_steps' must be an int, got {type(num_steps).__name__}")
    if num_steps < 0:
        raise ValueError(f"'num_steps' must be non-negative, got {num_steps}")


def semi_implicit_euler(
    position: Tensor,
    velocity: Tensor,
    acceleration: Callable[[Tensor, Tensor], Tensor],
    dt: float,
    num_steps: int,
) -> tuple[Tensor, Tensor]:
    r"""Integrate :math:`\ddot{x} = a(x, v)` with the semi-implicit (symplectic) Euler method.

    .. math::
        v_{t+1} = v_t + \Delta t \, a(x_t, v_t), \qquad x_{t+1} = x_t + \Delta t \, v_{t+1}

    The method is first-order accurate and, for forces that derive from a potential, keeps the
    energy bounded over long runs. ``acceleration`` is called once per step on the whole
    state, so a batch of systems (or a learned model on a batch of graphs) advances together.

    Args:
        position (torch.Tensor): Initial positions, any shape.
        velocity (torch.Tensor): Initial velocities, same shape.
        acceleration (callable): Maps ``(position, velocity)`` to accelerations of the same
            shape.
        dt (float): Time step, positive.
        num_steps (int): Number of steps, non-negative.

    Returns:
        (torch.Tensor, torch.Tensor): Positions and velocities at the ``num_steps + 1`` times
        ``0, dt, ..., num_steps * dt``, stacked on a new last axis: shape
        ``[*position.shape, num_steps + 1]``.

    Example:
        >>> x, v = semi_implicit_euler(
        ...     torch.tensor([1.0]), torch.tensor([0.0]), lambda x, v: -x, dt=0.5, num_steps=2
        ... )
        >>> x
        tensor([[1.0000, 0.7500, 0.3125]])
    """
    if velocity.shape != position.shape:
        raise ValueError(
            f"'velocity' must have the shape of 'position' {tuple(position.shape)}, "
            f"got {tuple(velocity.shape)}"
        )
    _check_step(dt, num_steps)
    positions, velocities = [position], [velocity]
    x, v = position, velocity
    for _ in range(num_steps):
        a = acceleration(x, v)
        if a.shape != x.shape:
            raise ValueError(
                f"'acceleration' returned shape {tuple(a.shape)}, expected {tuple(x.shape)}"
            )
        v = v + dt * a
        x = x + dt * v
        positions.append(x)
        velocities.append(v)
    return torch.stack(positions, dim=-1), torch.stack(velocities, dim=-1)


def chain_euler_rollout(
    position: Tensor,
    velocity: Tensor,
    dt: float = 0.01,
    num_steps: int = 500,
    stiffness: Param = 1.0,
    mass: Param = 1.0,
) -> tuple[Tensor, Tensor]:
    r"""Trajectories of spring chains from :func:`semi_implicit_euler` with the exact forces.

    Args:
        position (torch.Tensor): Initial displacements, shape ``[..., n]``.
        velocity (torch.Tensor): Initial velocities, shape ``[..., n]``.
        dt (float, optional): Time step. (default: :obj:`0.01`)
        num_steps (int, optional): Number of steps. (default: :obj:`500`)
        stiffness (float or torch.Tensor, optional): Spring constants, broadcastable to
            ``[..., n - 1]``. (default: :obj:`1.0`)
        mass (float or torch.Tensor, optional): Masses, broadcastable to ``[..., n]``.
            (default: :obj:`1.0`)

    Returns:
        (torch.Tensor, torch.Tensor): Positions and velocities, shape ``[..., n, num_steps + 1]``.

    Example:
        >>> x, v = chain_euler_rollout(torch.tensor([0.0, 1.0]), torch.zeros(2), num_steps=3)
        >>> x.shape
        torch.Size([2, 4])
    """
    n = _check_chain(position)
    # Validate once here rather than on every step.
    k = _as_param(stiffness, n - 1, position, "stiffness", "spring")
    m = _as_param(mass, n, position, "mass", "mass")
    return semi_implicit_euler(
        position, velocity, lambda x, _v: chain_accelerations(x, k, m), dt, num_steps
    )


def chain_exact_solution(
    position: Tensor,
    velocity: Tensor,
    times: Tensor,
    stiffness: Param = 1.0,
    mass: Param = 1.0,
) -> tuple[Tensor, Tensor]:
    r"""Exact motion of free-ended spring chains by modal decomposition.

    With :math:`y = M^{1/2} x` the equations become :math:`\ddot{y} = -A y`,
    :math:`A = M^{-1/2} K M^{-1/2} = Q \Lambda Q^\top`. Each mode :math:`q = Q^\top y` with
    frequency :math:`\omega = \sqrt{\lambda}` moves as

    .. math::
        q(t) = q(0) \cos \omega t + \dot{q}(0) \frac{\sin \omega t}{\omega},

    which is :math:`q(0) + \dot{q}(0) t` for the free translation mode (:math:`\omega = 0`).
    The computation is done in double precision.

    Args:
        position (torch.Tensor): Initial displacements, shape ``[..., n]``.
        velocity (torch.Tensor): Initial velocities, shape ``[..., n]``.
        times (torch.Tensor): Times, shape ``[T]``.
        stiffness (float or torch.Tensor, optional): Spring constants, broadcastable to
            ``[..., n - 1]``. (default: :obj:`1.0`)
        mass (float or torch.Tensor, optional): Masses, broadcastable to ``[..., n]``.
            (default: :obj:`1.0`)

    Returns:
        (torch.Tensor, torch.Tensor): Positions and velocities at ``times``, shape
        ``[..., n, T]``, in the data type of ``position``.

    Example:
        >>> x, v = chain_exact_solution(
        ...     torch.tensor([-0.5, 0.5]), torch.zeros(2), torch.tensor([0.0, math.pi / 2**1.5])
        ... )
        >>> x.round(decimals=4)
        tensor([[-0.5000,  0.0000],
                [ 0.5000, -0.0000]])
    """
    n = _check_chain(position)
    if velocity.shape != position.shape:
        raise ValueError(
            f"'velocity' must have the shape of 'position' {tuple(position.shape)}, "
            f"got {tuple(velocity.shape)}"
        )
    if not isinstance(times, Tensor) or times.dim() != 1:
        raise ValueError("'times' must be a one-dimensional tensor")
    x0 = position.to(torch.float64)
    v0 = velocity.to(torch.float64)
    k = _as_param(stiffness, n - 1, x0, "stiffness", "spring")
    m = _as_param(mass, n, x0, "mass", "mass")
    # The batch shape common to the states and the parameters.
    batch = (x0[..., 0] + (k[..., 0] if k.dim() else k) + (m[..., 0] if m.dim() else m)).shape
    x0, v0 = x0.expand(*batch, n), v0.expand(*batch, n)
    sqrt_m = m.expand(*batch, n).sqrt()
    stiff = chain_stiffness_matrix(n, k.expand(*batch, n - 1))
    a = stiff / (sqrt_m.unsqueeze(-1) * sqrt_m.unsqueeze(-2))
    lam, q = torch.linalg.eigh(a)
    omega = lam.clamp_min(0.0).sqrt().unsqueeze(-1)  # [..., n, 1]
    q0 = (q.mT @ (sqrt_m * x0).unsqueeze(-1)).squeeze(-1).unsqueeze(-1)
    p0 = (q.mT @ (sqrt_m * v0).unsqueeze(-1)).squeeze(-1).unsqueeze(-1)
    t = times.to(device=x0.device, dtype=torch.float64)
    phase = omega * t  # [..., n, T]
    # sin(w t) / w written with sinc so the translation mode (w = 0) needs no special case.
    modes_x = q0 * torch.cos(phase) + p0 * t * torch.sinc(phase / math.pi)
    modes_v = -q0 * omega * torch.sin(phase) + p0 * torch.cos(phase)
    x = (q @ modes_x) / sqrt_m.unsqueeze(-1)
    v = (q @ modes_v) / sqrt_m.unsqueeze(-1)
    return x.to(position.dtype), v.to(position.dtype)


def spring_graph_energy(
    position: Tensor,
    velocity: Tensor,
    edge_index: Tensor,
    stiffness: Tensor,
    mass: Tensor,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""Total energy of every spring system in a batch of graphs (chains of any lengths).

    The graph form of :func:`chain_energy`: each spring appears as two directed edges, so

    .. math::
        E_g = \frac12 \sum_{i \in g} m_i v_i^2
        + \frac14 \sum_{(j, i) \in \mathcal{E}_g} k_{ji} (x_j - x_i)^2 .

    Args:
        position (torch.Tensor): Node positions, shape ``[N]`` or ``[N, T]`` (``T`` times).
        velocity (torch.Tensor): Node velocities, same shape.
        edge_index (torch.Tensor): Directed edges, both directions of every spring,
            shape ``[2, E]``.
        stiffness (torch.Tensor): Spring constant per directed edge, shape ``[E]``.
        mass (torch.Tensor): Mass per node, shape ``[N]``.
        batch (torch.Tensor, optional): Graph of each node, shape ``[N]``; :obj:`None` for a
            single graph. (default: :obj:`None`)
        num_graphs (int, optional): Number of graphs. (default: ``batch.max() + 1``)

    Returns:
        torch.Tensor: Shape ``[num_graphs]`` or ``[num_graphs, T]``.

    Example:
        >>> edge_index = torch.tensor([[0, 1], [1, 0]])
        >>> spring_graph_energy(
        ...     torch.tensor([0.0, 1.0]), torch.tensor([2.0, 0.0]), edge_index,
        ...     torch.ones(2), torch.ones(2)
        ... )
        tensor([2.5000])
    """
    if velocity.shape != position.shape:
        raise ValueError(
            f"'velocity' must have the shape of 'position' {tuple(position.shape)}, "
            f"got {tuple(velocity.shape)}"
        )
    num_nodes = position.size(0)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"'edge_index' must have shape [2, E], got {tuple(edge_index.shape)}")
    if stiffness.shape != (edge_index.size(1),) or mass.shape != (num_nodes,):
        raise ValueError(
            f"'stiffness' must have shape [{edge_index.size(1)}] and 'mass' [{num_nodes}], "
            f"got {tuple(stiffness.shape)} and {tuple(mass.shape)}"
        )
    if batch is None:
        batch = torch.zeros(num_nodes, dtype=torch.long, device=position.device)
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if num_nodes > 0 else 0
    extra = (1,) * (position.dim() - 1)
    src, dst = edge_index
    node_energy = 0.5 * mass.view(-1, *extra) * velocity.square()
    edge_energy = 0.25 * stiffness.view(-1, *extra) * (position[src] - position[dst]).square()
    node_energy = node_energy.index_add(0, dst, edge_energy)
    out = position.new_zeros(num_graphs, *position.shape[1:])
    return out.index_add(0, batch, node_energy)
