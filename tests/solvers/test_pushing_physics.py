"""Quasi-static pushing against cases worked by hand.

For a push normal to a face at contact p = (px, py) relative to the centre of friction, with
limit-surface length c, sticking contact gives the rotation rate per unit push
omega = -py / (c^2 + px^2 + py^2) (Lynch, Mason); with no pusher friction the force is the
normal and omega = -py / (c^2 + py^2) per unit normal push. A uniform square of side a has
c = a (sqrt(2) + asinh(1)) / 6, a uniform disc of radius R has c = 2R/3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gen_pyg.solvers import (
    PushingPhysics,
    PushObject,
    polygon_signed_distance,
    quasi_static_twist,
    sample_push_object,
    sample_pushes,
    simulate_pushes,
)

SQUARE = np.array([[-5.0, -5.0], [5.0, -5.0], [5.0, 5.0], [-5.0, 5.0]])
C_SQUARE = 10.0 * (math.sqrt(2.0) + math.asinh(1.0)) / 6.0


def disc(radius: float, n: int = 256) -> np.ndarray:
    angle = np.linspace(0, 2 * math.pi, n, endpoint=False)
    return radius * np.stack([np.cos(angle), np.sin(angle)], 1)


def push_right(obj: PushObject, offsets: list[float], length: float,
               physics: PushingPhysics) -> np.ndarray:
    """Pushes along +x from contact with the square's left face at heights ``offsets``."""
    start = np.array([[-5.0 - physics.pusher_radius, h] for h in offsets])
    disp = np.tile([length, 0.0], (len(offsets), 1))
    return simulate_pushes(obj, start, disp, physics=physics).pose_change


def test_limit_surface_length_of_square_and_disc() -> None:
    square = PushObject(SQUARE)
    assert np.allclose(square.center_of_friction, 0.0, atol=1e-12)
    assert square.limit_surface_length == pytest.approx(C_SQUARE, rel=1e-4)
    assert PushObject(disc(4.0)).limit_surface_length == pytest.approx(8.0 / 3.0, rel=2e-3)


def test_signed_distance_by_hand() -> None:
    points = np.array([[7.0, 0.0], [0.0, 4.0], [8.0, 9.0]])
    sd, closest, normal = polygon_signed_distance(points, SQUARE)
    assert sd == pytest.approx([2.0, -1.0, 5.0])
    assert closest.tolist() == [[5.0, 0.0], [0.0, 5.0], [5.0, 5.0]]
    assert normal == pytest.approx(np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]))


@pytest.mark.parametrize("vertex", [0, 37, 90])
def test_push_through_centre_translates_without_turning(vertex: int) -> None:
    # towards a vertex of the 256-gon disc, whose contact normal then passes through the centre
    angle = 2 * math.pi * vertex / 256
    direction = np.array([math.cos(angle), math.sin(angle)])
    coarse = PushingPhysics(resolution=100)  # the pressure raster; symmetric either way
    for obj, reach in ((PushObject(disc(4.0), physics=coarse), 4.0),
                       (PushObject(SQUARE, physics=coarse), 5.0)):
        if obj.polygon.shape[0] == 4 and angle != 0.0:
            continue  # the square is symmetric about the push line only for axis pushes
        start = -(reach + 0.5 + 0.3) * direction  # 0.3 cm gap before contact
        res = simulate_pushes(obj, start[None], 5.0 * direction[None])
        assert res.pose_change[0, 2] == pytest.approx(0.0, abs=1e-6)
        assert res.pose_change[0, :2] == pytest.approx(4.7 * direction, abs=1e-3)


def test_off_centre_push_turns_the_right_way() -> None:
    physics = PushingPhysics(mu_c=1.0)
    change = push_right(PushObject(SQUARE, physics=physics), [2.0, -2.0], 3.0, physics)
    # pushing +x above the centre turns the square clockwise, below it counter-clockwise
    assert change[0, 2] < -0.05 and change[1, 2] > 0.05
    assert change[0] == pytest.approx(change[1] * np.array([1.0, -1.0, -1.0]), abs=1e-9)


def test_initial_rotation_rate_of_sticking_push() -> None:
    physics = PushingPhysics(mu_c=1.0, step=0.001)  # (h a/2)/(c^2 + a^2/4) = 0.25 < 1: sticks
    change = push_right(PushObject(SQUARE, physics=physics), [2.0], 0.05, physics)
    rate = -2.0 / (C_SQUARE**2 + 25.0 + 4.0)
    assert change[0, 2] / 0.05 == pytest.approx(rate, rel=1e-2)


def test_heavy_weight_towards_contact_reduces_rotation() -> None:
    # no body mass to speak of: the pressure is two point weights at (0, +-3)
    physics = PushingPhysics(mu_c=1.0, step=0.001, density=1e-9, weight_radius=0.0)
    pos = np.array([[0.0, 3.0], [0.0, -3.0]])
    rates = {}
    for name, masses in {"even": [1.0, 1.0], "near": [3.0, 1.0], "far": [1.0, 3.0]}.items():
        obj = PushObject(SQUARE, pos, np.array(masses), physics=physics)
        rates[name] = push_right(obj, [2.0], 0.05, physics)[0, 2] / 0.05
    # even: c = 3, p = (-5, 2); near: r_o = (0, 1.5), c = (3*1.5 + 4.5)/4 = 2.25, p = (-5, 0.5);
    # far: r_o = (0, -1.5), c = 2.25, p = (-5, 3.5)
    assert rates["even"] == pytest.approx(-2.0 / (9.0 + 25.0 + 4.0), rel=1e-2)
    assert rates["near"] == pytest.approx(-0.5 / (2.25**2 + 25.0 + 0.25), rel=1e-2)
    assert rates["far"] == pytest.approx(-3.5 / (2.25**2 + 25.0 + 3.5**2), rel=1e-2)
    assert abs(rates["near"]) < abs(rates["even"]) < abs(rates["far"])


def test_frictionless_pusher_slides_along_the_normal_force() -> None:
    physics = PushingPhysics(mu_c=0.0, step=0.001)
    obj = PushObject(SQUARE, physics=physics)
    start = np.array([[-5.5, 2.0]])
    res = simulate_pushes(obj, start, np.array([[0.05, 0.0]]))
    dx, dy, dtheta = res.pose_change[0]
    assert res.sticking_fraction[0] == 0.0
    assert abs(dy) < 0.01 * dx  # the force has no y part; dy comes only from the turn
    assert dtheta / dx == pytest.approx(-2.0 / C_SQUARE**2, rel=1e-2)  # force (1, 0) at (-5, 2)
    assert dtheta / 0.05 == pytest.approx(-2.0 / (C_SQUARE**2 + 4.0), rel=1e-2)


def test_push_outside_motion_cone_moves_along_its_edge() -> None:
    # pushing the left face's centre at 60 degrees: f_d = M^-1 d has |ft|/fn = 1.73 c^2 /
    # (c^2 + 25) = 0.64 > mu_c = 0.2, so the force is the cone edge (1, 0.2)
    physics = PushingPhysics(mu_c=0.2, step=0.0005)
    obj = PushObject(SQUARE, physics=physics)
    d = 0.01 * np.array([[0.5, math.sqrt(3) / 2]])
    res = simulate_pushes(obj, np.array([[-5.5, 0.0]]), d)
    dx, dy, dtheta = res.pose_change[0]
    assert res.sticking_fraction[0] == 0.0
    assert dy / dx == pytest.approx(0.2, rel=1e-2)
    assert dtheta / dx == pytest.approx(-5.0 * 0.2 / C_SQUARE**2, rel=1e-2)


def test_twist_is_continuous_across_the_motion_cone_edge() -> None:
    p, n, c, mu = np.array([[-5.0, 1.0]]), np.array([[1.0, 0.0]]), 3.0, 0.3
    u = np.array([-p[0, 1], p[0, 0]])
    edge = np.array([1.0, mu]) + u * (u @ np.array([1.0, mu])) / c**2  # M (n + mu t)
    edge_angle = math.atan2(edge[1], edge[0])
    twists = []
    for eps in (-1e-7, 1e-7):
        d = np.array([[math.cos(edge_angle + eps), math.sin(edge_angle + eps)]])
        twist, vn, stick = quasi_static_twist(p, n, d, c, mu)
        twists.append(twist[0] / vn[0])
        assert bool(stick[0]) == (eps < 0)
    assert twists[0] == pytest.approx(twists[1], abs=1e-6)


def test_pusher_stays_out_and_travels_five_cm() -> None:
    rng = np.random.default_rng(3)
    physics = PushingPhysics(step=0.02)
    obj = sample_push_object(rng, physics, sides=("concave", "flat", "triangle", "flat"))
    start, disp = sample_pushes(obj, rng, 60)
    gap = polygon_signed_distance(start, obj.polygon)[0] - physics.pusher_radius
    assert gap.min() >= 0.0 and gap.max() <= physics.max_gap + 1e-6
    res = simulate_pushes(obj, start, disp, return_trajectory=True)
    assert res.clearance is not None
    assert res.clearance.min() >= -physics.tolerance  # never more than 1e-6 cm inside
    assert np.linalg.norm(res.pusher_end - start, axis=1) == pytest.approx(np.full(60, 5.0))
    assert np.abs(res.pose_change[:, :2]).max() > 1.0  # the pushes do move it


def test_pusher_wedged_in_notches_stays_out_to_the_tolerance() -> None:
    # a cross (a flat slab on every side of the core) has four 90-degree notches, where the
    # pusher touches two faces; resolving one face at a time there left the pusher up to
    # 38 um inside on 9 of these 40 pushes (10,000 steps)
    physics = PushingPhysics(resolution=100)
    rng = np.random.default_rng(0)
    obj = sample_push_object(rng, physics, sides=("flat", "flat", "flat", "flat"))
    start, disp = sample_pushes(obj, rng, 40)
    res = simulate_pushes(obj, start, disp, return_trajectory=True)
    assert res.clearance is not None
    assert res.clearance.min() >= -physics.tolerance
    # the pushes reach the notches: the pusher ends wedged, touching two faces, in some
    reference = res.pose_change
    local = _to_object_frame(res.pusher_end - reference[:, :2], -reference[:, 2])
    notches = np.array([[s * 3.0, t * 3.0] for s in (-1, 1) for t in (-1, 1)])
    corner = np.linalg.norm(local[:, None] - notches[None], axis=2).min(axis=1)
    wedged = np.abs(corner - physics.pusher_radius * math.sqrt(2.0)) < 1e-4
    assert wedged.sum() >= 3


def _to_object_frame(v: np.ndarray, angle: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([cos * v[:, 0] - sin * v[:, 1], sin * v[:, 0] + cos * v[:, 1]], axis=1)


def test_small_changes_of_the_push_change_the_result_little() -> None:
    physics = PushingPhysics(step=0.005)
    obj = sample_push_object(np.random.default_rng(4), physics,
                             sides=("circle", "concave", "triangle", "none"))
    base = np.array([-9.0, 0.7])
    angles = np.array([0.0, 1e-3, 0.0])
    start = np.stack([base, base, np.array([-9.0, 0.701])])
    disp = 5.0 * np.stack([np.cos(angles), np.sin(angles)], 1)
    change = simulate_pushes(obj, start, disp).pose_change
    assert np.abs(change[0]).max() > 0.5
    assert np.abs(change[1] - change[0]).max() < 0.02
    assert np.abs(change[2] - change[0]).max() < 0.02


def test_pusher_moving_away_or_missing_leaves_the_object() -> None:
    obj = PushObject(SQUARE)
    start = np.array([[-5.5, 0.0], [-5.5, 7.0]])
    disp = np.array([[-5.0, 0.0], [5.0, 0.0]])
    res = simulate_pushes(obj, start, disp)
    assert np.array_equal(res.pose_change, np.zeros((2, 3)))


def test_bad_input_is_named() -> None:
    obj = PushObject(SQUARE)
    with pytest.raises(ValueError, match="'start'"):
        simulate_pushes(obj, np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]))
    with pytest.raises(ValueError, match="'displacement'"):
        simulate_pushes(obj, np.array([[-6.0, 0.0]]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="'polygon'"):
        PushObject(SQUARE[::-1])
    with pytest.raises(ValueError, match="'mu_c'"):
        PushingPhysics(mu_c=-0.1)
    with pytest.raises(TypeError, match="'step'"):
        PushingPhysics(step="1")  # type: ignore[arg-type]
