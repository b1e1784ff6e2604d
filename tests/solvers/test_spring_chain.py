"""Reference physics of spring chains against hand-written formulas and analytic motion."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from gen_pyg.solvers import (
    chain_accelerations,
    chain_energy,
    chain_euler_rollout,
    chain_exact_solution,
    chain_stiffness_matrix,
    semi_implicit_euler,
    spring_graph_energy,
)

DT64 = torch.float64


def _loop_accelerations(x: list[float], k: list[float], m: list[float]) -> list[float]:
    """Hooke's law written out mass by mass, the way one derives it on paper."""
    n = len(x)
    out = []
    for i in range(n):
        force = 0.0
        if i > 0:
            force += -k[i - 1] * (x[i] - x[i - 1])
        if i < n - 1:
            force += -k[i] * (x[i] - x[i + 1])
        out.append(force / m[i])
    return out


def test_uniform_chain_interior_and_one_sided_ends() -> None:
    k, m = 2.5, 0.5
    x = torch.randn(7, dtype=DT64)
    a = chain_accelerations(x, k, m)
    interior = -k * (2 * x[1:-1] - x[:-2] - x[2:]) / m
    torch.testing.assert_close(a[1:-1], interior)
    torch.testing.assert_close(a[0], -k * (x[0] - x[1]) / m)
    torch.testing.assert_close(a[-1], -k * (x[-1] - x[-2]) / m)


def test_small_case_by_hand() -> None:
    # Middle mass pulled up by 1: both neighbours are pulled towards it, it feels two springs.
    a = chain_accelerations(torch.tensor([0.0, 1.0, 0.0, 0.0]), 1.0, 1.0)
    assert a.tolist() == [1.0, -2.0, 1.0, 0.0]


def test_per_spring_stiffness_and_per_mass() -> None:
    x = torch.randn(5, dtype=DT64)
    k = torch.rand(4, dtype=DT64) + 0.5
    m = torch.rand(5, dtype=DT64) + 0.5
    expected = torch.tensor(_loop_accelerations(x.tolist(), k.tolist(), m.tolist()), dtype=DT64)
    torch.testing.assert_close(chain_accelerations(x, k, m), expected)


def test_batched_accelerations_match_one_by_one() -> None:
    x = torch.randn(3, 4, 6, dtype=DT64)
    k = torch.rand(3, 4, 5, dtype=DT64) + 0.5
    m = torch.rand(3, 4, 6, dtype=DT64) + 0.5
    batched = chain_accelerations(x, k, m)
    for i in range(3):
        for j in range(4):
            single = chain_accelerations(x[i, j], k[i, j], m[i, j])
            torch.testing.assert_close(batched[i, j], single)


def test_stiffness_matrix_gives_the_forces() -> None:
    assert chain_stiffness_matrix(3).tolist() == [[1, -1, 0], [-1, 2, -1], [0, -1, 1]]
    x = torch.randn(2, 6, dtype=DT64)
    k = torch.rand(2, 5, dtype=DT64) + 0.5
    m = torch.rand(2, 6, dtype=DT64) + 0.5
    force = -(chain_stiffness_matrix(6, k) @ x.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(force / m, chain_accelerations(x, k, m))


def test_energy_by_hand() -> None:
    x = torch.tensor([0.0, 1.0, 3.0])
    v = torch.tensor([1.0, 0.0, -2.0])
    k = torch.tensor([2.0, 0.5])
    m = torch.tensor([1.0, 1.0, 3.0])
    # kinetic 0.5 * (1 + 0 + 12) = 6.5; springs 0.5 * (2 * 1 + 0.5 * 4) = 2.0
    assert chain_energy(x, v, k, m).item() == pytest.approx(8.5)


def test_graph_energy_matches_chain_energy() -> None:
    n, b = 5, 3
    x, v = torch.randn(b, n, dtype=DT64), torch.randn(b, n, dtype=DT64)
    k, m = torch.rand(b, n - 1, dtype=DT64) + 0.5, torch.rand(b, n, dtype=DT64) + 0.5
    left = torch.arange(n - 1)
    edges = torch.stack([torch.cat([left, left + 1]), torch.cat([left + 1, left])])
    edge_index = torch.cat([edges + i * n for i in range(b)], dim=1)
    stiffness = torch.cat([torch.cat([k[i], k[i]]) for i in range(b)])
    batch = torch.arange(b).repeat_interleave(n)
    energy = spring_graph_energy(x.reshape(-1), v.reshape(-1), edge_index, stiffness,
                                 m.reshape(-1), batch)
    torch.testing.assert_close(energy, chain_energy(x, v, k, m))


def test_two_masses_exact_solution_by_hand() -> None:
    # Centre of mass drifts at the mean velocity; the stretch oscillates at sqrt(2 k / m).
    k, m = 3.0, 1.5
    x0 = torch.tensor([0.2, -0.1], dtype=DT64)
    v0 = torch.tensor([0.4, 0.0], dtype=DT64)
    t = torch.linspace(0, 7, 50, dtype=DT64)
    x, v = chain_exact_solution(x0, v0, t, k, m)
    omega = math.sqrt(2 * k / m)
    centre = 0.05 + 0.2 * t
    stretch = -0.3 * torch.cos(omega * t) + (-0.4) * torch.sin(omega * t) / omega
    torch.testing.assert_close(x[0], centre - stretch / 2)
    torch.testing.assert_close(x[1], centre + stretch / 2)
    torch.testing.assert_close(v[1] - v[0], 0.3 * omega * torch.sin(omega * t)
                               - 0.4 * torch.cos(omega * t))


def test_exact_solution_solves_the_equations_of_motion() -> None:
    x0, v0 = torch.randn(4, 6, dtype=DT64), torch.randn(4, 6, dtype=DT64)
    k, m = torch.rand(4, 5, dtype=DT64) + 0.5, torch.rand(4, 6, dtype=DT64) + 0.5
    h = 1e-4
    t = torch.tensor([0.0, 1.3 - h, 1.3, 1.3 + h], dtype=DT64)
    x, v = chain_exact_solution(x0, v0, t, k, m)
    torch.testing.assert_close(x[..., 0], x0)
    torch.testing.assert_close(v[..., 0], v0)
    second = (x[..., 3] - 2 * x[..., 2] + x[..., 1]) / h**2
    torch.testing.assert_close(second, chain_accelerations(x[..., 2], k, m), atol=1e-5, rtol=0)
    torch.testing.assert_close((x[..., 3] - x[..., 1]) / (2 * h), v[..., 2], atol=1e-7, rtol=0)
    energy = chain_energy(x.movedim(-1, 0), v.movedim(-1, 0), k, m)
    torch.testing.assert_close(energy, energy[:1].expand_as(energy))


def test_integrator_agrees_with_exact_solution_at_first_order() -> None:
    x0, v0 = 0.5 * torch.randn(8, 4, dtype=DT64), 0.3 * torch.randn(8, 4, dtype=DT64)
    k, m = torch.rand(8, 3, dtype=DT64) + 0.5, torch.rand(8, 4, dtype=DT64) + 0.5
    horizon, errors = 4.0, []
    for steps in (400, 800, 1600):
        dt = horizon / steps
        xe, _ = chain_euler_rollout(x0, v0, dt, steps, k, m)
        xx, _ = chain_exact_solution(x0, v0, torch.arange(steps + 1, dtype=DT64) * dt, k, m)
        errors.append(float((xe - xx).abs().max()))
    assert errors[-1] < 5e-3  # dt = 2.5e-3: small dt, close agreement
    orders = [math.log2(a / b) for a, b in itertools.pairwise(errors)]
    assert all(0.9 < order < 1.1 for order in orders), orders


def test_semi_implicit_euler_by_hand() -> None:
    x, v = semi_implicit_euler(torch.tensor([1.0]), torch.tensor([0.0]), lambda x, v: -x, 0.5, 2)
    # v1 = -0.5, x1 = 0.75; v2 = -0.875, x2 = 0.3125: velocity first, then position.
    assert x.tolist() == [[1.0, 0.75, 0.3125]]
    assert v.tolist() == [[0.0, -0.5, -0.875]]


def test_euler_rollout_keeps_energy_bounded() -> None:
    x0, v0 = 0.5 * torch.randn(16, 5, dtype=DT64), 0.3 * torch.randn(16, 5, dtype=DT64)
    x, v = chain_euler_rollout(x0, v0, dt=0.01, num_steps=5000)
    energy = chain_energy(x.movedim(-1, 0), v.movedim(-1, 0))
    drift = (energy - energy[0]).abs().max(0).values / energy[0]
    assert float(drift.max()) < 0.02  # symplectic: oscillates by O(dt), does not drift


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: chain_accelerations(torch.zeros(1)), "at least 2 masses"),
        (lambda: chain_accelerations(torch.zeros(3), stiffness=-1.0), "positive"),
        (lambda: chain_accelerations(torch.zeros(3), mass=torch.zeros(3)), "positive"),
        (lambda: chain_accelerations(torch.zeros(3), stiffness=torch.ones(3)), "per spring"),
        (lambda: chain_accelerations(torch.zeros(3, dtype=torch.long)), "floating-point"),
        (lambda: chain_stiffness_matrix(1), "at least 2"),
        (lambda: chain_euler_rollout(torch.zeros(3), torch.zeros(3), dt=0.0), "'dt'"),
        (lambda: chain_euler_rollout(torch.zeros(3), torch.zeros(3), dt=-0.1), "'dt'"),
        (lambda: chain_euler_rollout(torch.zeros(3), torch.zeros(3), num_steps=-1), "num_steps"),
        (lambda: chain_euler_rollout(torch.zeros(3), torch.zeros(4)), "velocity"),
        (lambda: chain_exact_solution(torch.zeros(3), torch.zeros(3), torch.zeros(2, 2)), "times"),
    ],
)
def test_bad_input_is_rejected(call: object, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()  # type: ignore[operator]


def test_non_number_dt_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="'dt'"):
        chain_euler_rollout(torch.zeros(3), torch.zeros(3), dt="0.1")  # type: ignore[arg-type]
