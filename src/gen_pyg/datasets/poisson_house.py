"""Square "houses" with box heaters: the sampler, the input samples and the superposition solve.

The setting of the GEN paper's first PDE experiment (Alet et al., 2019, section 4.1): heat
in :math:`[0, 1]^2` with walls at an exterior temperature and box-shaped heaters or coolers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from gen_pyg.solvers import FDPoissonSolver, box_coverage

Float64Array = NDArray[np.float64]

#: The paper's scaling of heater values in the inputs: a heater sample holds ``h / 768``.
HEAT_SCALE = 768.0
#: Heater samples per box: 4 corners, 4 edge midpoints and the centre.
SAMPLES_PER_BOX = 9
#: Attempts at placing one non-overlapping box before the sampler gives up.
_MAX_ATTEMPTS = 10_000


@dataclass(frozen=True)
class PoissonHouse:
    r"""One house: box positions shared by its scenarios, and per-scenario values.

    In scenario :math:`s` the temperature :math:`\varphi` satisfies
    :math:`-\Delta\varphi = h_{s,k}` strictly inside box :math:`k` (the box listed last wins
    where boxes overlap), :math:`-\Delta\varphi = 0` elsewhere, and :math:`\varphi = T_s` on
    the four walls.

    Args:
        boxes (numpy.ndarray): Boxes ``(lx, ly, Lx, Ly)``, shape ``[K, 4]``.
        heat (numpy.ndarray): Heat :math:`h_{s,k}` of box :math:`k` in scenario :math:`s`,
            shape ``[S, K]``.
        exterior_temp (numpy.ndarray): Wall temperature :math:`T_s`, shape ``[S]``.
        query_pos (numpy.ndarray): Query points, shape ``[S, Q, 2]``.
        y (numpy.ndarray, optional): :math:`\varphi` at the query points, shape ``[S, Q]``,
            or ``None`` before solving. (default: ``None``)
    """

    boxes: Float64Array
    heat: Float64Array
    exterior_temp: Float64Array
    query_pos: Float64Array
    y: Float64Array | None = None

    def __post_init__(self) -> None:
        for name in ("boxes", "heat", "exterior_temp", "query_pos", "y"):
            value = getattr(self, name)
            if value is None and name == "y":
                continue
            array = np.asarray(value, dtype=np.float64)
            if not np.all(np.isfinite(array)):
                raise ValueError(f"'{name}' holds NaN or infinite values")
            object.__setattr__(self, name, array)
        k = self.boxes.shape[0] if self.boxes.ndim == 2 else -1
        s = self.exterior_temp.shape[0] if self.exterior_temp.ndim == 1 else -1
        q = self.query_pos.shape[1] if self.query_pos.ndim == 3 else -1
        expected = {
            "boxes": (k, 4),
            "heat": (s, k),
            "exterior_temp": (s,),
            "query_pos": (s, q, 2),
            "y": (s, q),
        }
        for name, shape in expected.items():
            value = getattr(self, name)
            if value is not None and (min(shape) < 0 or value.shape != shape):
                raise ValueError(
                    f"'{name}' has shape {tuple(value.shape)}; expected [K, 4] boxes, [S, K] "
                    "heat, [S] exterior_temp, [S, Q, 2] query_pos and [S, Q] y"
                )
        if np.any(self.boxes[:, 2] <= self.boxes[:, 0]) or np.any(
            self.boxes[:, 3] <= self.boxes[:, 1]
        ):
            raise ValueError("'boxes' must satisfy lx < Lx and ly < Ly for every box")

    @property
    def num_boxes(self) -> int:
        """Number of boxes :math:`K`."""
        return int(self.boxes.shape[0])

    @property
    def num_scenarios(self) -> int:
        """Number of scenarios :math:`S`."""
        return int(self.exterior_temp.shape[0])

    def inputs(self, num_inputs: int = 64) -> tuple[Float64Array, Float64Array, NDArray[np.int64]]:
        r"""The paper's input samples of every scenario: heater samples, then wall samples.

        Heater samples (input function 0, the paper's :math:`I_1`): for each box in order its
        corners :math:`(l_x, l_y), (L_x, l_y), (L_x, L_y), (l_x, L_y)`, the midpoints of its
        bottom, right, top and left edges, and its centre, with value :math:`h_{s,k} / 768`.
        Wall samples (input function 1, :math:`I_2`): the remaining
        :math:`W = \text{num\_inputs} - 9K` points at arc length :math:`4i/W`,
        :math:`i = 0, \dots, W-1`, along the perimeter
        :math:`(0,0) \to (1,0) \to (1,1) \to (0,1) \to (0,0)`, with value :math:`T_s`.

        Args:
            num_inputs (int, optional): Samples per scenario, at least :math:`9K + 1`.
                (default: ``64``)

        Returns:
            ``(pos, value, fn)`` of shapes ``[S, P, 2]``, ``[S, P]`` and ``[P]``.
        """
        k = self.num_boxes
        valid = isinstance(num_inputs, int) and not isinstance(num_inputs, bool)
        walls = num_inputs - SAMPLES_PER_BOX * k if valid else 0
        if walls < 1:
            raise ValueError(
                f"'num_inputs' must be an int of at least 9 * K + 1 = {SAMPLES_PER_BOX * k + 1} "
                f"for a house with K = {k} boxes (got {num_inputs!r})"
            )
        lx, ly, ux, uy = self.boxes.T
        cx, cy = (lx + ux) / 2.0, (ly + uy) / 2.0
        heater_x = np.stack([lx, ux, ux, lx, cx, ux, cx, lx, cx], axis=1)  # [K, 9]
        heater_y = np.stack([ly, ly, uy, uy, ly, cy, uy, cy, cy], axis=1)
        heater_pos = np.stack([heater_x, heater_y], axis=-1).reshape(-1, 2)
        wall_pos = perimeter_points(walls)
        pos = np.concatenate([heater_pos, wall_pos])
        heater_value = np.repeat(self.heat / HEAT_SCALE, SAMPLES_PER_BOX, axis=1)  # [S, 9K]
        wall_value = np.repeat(self.exterior_temp[:, None], walls, axis=1)
        value = np.concatenate([heater_value, wall_value], axis=1)
        fn = np.concatenate(
            [np.zeros(SAMPLES_PER_BOX * k, dtype=np.int64), np.ones(walls, dtype=np.int64)]
        )
        return np.broadcast_to(pos, (self.num_scenarios, *pos.shape)).copy(), value, fn


def perimeter_points(num: int) -> Float64Array:
    r"""``num`` points evenly spaced along the boundary of the unit square.

    Point :math:`i` sits at arc length :math:`4i / \text{num}` along
    :math:`(0,0) \to (1,0) \to (1,1) \to (0,1) \to (0,0)`.

    Args:
        num (int): Number of points (at least 1).

    Returns:
        A float64 array of shape ``[num, 2]``.

    Example:
        >>> perimeter_points(8)
        array([[0. , 0. ],
               [0.5, 0. ],
               [1. , 0. ],
               [1. , 0.5],
               [1. , 1. ],
               [0.5, 1. ],
               [0. , 1. ],
               [0. , 0.5]])
    """
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"'num' must be a positive int (got {num!r})")
    quarter = 4 * np.arange(num)
    side = quarter // num  # which wall, 0..3, exact in integers
    r = (quarter - side * num) / num  # position along that wall
    x = np.choose(side, [r, np.ones(num), 1.0 - r, np.zeros(num)])
    y = np.choose(side, [np.zeros(num), r, np.ones(num), 1.0 - r])
    return np.stack([x, y], axis=1).astype(np.float64)


def sample_poisson_house(
    rng: np.random.Generator | int, num_scenarios: int = 32, num_queries: int = 256
) -> PoissonHouse:
    r"""Draws a house as in the paper's data (without the solution ``y``).

    - :math:`K` is uniform on :math:`\{1, 2, 3, 4\}`.
    - Each side length is :math:`\operatorname{round}(U(0.05, 0.25), 2)`, each lower corner on
      the 0.01 grid with the box inside the house.
    - Boxes :math:`1, \dots, K-1` lie in the strip :math:`x \in [0, 0.4]` or the strip
      :math:`x \in [0.6, 1]` (probability 1/2 each), :math:`y` anywhere, at least 0.01 apart
      from each other (rejection sampling); the last box is placed anywhere and may overlap.
    - Scenario :math:`s` draws :math:`h_{s,k} = \operatorname{round}(U(-384, 384), 2)` per box
      and :math:`T_s = 2 \operatorname{round}(U(0, 1), 2) - 1`, and ``num_queries`` points with
      coordinates :math:`j / 100`, :math:`j` uniform on :math:`0, \dots, 100`.

    Coordinates are drawn as integers in hundredths, so every box edge is exactly the double
    nearest to a multiple of 0.01.

    Args:
        rng (numpy.random.Generator or int): Random generator, or a seed for one.
        num_scenarios (int, optional): Scenarios :math:`S`. (default: ``32``)
        num_queries (int, optional): Query points per scenario :math:`Q`. (default: ``256``)

    Returns:
        A :class:`PoissonHouse` with ``y=None`` (see :func:`solve_poisson_house`).

    Example:
        >>> house = sample_poisson_house(0, num_scenarios=2, num_queries=3)
        >>> house.heat.shape == (2, house.num_boxes), house.query_pos.shape
        (True, (2, 3, 2))
    """
    for name, value in (("num_scenarios", num_scenarios), ("num_queries", num_queries)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"'{name}' must be a positive int (got {value!r})")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    num_boxes = int(gen.integers(1, 5))
    placed: list[tuple[int, int, int, int]] = []  # (lx, ly, Lx, Ly) in hundredths
    for _ in range(num_boxes - 1):
        placed.append(_place_separated_box(gen, placed))
    sx, sy = _side_lengths(gen)
    lx, ly = int(gen.integers(0, 101 - sx)), int(gen.integers(0, 101 - sy))
    placed.append((lx, ly, lx + sx, ly + sy))
    boxes = np.asarray(placed, dtype=np.float64) / 100.0
    heat = np.round(gen.uniform(-384.0, 384.0, size=(num_scenarios, num_boxes)), 2)
    exterior_temp = 2.0 * np.round(gen.uniform(0.0, 1.0, size=num_scenarios), 2) - 1.0
    query_pos = gen.integers(0, 101, size=(num_scenarios, num_queries, 2)) / 100.0
    return PoissonHouse(boxes, heat, exterior_temp, query_pos)


def _side_lengths(gen: np.random.Generator) -> tuple[int, int]:
    # round(U(0.05, 0.25), 2) in hundredths.
    sx, sy = np.round(gen.uniform(5.0, 25.0, size=2))
    return int(sx), int(sy)


def _place_separated_box(
    gen: np.random.Generator, placed: list[tuple[int, int, int, int]]
) -> tuple[int, int, int, int]:
    for _ in range(_MAX_ATTEMPTS):
        sx, sy = _side_lengths(gen)
        lo, hi = (0, 40) if gen.integers(0, 2) == 0 else (60, 100)
        lx, ly = int(gen.integers(lo, hi - sx + 1)), int(gen.integers(0, 101 - sy))
        ux, uy = lx + sx, ly + sy
        # Separated (gap >= 0.01) along x or along y from every placed box.
        if all(
            lx >= oux + 1 or ux + 1 <= olx or ly >= ouy + 1 or uy + 1 <= oly
            for (olx, oly, oux, ouy) in placed
        ):
            return lx, ly, ux, uy
    raise RuntimeError(f"could not place a non-overlapping box in {_MAX_ATTEMPTS} attempts")


def solve_poisson_house(
    house: PoissonHouse, solver: FDPoissonSolver, supersample: int = 4
) -> PoissonHouse:
    r"""Fills in ``y`` for every scenario of ``house`` by superposition.

    The problem is linear in the heats and the wall temperature, so with :math:`u_k` the
    solution for unit heat in box :math:`k` and zero walls, and :math:`u_T` the solution for
    walls at 1 and no source,

    .. math::
        \varphi_s = T_s\, u_T + \sum_k h_{s,k}\, u_k .

    That is :math:`K + 1` solves per house (one batched call of the factorised ``solver``)
    instead of one per scenario; the source is rasterised with :func:`~gen_pyg.solvers.box_coverage`
    and :math:`\varphi_s` is interpolated bilinearly at the query points.

    Args:
        house (PoissonHouse): The house.
        solver (FDPoissonSolver): A solver, reused across houses (it is factorised once).
        supersample (int, optional): Passed to :func:`~gen_pyg.solvers.box_coverage`.
            (default: ``4``)

    Returns:
        A copy of ``house`` with ``y`` of shape ``[S, Q]``.

    Example:
        >>> from gen_pyg.solvers import FDPoissonSolver
        >>> house = sample_poisson_house(0, num_scenarios=2, num_queries=3)
        >>> solve_poisson_house(house, FDPoissonSolver(21)).y.shape
        (2, 3)
    """
    k, n = house.num_boxes, solver.n
    source = np.zeros((k + 1, n, n))
    source[:k] = box_coverage(house.boxes, n, supersample)
    boundary = np.zeros((k + 1, 1, 1))
    boundary[k] = 1.0
    fields = solver.solve(source, np.broadcast_to(boundary, (k + 1, n, n)))
    values = solver.interpolate(fields, house.query_pos.reshape(-1, 2))
    values = values.reshape(k + 1, house.num_scenarios, -1)  # [K + 1, S, Q]
    y = house.exterior_temp[:, None] * values[k] + np.einsum("sk,ksq->sq", house.heat, values[:k])
    return replace(house, y=y)


def generate_poisson_houses(
    num_houses: int,
    seed: int = 0,
    num_scenarios: int = 32,
    num_queries: int = 256,
    n: int = 101,
    supersample: int = 4,
    first_house: int = 0,
    progress: bool = False,
) -> list[PoissonHouse]:
    """Samples and solves ``num_houses`` houses (see :func:`sample_poisson_house`).

    House ``i`` is drawn from ``numpy.random.default_rng([seed, i])``, so it does not depend on
    how many houses are generated; one :class:`~gen_pyg.solvers.FDPoissonSolver` serves all.

    Args:
        num_houses (int): Number of houses.
        seed (int, optional): Base seed. (default: ``0``)
        num_scenarios (int, optional): Scenarios per house. (default: ``32``)
        num_queries (int, optional): Query points per scenario. (default: ``256``)
        n (int, optional): Solver grid nodes per axis; 101 puts a node on every 0.01 grid
            point, like the paper's data. (default: ``101``)
        supersample (int, optional): See :func:`~gen_pyg.solvers.box_coverage`. (default: ``4``)
        first_house (int, optional): Index of the first house. (default: ``0``)
        progress (bool, optional): Show a progress bar. (default: ``False``)

    Returns:
        A list of solved :class:`PoissonHouse`.

    Example:
        >>> houses = generate_poisson_houses(2, num_scenarios=3, num_queries=4, n=21)
        >>> [h.y.shape for h in houses]
        [(3, 4), (3, 4)]
    """
    if isinstance(num_houses, bool) or not isinstance(num_houses, int) or num_houses < 0:
        raise ValueError(f"'num_houses' must be a non-negative int (got {num_houses!r})")
    solver = FDPoissonSolver(n)
    return [
        solve_poisson_house(
            sample_poisson_house(np.random.default_rng([seed, i]), num_scenarios, num_queries),
            solver,
            supersample,
        )
        for i in _progress(range(first_house, first_house + num_houses), progress, "houses")
    ]


def _progress(items: Iterable[int], enabled: bool, desc: str) -> Iterator[int]:
    # tqdm(disable=None) turns itself off when stderr is not a terminal.
    yield from tqdm(items, desc=desc, disable=None if enabled else True, leave=False)
