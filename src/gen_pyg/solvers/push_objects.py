"""The objects and pushes of the pushing experiment: Omnipush-like bodies (a square core with
side pieces of varied shapes, 0-2 attached weights) and random straight pushes from the
outside (the physics is :mod:`gen_pyg.solvers.pushing`). Units: cm, g, rad."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from gen_pyg.solvers._arrays import as_float64, check_number, rotate
from gen_pyg.solvers.pushing import PushingPhysics, polygon_signed_distance

__all__ = ["PICTURE_CLASSES", "SIDE_KINDS", "PushObject", "sample_push_object", "sample_pushes"]

Float64Array = NDArray[np.float64]

#: The picture's pixel classes, in the order of their one-hot columns.
PICTURE_CLASSES = ("nothing", "body", "light weight", "heavy weight")
#: Side-piece kinds of :func:`sample_push_object`.
SIDE_KINDS = ("none", "flat", "triangle", "circle", "concave")



@dataclass(frozen=True, eq=False)
class PushObject:
    r"""An object to push: a polygon body of uniform areal density with disc (or point)
    weights on it.

    Coordinates are cm in the object's frame, whose origin is the reference point whose
    motion the pose change reports (the core centre of :func:`sample_push_object`).

    Args:
        polygon (numpy.ndarray): Outline, counter-clockwise, shape ``[V, 2]``.
        weight_pos (numpy.ndarray, optional): Weight centres, shape ``[W, 2]``.
            (default: none)
        weight_mass (numpy.ndarray, optional): Weight masses in g, shape ``[W]``.
            (default: none)
        weight_heavy (numpy.ndarray, optional): Whether each weight is drawn as heavy,
            shape ``[W]``. (default: ``weight_mass`` above the mean of the physics' light and
            heavy masses)
        physics (PushingPhysics, optional): Density, weight radius (``0``: point masses, on
            no pixel) and raster. (default: ``PushingPhysics()``)
    """

    polygon: Float64Array
    weight_pos: Float64Array = field(default_factory=lambda: np.zeros((0, 2)))
    weight_mass: Float64Array = field(default_factory=lambda: np.zeros(0))
    weight_heavy: NDArray[np.bool_] | None = None
    physics: PushingPhysics = field(default_factory=PushingPhysics)

    def __post_init__(self) -> None:
        poly = as_float64(self.polygon, "polygon")
        if poly.ndim != 2 or poly.shape[1] != 2 or poly.shape[0] < 3:
            raise ValueError(f"'polygon' must have shape [V >= 3, 2] (got {poly.shape})")
        area = 0.5 * float(np.sum(poly[:, 0] * np.roll(poly[:, 1], -1)
                                  - np.roll(poly[:, 0], -1) * poly[:, 1]))
        if area <= 0:
            raise ValueError("'polygon' must be counter-clockwise with a positive area")
        pos = as_float64(self.weight_pos, "weight_pos").reshape(-1, 2)
        mass = as_float64(self.weight_mass, "weight_mass").reshape(-1)
        if pos.shape[0] != mass.shape[0]:
            raise ValueError(f"'weight_pos' [{pos.shape[0]}, 2] and 'weight_mass' "
                             f"[{mass.shape[0]}] must describe as many weights")
        if np.any(mass <= 0):
            raise ValueError("'weight_mass' must be positive")
        if self.weight_heavy is None:
            threshold = 0.5 * (self.physics.light_mass + self.physics.heavy_mass)
            heavy = mass > threshold
        else:
            heavy = np.asarray(self.weight_heavy, dtype=bool).reshape(-1)
            if heavy.shape != mass.shape:
                raise ValueError(f"'weight_heavy' must have shape [{mass.shape[0]}]")
        object.__setattr__(self, "polygon", poly)
        object.__setattr__(self, "weight_pos", pos)
        object.__setattr__(self, "weight_mass", mass)
        object.__setattr__(self, "weight_heavy", heavy)

    @cached_property
    def grid(self) -> tuple[Float64Array, Float64Array]:
        """Pixel-centre coordinates ``(x [R], y [R])`` of the picture box (cm)."""
        h, r = self.physics.box_half_width, self.physics.resolution
        centres = (-h + (np.arange(r) + 0.5) * (2 * h / r)).astype(np.float64)
        return centres, centres

    @cached_property
    def picture(self) -> NDArray[np.uint8]:
        """The top-down picture, ``[R, R]`` class indices into :data:`PICTURE_CLASSES`;
        ``picture[i, j]`` is the pixel at ``(x_j, y_i)`` (row 0 at the bottom)."""
        xs, ys = self.grid
        px, py = np.meshgrid(xs, ys)
        pts = np.stack([px.ravel(), py.ravel()], axis=1)
        sd = polygon_signed_distance(pts, self.polygon)[0]
        out = np.where(sd < 0, 1, 0).astype(np.uint8)
        for p, heavy in zip(self.weight_pos, self.weight_heavy, strict=True):  # type: ignore[arg-type]
            disc = np.sum((pts - p) ** 2, axis=1) <= self.physics.weight_radius ** 2
            out[disc] = 3 if heavy else 2
        return out.reshape(py.shape)

    @cached_property
    def mass_elements(self) -> tuple[Float64Array, Float64Array]:
        """The support's mass elements ``(positions [K, 2], masses [K])``: body pixels at
        the areal density, each weight spread evenly over its disc's pixels (a point mass when
        its radius is zero or it covers no pixel)."""
        xs, ys = self.grid
        px, py = np.meshgrid(xs, ys)
        pts = np.stack([px.ravel(), py.ravel()], axis=1)
        cell = (2 * self.physics.box_half_width / self.physics.resolution) ** 2
        body = polygon_signed_distance(pts, self.polygon)[0] < 0
        positions = [pts[body]]
        masses = [np.full(int(body.sum()), self.physics.density * cell)]
        for p, m in zip(self.weight_pos, self.weight_mass, strict=True):
            disc = np.sum((pts - p) ** 2, axis=1) <= self.physics.weight_radius ** 2
            if disc.any():
                positions.append(pts[disc])
                masses.append(np.full(int(disc.sum()), m / disc.sum()))
            else:
                positions.append(p[None])
                masses.append(np.array([m]))
        return np.concatenate(positions), np.concatenate(masses)

    @cached_property
    def center_of_friction(self) -> Float64Array:
        """The centre of friction :math:`r_o` (cm, object frame): the centre of mass."""
        pos, mass = self.mass_elements
        out: Float64Array = mass @ pos / mass.sum()
        return out

    @cached_property
    def limit_surface_length(self) -> float:
        r""":math:`c = m_{\max} / f_{\max} = \sum_i m_i |r_i - r_o| / \sum_i m_i` in cm."""
        pos, mass = self.mass_elements
        dist = np.linalg.norm(pos - self.center_of_friction, axis=1)
        return float(mass @ dist / mass.sum())

    @property
    def total_mass(self) -> float:
        """Body plus weights, in g."""
        return float(self.mass_elements[1].sum())


def _side_chain(kind: str, a: float) -> Float64Array:
    """Outline points strictly between the corners ``(a, -a)`` and ``(a, a)`` of the core's
    +x side, for a side piece of ``kind`` (cm)."""
    if kind == "none":
        return np.zeros((0, 2))
    if kind == "flat":
        return np.array([[a + 1.5, -a], [a + 1.5, a]])
    if kind == "triangle":
        return np.array([[a + 2.5, 0.0]])
    if kind == "circle":  # a convex circular arc of sagitta 2.5 on the side
        s = 2.5
        radius = (a * a + s * s) / (2 * s)
        half = math.asin(a / radius)
        angles = np.linspace(-half, half, 13)[1:-1]
        return np.stack([a + s - radius + radius * np.cos(angles), radius * np.sin(angles)], 1)
    if kind == "concave":  # a 2.5 cm deep piece whose outer edge is a concave arc (sagitta 1.2)
        depth, s = 2.5, 1.2
        radius = (a * a + s * s) / (2 * s)
        half = math.asin(a / radius)
        angles = np.linspace(-half, half, 11)
        x = a + depth - s + radius * (1.0 - np.cos(angles))
        return np.stack([x, radius * np.sin(angles)], 1)
    raise ValueError(f"unknown side kind {kind!r}; expected one of {SIDE_KINDS}")


def sample_push_object(
    rng: np.random.Generator,
    physics: PushingPhysics | None = None,
    *,
    core_half_width: float = 3.0,
    sides: tuple[str, str, str, str] | None = None,
) -> PushObject:
    r"""A random object in the spirit of Omnipush: a square core with a side piece on each of
    its four sides and 0-2 weights.

    Each side draws a piece from :data:`SIDE_KINDS` (none, a flat 1.5 cm slab, a 2.5 cm
    triangle, a convex circular arc, a slab with a concave circular outer edge). The number of
    weights is uniform in {0, 1, 2}; each sits on a distinct one of four slots inside the core,
    near the middle of a side, and is light or heavy with probability 1/2.

    Args:
        rng (numpy.random.Generator): The random source.
        physics (PushingPhysics, optional): Masses, radii and raster.
            (default: ``PushingPhysics()``)
        core_half_width (float, optional): Half the core's side in cm. (default: ``3.0``)
        sides (tuple of str, optional): Fix the side kinds (+x, +y, -x, -y) instead of
            drawing them. (default: ``None``)

    Example:
        >>> obj = sample_push_object(np.random.default_rng(0))
        >>> obj.picture.shape, obj.polygon.shape[1]
        ((200, 200), 2)
    """
    physics = PushingPhysics() if physics is None else physics
    a = check_number("core_half_width", core_half_width)
    kinds = sides if sides is not None else tuple(
        SIDE_KINDS[i] for i in rng.integers(0, len(SIDE_KINDS), 4))
    outline = []
    for k, kind in enumerate(kinds):
        chain = np.concatenate([np.array([[a, -a]]), _side_chain(kind, a)])
        outline.append(rotate(chain, np.full(len(chain), k * math.pi / 2)))
    polygon = np.concatenate(outline)
    num_weights = int(rng.integers(0, 3))
    slots = rng.permutation(4)[:num_weights]
    inset = a - physics.weight_radius - 0.3
    weight_pos = np.stack([inset * np.cos(slots * math.pi / 2),
                           inset * np.sin(slots * math.pi / 2)], 1).reshape(-1, 2)
    heavy = rng.random(num_weights) < 0.5
    mass = np.where(heavy, physics.heavy_mass, physics.light_mass)
    return PushObject(polygon, weight_pos, mass, heavy, physics)


def sample_pushes(
    obj: PushObject, rng: np.random.Generator, num_pushes: int,
    physics: PushingPhysics | None = None,
) -> tuple[Float64Array, Float64Array]:
    r"""Random straight pushes that reach the object.

    Each push draws a direction uniformly on the circle and a target point uniformly on the
    object's body; its line passes through the target and it starts a gap drawn uniformly in
    ``[0, max_gap]`` before its first contact (found by marching along the line in 1 mm steps
    and bisecting).

    Args:
        obj (PushObject): The object.
        rng (numpy.random.Generator): The random source.
        num_pushes (int): How many pushes.
        physics (PushingPhysics, optional): ``push_length``, ``max_gap``, ``pusher_radius``.
            (default: ``obj.physics``)

    Returns:
        ``(start [B, 2], displacement [B, 2])`` in cm.
    """
    physics = obj.physics if physics is None else physics
    if isinstance(num_pushes, bool) or not isinstance(num_pushes, int) or num_pushes < 1:
        raise ValueError(f"'num_pushes' must be an int >= 1 (got {num_pushes!r})")
    angle = rng.uniform(0.0, 2 * math.pi, num_pushes)
    direction = np.stack([np.cos(angle), np.sin(angle)], 1)
    xs, ys = obj.grid
    rows, cols = np.nonzero(obj.picture > 0)
    cell = 2 * obj.physics.box_half_width / obj.physics.resolution
    pick = rng.integers(0, rows.size, num_pushes)
    target = np.stack([xs[cols[pick]], ys[rows[pick]]], 1)
    target = target + rng.uniform(-0.5 * cell, 0.5 * cell, target.shape)
    gap = rng.uniform(0.0, physics.max_gap, num_pushes)
    r_p = physics.pusher_radius
    # march back from the target: the first sample (from far away) within reach of the body
    span = 2 * physics.box_half_width
    ts = np.arange(-span, 0.0 + 1e-9, 0.1)
    pts = (target[:, None, :] + ts[None, :, None] * direction[:, None, :]).reshape(-1, 2)
    reach = (polygon_signed_distance(pts, obj.polygon)[0] <= r_p).reshape(num_pushes, -1)
    first = np.argmax(reach, axis=1)
    lo, hi = ts[np.maximum(first - 1, 0)], ts[first]
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        inside = polygon_signed_distance(target + mid[:, None] * direction, obj.polygon)[0] <= r_p
        hi = np.where(inside, mid, hi)
        lo = np.where(inside, lo, mid)
    start = target + (lo - gap)[:, None] * direction
    return start, physics.push_length * direction
