"""Random perfect mazes, supermazes and a vectorised CPU ray caster for :class:`Mazes`.

Everything here is numpy: no OpenGL and no maze library (``labmaze`` would add a compiled
dependency for what a randomised depth-first search does in a few lines).

World frame: the floor is the plane :math:`z = 0`, walls are unit cubes of height
:obj:`WALL_HEIGHT` on a block grid (block :math:`(i, j)` covers
:math:`[i, i + 1) \\times [j, j + 1)`), yaw is counter-clockwise from the :math:`+x` axis and
pitch is positive upwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Float64Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
UInt8Array = NDArray[np.uint8]

WALL_HEIGHT = 1.0
#: Pixel classes of :func:`render` with ``return_labels=True``.
SKY, FLOOR, WALL = 0, 1, 2
_SKY_TOP = np.array([0.35, 0.55, 0.85])
_SKY_HORIZON = np.array([0.80, 0.88, 0.95])


def generate_maze(cells: int, rng: np.random.Generator) -> tuple[BoolArray, IntArray]:
    """A perfect maze on a ``cells x cells`` grid by randomised depth-first search.

    Every cell is visited once and reached through exactly one carved passage, so the
    passages form a spanning tree: all cells are connected and there is no cycle.

    Args:
        cells (int): Cells per side, at least 1.
        rng (numpy.random.Generator): Source of randomness.

    Returns:
        ``walls`` of shape ``[2 cells + 1, 2 cells + 1]`` (``True`` = wall block; cell
        :math:`(a, b)` is block :math:`(2a + 1, 2b + 1)`, a carved passage opens the block
        between two cells) and ``edges`` ``[cells^2 - 1, 2]`` (the passages, as pairs of
        flat cell indices :math:`a \\cdot \\mathrm{cells} + b`).
    """
    size = 2 * cells + 1
    walls = np.ones((size, size), dtype=bool)
    visited = np.zeros((cells, cells), dtype=bool)
    edges: list[tuple[int, int]] = []
    start = (int(rng.integers(cells)), int(rng.integers(cells)))
    visited[start] = True
    walls[2 * start[0] + 1, 2 * start[1] + 1] = False
    stack = [start]
    while stack:
        a, b = stack[-1]
        options = [
            (a + da, b + db)
            for da, db in ((1, 0), (-1, 0), (0, 1), (0, -1))
            if 0 <= a + da < cells and 0 <= b + db < cells and not visited[a + da, b + db]
        ]
        if not options:
            stack.pop()
            continue
        na, nb = options[int(rng.integers(len(options)))]
        visited[na, nb] = True
        walls[2 * na + 1, 2 * nb + 1] = False
        walls[a + na + 1, b + nb + 1] = False  # the block between the two cells
        edges.append((a * cells + b, na * cells + nb))
        stack.append((na, nb))
    return walls, np.array(edges, dtype=np.int64).reshape(-1, 2)


def _hsv_to_rgb(h: Float64Array, s: Float64Array, v: Float64Array) -> Float64Array:
    h6 = (np.asarray(h) % 1.0) * 6.0
    c = v * s
    x = c * (1.0 - np.abs(h6 % 2.0 - 1.0))
    zero = np.zeros_like(c)
    sector = np.floor(h6).astype(int) % 6
    table = [(c, x, zero), (x, c, zero), (zero, c, x), (zero, x, c), (x, zero, c), (c, zero, x)]
    rgb = np.zeros((*np.shape(c), 3))
    for k, (r, g, b) in enumerate(table):
        mask = sector == k
        rgb[mask] = np.stack([r[mask], g[mask], b[mask]], -1)
    out: Float64Array = rgb + (v - c)[..., None]
    return out


@dataclass
class Scene:
    """A block world to render: ``walls`` ``[X, Y]`` (``True`` = wall), ``wall_color`` and
    ``floor_color`` ``[X, Y, 3]`` (RGB in [0, 1], per block) and ``stripe`` ``[X, Y]`` (the
    darkening of the vertical stripe in the middle of each wall face, 1 = none). Blocks on the
    border must be walls, so that every ray stops."""

    walls: BoolArray
    wall_color: Float64Array
    floor_color: Float64Array
    stripe: Float64Array


def maze_colors(
    walls: BoolArray, rng: np.random.Generator
) -> tuple[Float64Array, Float64Array, Float64Array]:
    """A palette for one maze: its walls take three colours around a random hue (one per
    wall block), its floor a two-tone checkerboard of another hue, and its stripes a random
    darkness shared by the maze."""
    shape = walls.shape
    hue = rng.random()
    hues = hue + np.array([0.0, 0.08, -0.08])
    sats = rng.uniform(0.45, 0.9, 3)
    vals = rng.uniform(0.55, 0.95, 3)
    palette = _hsv_to_rgb(hues, sats, vals)
    choice = rng.integers(3, size=shape)
    wall_color = palette[choice]
    floor_hue = hue + 0.5 + rng.uniform(-0.15, 0.15)
    tones = _hsv_to_rgb(
        np.array([floor_hue, floor_hue]), np.full(2, rng.uniform(0.1, 0.4)),
        np.array([0.35, 0.5]),
    )
    ii, jj = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    floor_color = tones[(ii + jj) % 2]
    stripe = np.full(shape, rng.uniform(0.45, 0.8))
    return wall_color, floor_color, stripe


def supermaze(m: int, cells: int, rng: np.random.Generator) -> Scene:
    """``m x m`` independent perfect mazes of ``cells x cells`` cells (each with its own
    palette) tiled side by side; maze :math:`(a, b)` takes blocks
    :math:`[aB, (a+1)B) \\times [bB, (b+1)B)` with :math:`B = 2\\,\\mathrm{cells} + 1`."""
    size = 2 * cells + 1
    walls = np.ones((m * size, m * size), dtype=bool)
    wall_color = np.zeros((m * size, m * size, 3))
    floor_color = np.zeros((m * size, m * size, 3))
    stripe = np.ones((m * size, m * size))
    for a in range(m):
        for b in range(m):
            part = (slice(a * size, (a + 1) * size), slice(b * size, (b + 1) * size))
            w, _ = generate_maze(cells, rng)
            walls[part] = w
            wall_color[part], floor_color[part], stripe[part] = maze_colors(w, rng)
    return Scene(walls, wall_color, floor_color, stripe)


def focal_length(image_size: int, fov: float) -> float:
    """Focal length in pixels of a pinhole camera whose horizontal field of view is ``fov``
    radians over ``image_size`` pixels."""
    return 0.5 * image_size / math.tan(0.5 * fov)


def render(
    scene: Scene,
    x: Float64Array,
    y: Float64Array,
    yaw: Float64Array,
    pitch: Float64Array,
    z: float | Float64Array = 0.5,
    image_size: int = 32,
    fov: float = math.pi / 2,
    fog: float = 0.08,
    return_labels: bool = False,
) -> UInt8Array | tuple[UInt8Array, IntArray]:
    r"""Render views of ``scene`` with a pinhole camera by ray casting (DDA over the block
    grid, one ray per image column, all views at once).

    A pixel at column offset :math:`u` and row offset :math:`v` from the image centre (rows
    downwards) looks along :math:`\mathbf{f} + (u / f)\,\mathbf{r}` in the floor plane (forward
    and right unit vectors, focal length :math:`f` from :func:`focal_length`), so a column's
    ray parameter at the first wall is the wall's depth :math:`d` along :math:`\mathbf{f}`. A
    point at height :math:`h` and depth :math:`d` lands on row offset

    .. math::
        v = f \tan(\mathrm{pitch}) - f\,\frac{h - z}{d},

    so the wall covers :math:`f H / d` rows and pitch shifts the whole image by
    :math:`f \tan(\mathrm{pitch})` rows (the horizon moves down when the camera looks up).
    Rows below the wall show the floor block under the pixel's ray, rows above show the sky.
    Wall faces are shaded (faces normal to :math:`y` darker), have a darker vertical stripe in
    their middle fifth, and fade with depth as :math:`1 / (1 + \mathrm{fog} \cdot d)`.

    Args:
        scene (Scene): The world.
        x, y (numpy.ndarray): Camera positions ``[V]`` in blocks (inside free blocks).
        yaw, pitch (numpy.ndarray): Camera angles ``[V]`` in radians.
        z (float or numpy.ndarray, optional): Camera height(s), in ``(0, 1)`` wall heights.
            (default: ``0.5``)
        image_size (int, optional): Width and height ``S`` in pixels. (default: ``32``)
        fov (float, optional): Horizontal field of view in radians. (default: :math:`\pi/2`)
        fog (float, optional): Depth fading of walls and floor. (default: ``0.08``)
        return_labels (bool, optional): Also return the pixel classes ``[V, S, S]``
            (:obj:`SKY`, :obj:`FLOOR`, :obj:`WALL`). (default: ``False``)

    Returns:
        Images ``[V, 3, S, S]`` (uint8), and the labels when asked.
    """
    x, y, yaw, pitch = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (x, y, yaw, pitch))
    num_views = x.shape[0]
    zc = np.broadcast_to(np.asarray(z, dtype=np.float64), (num_views,))
    s = image_size
    f = focal_length(s, fov)
    u = np.arange(s) + 0.5 - 0.5 * s  # column offsets, left to right
    v = np.arange(s) + 0.5 - 0.5 * s  # row offsets, top to bottom
    cos_yaw, sin_yaw = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    # forward (cos, sin), right (sin, -cos): one ray per (view, column)
    dx = cos_yaw + (u / f) * sin_yaw
    dy = sin_yaw - (u / f) * cos_yaw
    px = np.broadcast_to(x[:, None], dx.shape)
    py = np.broadcast_to(y[:, None], dy.shape)
    depth, side, hit_x, hit_y, tex = _cast(scene.walls, px, py, dx, dy)

    horizon = f * np.tan(pitch)[:, None, None]  # [V, 1, 1]
    d3 = depth[:, None, :]  # [V, 1, S]
    top = horizon - f * (WALL_HEIGHT - zc[:, None, None]) / d3
    bottom = horizon + f * zc[:, None, None] / d3
    vv = v[None, :, None]
    is_wall = (vv >= top) & (vv < bottom)
    is_floor = vv >= bottom
    labels = np.where(is_wall, WALL, np.where(is_floor, FLOOR, SKY)).astype(np.int64)

    # walls: per block colour, face shading, stripe, fog
    shade = np.where(side == 1, 0.75, 1.0)
    in_stripe = np.abs(tex - 0.5) < 0.1
    shade = shade * np.where(in_stripe, scene.stripe[hit_x, hit_y], 1.0)
    shade = shade / (1.0 + fog * depth)
    wall_rgb = scene.wall_color[hit_x, hit_y] * shade[..., None]  # [V, S(cols), 3]
    image = np.broadcast_to(wall_rgb[:, None, :, :], (num_views, s, s, 3)).copy()

    # floor: the ray of a pixel below the horizon meets z = 0 at depth f z / (v - horizon)
    below = np.maximum(vv - horizon, 1e-9)
    floor_depth = f * zc[:, None, None] / below  # [V, S(rows), 1]
    fx = px[:, None, :] + floor_depth * dx[:, None, :]
    fy = py[:, None, :] + floor_depth * dy[:, None, :]
    nx, ny = scene.walls.shape
    ix = np.clip(np.floor(fx).astype(np.int64), 0, nx - 1)
    iy = np.clip(np.floor(fy).astype(np.int64), 0, ny - 1)
    floor_rgb = scene.floor_color[ix, iy] / (1.0 + fog * floor_depth)[..., None]
    image = np.where(is_floor[..., None], floor_rgb, image)

    # sky: a gradient by elevation above the horizon
    elevation = np.clip((horizon - vv) / f, 0.0, 1.0)[..., None]  # [V, S, 1, 1]
    sky_rgb = _SKY_HORIZON + (_SKY_TOP - _SKY_HORIZON) * elevation
    image = np.where((labels == SKY)[..., None], sky_rgb, image)

    out = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8).transpose(0, 3, 1, 2)
    if return_labels:
        return np.ascontiguousarray(out), labels
    return np.ascontiguousarray(out)


def _cast(
    walls: BoolArray, px: Float64Array, py: Float64Array, dx: Float64Array, dy: Float64Array
) -> tuple[Float64Array, IntArray, IntArray, IntArray, Float64Array]:
    """Digital differential analysis: step every ray block by block until it enters a wall.

    Returns the ray parameter at the hit, the side (0: a face normal to x, 1: normal to y),
    the wall block and the coordinate along the face in [0, 1)."""
    big = 1e30
    map_x = np.floor(px).astype(np.int64)
    map_y = np.floor(py).astype(np.int64)
    with np.errstate(divide="ignore"):
        delta_x = np.where(dx == 0, big, np.abs(1.0 / np.where(dx == 0, 1.0, dx)))
        delta_y = np.where(dy == 0, big, np.abs(1.0 / np.where(dy == 0, 1.0, dy)))
    step_x = np.where(dx < 0, -1, 1)
    step_y = np.where(dy < 0, -1, 1)
    side_x = np.where(dx < 0, (px - map_x) * delta_x, (map_x + 1.0 - px) * delta_x)
    side_y = np.where(dy < 0, (py - map_y) * delta_y, (map_y + 1.0 - py) * delta_y)
    side = np.zeros(px.shape, dtype=np.int64)
    active = ~walls[map_x, map_y]
    for _ in range(2 * sum(walls.shape)):
        if not active.any():
            break
        go_x = side_x < side_y
        mx = active & go_x
        my = active & ~go_x
        side_x = np.where(mx, side_x + delta_x, side_x)
        map_x = np.where(mx, map_x + step_x, map_x)
        side_y = np.where(my, side_y + delta_y, side_y)
        map_y = np.where(my, map_y + step_y, map_y)
        side = np.where(mx, 0, np.where(my, 1, side))
        active = active & ~walls[map_x, map_y]
    if active.any():
        raise ValueError("a ray left the scene: the border blocks of 'walls' must be walls")
    depth = np.where(side == 0, side_x - delta_x, side_y - delta_y)
    along = np.where(side == 0, py + depth * dy, px + depth * dx)
    tex = along - np.floor(along)
    return depth, side, map_x, map_y, tex


def free_blocks(walls: BoolArray) -> IntArray:
    """Indices ``[F, 2]`` of the free (non-wall) blocks of ``walls``."""
    return np.argwhere(~walls).astype(np.int64)
