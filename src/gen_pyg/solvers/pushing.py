r"""Quasi-static planar pushing: a point-like (small disc) pusher moves an object on a table.

The model is the standard one of slow robotic pushing. The table's friction on the object is
described by its *limit surface* (Goyal, Ruina & Papadopoulos, 1991), the set of friction
wrenches the support can produce while the object slides; here it is the ellipsoid

.. math::
    \Big(\frac{f_x}{f_{\max}}\Big)^2 + \Big(\frac{f_y}{f_{\max}}\Big)^2
    + \Big(\frac{m}{m_{\max}}\Big)^2 = 1, \qquad
    f_{\max} = \mu_s g \sum_i m_i, \quad m_{\max} = \mu_s g \sum_i m_i\, |r_i - r_o|,

about the centre of friction :math:`r_o` (the centre of mass when the support pressure follows
the mass distribution), with the object's twist :math:`(v_x, v_y, \omega)` normal to it
(maximum dissipation). With :math:`c = m_{\max} / f_{\max}` (the mass-weighted mean distance
from :math:`r_o`, a length), a contact force :math:`f` at :math:`p` (relative to :math:`r_o`)
gives the twist

.. math::
    (v_x, v_y, \omega) \propto \big(f_x,\ f_y,\ (p \times f) / c^2\big),

so the kinematics depend on the pressure only through :math:`r_o` and :math:`c`, and not on
:math:`\mu_s`, which only scales the forces. The contact point moves with
:math:`v_c = M f`, :math:`M = I + u u^\top / c^2`, :math:`u = (-p_y, p_x)`. The pusher-object
friction :math:`\mu_c` bounds :math:`f` to the friction cone :math:`n \pm \mu_c t` (inward
normal :math:`n`, tangent :math:`t`); its image under :math:`M` is the *motion cone*
(Mason, 1986; Lynch & Mason, 1992). A pusher velocity :math:`d` inside the motion cone
sticks (the contact point moves with the pusher, :math:`f = M^{-1} d`); outside it, the
pusher slides along the object and the force lies on the cone edge on the side of
:math:`d`. In both cases the twist is scaled so that the contact point's normal speed equals
the pusher's.

Each step of :func:`simulate_pushes` moves the pusher by ``step`` along its straight line,
finds its penetration :math:`\delta = r_p - \operatorname{sd}` into the object (``sd`` the
signed distance of its centre to the outline), and moves the object by the twist of the
model scaled to a normal contact displacement :math:`\delta`, so the pusher stays on the
boundary and never enters; when :math:`\delta \le 0` (no contact, or the pusher moving away)
the object stays. Where the move leaves an overlap (the rotation's second-order part, or a
pusher wedged in a notch touching two faces, which the two faces' twists then resolve
together), further passes resolve it, until every overlap is at most ``tolerance`` (1e-6 cm):
the pusher's clearance never falls below ``-tolerance``. The pose is integrated with the
midpoint rule.

Why quasi-static: real pushing experiments such as Omnipush (Bauza et al., 2019) push slowly
(a few cm/s), so inertia is negligible against friction and the limit-surface model is the
standard model of that regime. Known approximations: the ellipsoidal limit surface (the exact
one is not an ellipsoid; errors of a few percent in the twist direction), the support
pressure taken proportional to the mass above each point of the base (a rigid object's
pressure distribution is statically indeterminate), a single contact (the closest boundary
point; a pusher wedged in a narrow notch touches two faces), Coulomb friction with constant
coefficients, and no table-edge, tilting or impact effects.

Units: centimetres, grams, radians. Positions are in the world frame, which is the object's
frame at the start of a push (its *reference point*, the core centre, at the origin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from gen_pyg.solvers._arrays import as_float64, check_number, rotate

__all__ = [
    "PushResult",
    "PushingPhysics",
    "polygon_signed_distance",
    "quasi_static_twist",
    "simulate_pushes",
]

Float64Array = NDArray[np.float64]

@dataclass(frozen=True)
class PushingPhysics:
    r"""The physical and numerical parameters of the pushing simulation (cm, g, rad).

    The defaults are the stand-in's: values of the order of a laboratory pushing setup such as
    Omnipush, not measurements of it.

    Args:
        mu_s (float, optional): Object-table friction :math:`\mu_s`. With the ellipsoidal
            limit surface it only scales the friction forces and leaves the motion unchanged;
            it is kept to state the model fully. (default: ``0.35``)
        mu_c (float, optional): Pusher-object friction :math:`\mu_c` (half-angle
            :math:`\arctan \mu_c` of the friction cone). (default: ``0.25``)
        density (float, optional): Areal density of the object's body in g/cm².
            (default: ``1.0``)
        light_mass (float, optional): Mass of a light weight in g. (default: ``50.0``)
        heavy_mass (float, optional): Mass of a heavy weight in g. (default: ``150.0``)
        weight_radius (float, optional): Radius in cm of the discs the weights occupy.
            (default: ``1.0``)
        pusher_radius (float, optional): Radius :math:`r_p` of the pusher's disc in cm.
            (default: ``0.5``)
        push_length (float, optional): Distance the pusher travels, in cm. (default: ``5.0``)
        step (float, optional): Pusher travel per integration step, in cm. (default: ``0.02``)
        max_gap (float, optional): Pushes of :func:`sample_pushes` start up to this far (cm)
            from first contact. (default: ``1.0``)
        box_half_width (float, optional): The picture covers
            :math:`[-h, h]^2` cm around the reference point. (default: ``10.0``)
        resolution (int, optional): Picture (and pressure raster) pixels per side.
            (default: ``200``)
        max_corrections (int, optional): Extra contact passes per step: where the pusher
            still overlaps the object after a step's move, the overlap is resolved again
            with the then closest face (a disc wedged in a notch, touching two faces: with
            both faces at once), up to this many times. (default: ``4``)
        tolerance (float, optional): Overlaps (cm) below this count as contact without
            penetration; the clearance of the pusher stays above ``-tolerance``.
            (default: ``1e-6``)
    """

    mu_s: float = 0.35
    mu_c: float = 0.25
    density: float = 1.0
    light_mass: float = 50.0
    heavy_mass: float = 150.0
    weight_radius: float = 1.0
    pusher_radius: float = 0.5
    push_length: float = 5.0
    step: float = 0.02
    max_gap: float = 1.0
    box_half_width: float = 10.0
    resolution: int = 200
    max_corrections: int = 4
    tolerance: float = 1e-6

    def __post_init__(self) -> None:
        for name in ("mu_s", "density", "light_mass", "heavy_mass", "push_length", "step",
                     "box_half_width"):
            check_number(name, getattr(self, name))
        for name in ("mu_c", "weight_radius", "pusher_radius", "max_gap"):
            check_number(name, getattr(self, name), positive=False)
        for name, low in (("resolution", 2), ("max_corrections", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"'{name}' must be an int >= {low} (got {value!r})")
        check_number("tolerance", self.tolerance)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-serialisable dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def polygon_signed_distance(
    points: Float64Array, polygon: Float64Array
) -> tuple[Float64Array, Float64Array, Float64Array]:
    r"""Signed distance from points to a simple polygon, with the closest boundary point and
    the outward normal there.

    The distance is negative inside. The normal is the unit vector from the
    closest point towards the point (away from it when the point is inside), the edge's own
    normal when the point is on the boundary; at a convex vertex it turns continuously, as the
    contact normal of a disc rolling round the corner does.

    Args:
        points (numpy.ndarray): Points, shape ``[B, 2]``.
        polygon (numpy.ndarray): Vertices in counter-clockwise order, shape ``[V, 2]``,
            ``V >= 3``, the last joined to the first.

    Returns:
        ``(sd, closest, normal)`` of shapes ``[B]``, ``[B, 2]``, ``[B, 2]``.

    Example:
        >>> square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
        >>> points = np.array([[2.0, 0.5], [0.5, 0.4]])
        >>> sd, closest, normal = polygon_signed_distance(points, square)
        >>> sd.tolist(), closest[0].tolist(), normal[0].tolist()
        ([1.0, -0.4], [1.0, 0.5], [1.0, 0.0])
    """
    a = polygon
    e = np.roll(polygon, -1, axis=0) - a
    len2 = e[:, 0] * e[:, 0] + e[:, 1] * e[:, 1]
    # [B, E] work in separate x / y planes (several times faster than [B, E, 2] einsums)
    wx = points[:, 0:1] - a[:, 0]
    wy = points[:, 1:2] - a[:, 1]
    t = (wx * e[:, 0] + wy * e[:, 1]) * (1.0 / len2)
    np.clip(t, 0.0, 1.0, out=t)
    wx -= t * e[:, 0]
    wy -= t * e[:, 1]
    d2 = wx * wx + wy * wy
    k = np.argmin(d2, axis=1)
    rows = np.arange(points.shape[0])
    dist = np.sqrt(d2[rows, k])
    offset = np.stack([wx[rows, k], wy[rows, k]], axis=1)
    closest = points - offset
    # inside or outside from the closest feature (robust where a crossing ray would graze a
    # vertex): the side of the closest edge, or at a vertex the side of the sum of the
    # normals of its two edges (the pseudo-normal)
    normals = np.stack([e[:, 1], -e[:, 0]], axis=1) / np.sqrt(len2)[:, None]
    tk = t[rows, k]
    count = polygon.shape[0]
    pseudo = np.where((tk <= 0.0)[:, None], normals[k] + normals[(k - 1) % count],
                      np.where((tk >= 1.0)[:, None], normals[k] + normals[(k + 1) % count],
                               normals[k]))
    inside = np.einsum("ij,ij->i", offset, pseudo) < 0
    edge_normal = normals[k]
    on_boundary = dist < 1e-12
    normal = np.where(on_boundary[:, None], edge_normal,
                      offset / np.where(on_boundary, 1.0, dist)[:, None])
    normal = np.where(inside[:, None] & ~on_boundary[:, None], -normal, normal)
    sd = np.where(inside, -dist, dist)
    return sd, closest, normal


def quasi_static_twist(
    contact: Float64Array,
    normal: Float64Array,
    direction: Float64Array,
    c: float,
    mu_c: float,
) -> tuple[Float64Array, Float64Array, NDArray[np.bool_]]:
    r"""The object's twist under a pusher, from the ellipsoidal limit surface and the motion
    cone (see the module text).

    Args:
        contact (numpy.ndarray): Contact points :math:`p` relative to the centre of friction,
            in the object's frame, shape ``[B, 2]``.
        normal (numpy.ndarray): Unit inward normals :math:`n` of the object at the contacts
            (the direction the pusher presses), shape ``[B, 2]``.
        direction (numpy.ndarray): Pusher velocities :math:`d` in the object's frame,
            shape ``[B, 2]``.
        c (float): The limit-surface length :math:`c = m_{\max} / f_{\max}`.
        mu_c (float): Pusher-object friction coefficient.

    Returns:
        ``(twist, normal_speed, sticking)``: the twist :math:`(v_x, v_y, \omega)` about the
        centre of friction in the object's frame for a contact force with unit normal
        component, ``[B, 3]``; the normal speed :math:`n \cdot v_c` of the contact point it
        gives, ``[B]`` (divide the twist by it for a unit normal push); and whether the
        contact sticks, ``[B]``.

    Example:
        >>> twist, vn, stick = quasi_static_twist(np.array([[-1.0, 0.0]]), np.array([[1.0, 0.0]]),
        ...                                       np.array([[1.0, 0.0]]), 0.5, 0.3)
        >>> (twist / vn[:, None]).tolist(), stick.tolist()
        ([[1.0, 0.0, 0.0]], [True])
    """
    n, d = normal, direction
    t = np.stack([-n[:, 1], n[:, 0]], axis=1)
    u = np.stack([-contact[:, 1], contact[:, 0]], axis=1)
    c2 = c * c
    denom = c2 + np.einsum("ij,ij->i", u, u)
    f_d = d - u * (np.einsum("ij,ij->i", u, d) / denom)[:, None]  # M^{-1} d
    fn = np.einsum("ij,ij->i", n, f_d)
    ft = np.einsum("ij,ij->i", t, f_d)
    sticking = (fn > 0) & (np.abs(ft) <= mu_c * fn)
    side = np.where(ft >= 0, 1.0, -1.0)
    f_edge = n + (mu_c * side)[:, None] * t
    f = np.where(sticking[:, None], f_d / np.where(sticking, fn, 1.0)[:, None], f_edge)
    uf = np.einsum("ij,ij->i", u, f)
    twist = np.concatenate([f, (uf / c2)[:, None]], axis=1)
    v_contact = f + u * (uf / c2)[:, None]
    return twist, np.einsum("ij,ij->i", n, v_contact), sticking


def _two_contact_moves(
    move: Float64Array,
    previous: list[Float64Array],
    contact: Float64Array,
    outward: Float64Array,
    unit: Float64Array,
    local: Float64Array,
    depth: Float64Array,
    r_p: float,
    cap: Float64Array,
) -> None:
    r"""Where the pusher is wedged in a concave corner (the previous correction pass resolved
    one face, this pass finds it in another face that rises in front of the first), replace
    the rows of ``move`` (``[B, 3]`` pose changes in the object frame, changed in place) by
    the combination :math:`s_1 \xi_1 + s_2 \xi_2`, :math:`s \ge 0`, of the two faces'
    twists per unit normal push that removes both overlaps at once: the point the
    alternating single-face passes converge to, reached in one linear solve of
    :math:`G s = \delta` with :math:`G_{ij} = n_i \cdot v_{\xi_j}(p_i)` (the normal motion of
    contact :math:`i` under twist :math:`j`). Rows whose solve is not such a push keep their
    single-face move."""
    p1, o1, xi1 = previous
    p2, o2, xi2 = contact, outward, unit

    def normal_motion(o: Float64Array, p: Float64Array, xi: Float64Array) -> Float64Array:
        # inward normal motion of the object's point p under twist xi (about the centre)
        v = xi[:, :2] + xi[:, 2:3] * np.stack([-p[:, 1], p[:, 0]], axis=1)
        out: Float64Array = -np.einsum("ij,ij->i", o, v)
        return out

    wedge = ((np.einsum("ij,ij->i", o1, o2) < 1.0 - 1e-12)
             & (np.einsum("ij,ij->i", o1, p2 - p1) > 0.0)
             & (np.einsum("ij,ij->i", o2, p1 - p2) > 0.0))
    if not wedge.any():
        return
    g11, g12 = normal_motion(o1, p1, xi1), normal_motion(o1, p1, xi2)
    g21, g22 = normal_motion(o2, p2, xi1), normal_motion(o2, p2, xi2)
    depth1 = r_p - np.einsum("ij,ij->i", o1, local - p1)  # the first face's overlap now
    det = g11 * g22 - g12 * g21
    safe = np.where(np.abs(det) > 1e-12, det, 1.0)
    s1 = (g22 * depth1 - g12 * depth) / safe
    s2 = (g11 * depth - g21 * depth1) / safe
    use = wedge & (det > 1e-12) & (s1 >= 0.0) & (s2 >= 0.0)
    both = s1[:, None] * xi1 + s2[:, None] * xi2
    length = np.linalg.norm(both[:, :2], axis=1)
    both *= np.minimum(1.0, cap / np.maximum(length, 1e-300))[:, None]
    move[use] = both[use]


@dataclass(frozen=True)
class PushResult:
    """What :func:`simulate_pushes` returns (cm, rad, world frame = the object's initial frame).

    Attributes:
        pose_change: ``[B, 3]`` change ``(dx, dy, dtheta)`` of the object's reference point
            and orientation (counter-clockwise positive).
        pusher_end: ``[B, 2]`` final pusher positions.
        sticking_fraction: ``[B]`` fraction of the in-contact steps that stuck.
        clearance: ``[B, S]`` signed distance minus pusher radius after every step
            (``>= -tolerance`` of the physics: the pusher stays out), or ``None``.
        poses: ``[B, S + 1, 3]`` reference-point poses after every step, or ``None``.
    """

    pose_change: Float64Array
    pusher_end: Float64Array
    sticking_fraction: Float64Array
    clearance: Float64Array | None = None
    poses: Float64Array | None = None


class Pushable(Protocol):
    """What :func:`simulate_pushes` reads of an object (a
    :class:`~gen_pyg.solvers.PushObject`): its outline, its physics, its centre of friction and
    the length scale of its limit surface."""

    @property
    def polygon(self) -> Float64Array: ...
    @property
    def physics(self) -> PushingPhysics: ...
    @property
    def center_of_friction(self) -> Float64Array: ...
    @property
    def limit_surface_length(self) -> float: ...


def simulate_pushes(
    obj: Pushable,
    start: Float64Array,
    displacement: Float64Array,
    *,
    physics: PushingPhysics | None = None,
    return_trajectory: bool = False,
) -> PushResult:
    r"""Push one object, starting from rest at the origin, once per row of ``start``.

    All pushes of the object run at once (numpy, vectorised over the pushes). The pusher moves
    from ``start`` along ``displacement`` in ``ceil(|displacement| / step)`` equal steps; each
    push starts from the object's initial pose and is independent of the others.

    Args:
        obj (PushObject): The object.
        start (numpy.ndarray): Pusher start positions in cm, ``[B, 2]``, outside the object
            by at least the pusher radius.
        displacement (numpy.ndarray): Pusher displacements in cm, ``[B, 2]``.
        physics (PushingPhysics, optional): ``mu_c``, ``pusher_radius`` and ``step``.
            (default: ``obj.physics``)
        return_trajectory (bool, optional): Also return the clearance and the poses after
            every step (costs a second distance evaluation per step). (default: ``False``)

    Returns:
        PushResult: the pose changes and diagnostics.

    Example:
        >>> from gen_pyg.solvers import PushObject
        >>> square = np.array([[-5.0, -5.0], [5.0, -5.0], [5.0, 5.0], [-5.0, 5.0]])
        >>> res = simulate_pushes(PushObject(square), np.array([[-5.5, 0.0]]),
        ...                       np.array([[5.0, 0.0]]))
        >>> np.round(res.pose_change, 6) + 0.0
        array([[5., 0., 0.]])
    """
    physics = obj.physics if physics is None else physics
    start = as_float64(start, "start")
    displacement = as_float64(displacement, "displacement")
    if start.ndim != 2 or start.shape[1] != 2 or displacement.shape != start.shape:
        raise ValueError(f"'start' and 'displacement' must both be [B, 2] (got {start.shape} "
                         f"and {displacement.shape})")
    cof = obj.center_of_friction
    c = obj.limit_surface_length
    poly = obj.polygon - cof
    r_p, mu_c = physics.pusher_radius, physics.mu_c
    sd0 = polygon_signed_distance(start - cof, poly)[0]
    if np.any(sd0 < r_p - 1e-9):
        bad = int(np.argmax(sd0 < r_p - 1e-9))
        raise ValueError(f"'start'[{bad}] overlaps the object (pusher centre {sd0[bad]:.4g} cm "
                         f"from the outline, radius {r_p})")
    batch = start.shape[0]
    length = np.linalg.norm(displacement, axis=1)
    # each push in equal steps of at most ``step`` (its own count, so that a push's result does
    # not depend on the other pushes of the batch)
    steps_of = np.maximum(1, np.ceil(length / physics.step - 1e-9)).astype(np.int64)
    num_steps = int(steps_of.max()) if batch else 0
    ds = displacement / steps_of[:, None]
    cap = 4.0 * np.linalg.norm(ds, axis=1)
    pos = np.tile(cof, (batch, 1))  # the centre of friction, world frame
    theta = np.zeros(batch)
    pusher = start.copy()
    stuck = np.zeros(batch)
    touched = np.zeros(batch)
    clearance = np.zeros((batch, num_steps)) if return_trajectory else None
    poses = np.zeros((batch, num_steps + 1, 3)) if return_trajectory else None

    def reference() -> Float64Array:
        return np.concatenate([pos + rotate(np.tile(-cof, (batch, 1)), theta),
                               theta[:, None]], axis=1)

    if poses is not None:
        poses[:, 0] = reference()
    for k in range(num_steps):
        pusher += np.where((k < steps_of)[:, None], ds, 0.0)
        active = np.arange(batch)
        # the previous pass's contact of each active push (point, outward normal, twist per
        # unit normal push, in the object frame), for a pusher wedged between two faces
        previous: tuple[Float64Array, Float64Array, Float64Array] | None = None
        for _ in range(1 + physics.max_corrections):
            local = rotate(pusher[active] - pos[active], -theta[active])
            sd, closest, outward = polygon_signed_distance(local, poly)
            depth = r_p - sd
            inner = depth > physics.tolerance
            hit = active[inner]
            if not hit.size:
                break
            d_obj = rotate(ds[hit], -theta[hit])
            twist, vn, sticking = quasi_static_twist(closest[inner], -outward[inner], d_obj,
                                                     c, mu_c)
            scale = np.minimum(depth[inner] / np.maximum(vn, 1e-9), cap[hit] / np.maximum(
                np.linalg.norm(twist[:, :2], axis=1), 1e-9))
            unit = twist / np.maximum(vn, 1e-9)[:, None]
            move = twist * scale[:, None]
            if previous is not None:
                _two_contact_moves(move, [x[inner] for x in previous], closest[inner],
                                   outward[inner], unit, local[inner], depth[inner], r_p, cap[hit])
            previous = (closest[inner], outward[inner], unit)
            dtheta = move[:, 2]
            pos[hit] += rotate(move[:, :2], theta[hit] + 0.5 * dtheta)
            theta[hit] += dtheta
            if active.size == batch:  # statistics of the step's first contact only
                stuck[hit] += sticking
                touched[hit] += 1
            active = hit
        if clearance is not None and poses is not None:
            local = rotate(pusher - pos, -theta)
            clearance[:, k] = polygon_signed_distance(local, poly)[0] - r_p
            poses[:, k + 1] = reference()
    return PushResult(
        pose_change=reference(),
        pusher_end=pusher,
        sticking_fraction=stuck / np.maximum(touched, 1),
        clearance=clearance,
        poses=poses,
    )

