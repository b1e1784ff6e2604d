"""The GEN paper's Poisson-on-a-sphere dataset (appendix A.3)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from functools import partial

import numpy as np
import torch
from numpy.typing import NDArray
from torch_geometric.data import Data
from tqdm import tqdm

from gen_pyg.datasets._cached import _HouseSplitDataset
from gen_pyg.datasets._house_split import check_int
from gen_pyg.solvers import sphere_laplacian

LAPLACIANS = ("numerical", "analytic")
_FORMAT_VERSION = 1

Float64Array = NDArray[np.float64]


def cubic_sphere_field(
    points: Float64Array, directions: Float64Array, coeffs: Float64Array
) -> Float64Array:
    r"""The paper's sphere solutions :math:`f(x) = \sum_i k_i\, (x \cdot v_i)^3`.

    Each term is odd under :math:`x \mapsto -x`, so :math:`f` integrates to zero over
    :math:`S^2`, the normalisation that makes the solution of :math:`\Delta f = \psi` unique.

    Args:
        points (numpy.ndarray): Points :math:`x` of shape ``[..., 3]``.
        directions (numpy.ndarray): Directions :math:`v_i` of shape ``[I, 3]``.
        coeffs (numpy.ndarray): Coefficients :math:`k_i` of shape ``[I]``, or ``[..., I]``
            broadcastable against the batch shape of ``points`` (one field per batch entry).

    Returns:
        A float64 array of shape ``points.shape[:-1]``.

    Example:
        >>> cubic_sphere_field(np.array([[0.0, 0.0, 1.0]]), np.eye(3), np.array([1.0, 2.0, 3.0]))
        array([3.])
    """
    t = np.asarray(points, dtype=np.float64) @ np.asarray(directions, dtype=np.float64).T
    out: Float64Array = np.sum(t * t * t * np.asarray(coeffs, dtype=np.float64), axis=-1)
    return out


def cubic_sphere_laplacian(
    points: Float64Array, directions: Float64Array, coeffs: Float64Array
) -> Float64Array:
    r"""The exact Laplace-Beltrami operator of :func:`cubic_sphere_field` on :math:`S^2`.

    For a function of :math:`t = x \cdot v` alone (:math:`|v| = 1`), :math:`t` is the cosine
    of the polar angle about :math:`v`, and the spherical Laplacian of a zonal function is the
    Legendre operator,

    .. math::
        \Delta_{S^2}\, g(t) = (1 - t^2)\, g''(t) - 2t\, g'(t),

    so :math:`g = t^3` gives :math:`(1 - t^2)\, 6t - 2t \cdot 3t^2 = 6t - 12t^3`. Check:
    :math:`t^3 = \tfrac{3}{5} P_1(t) + \tfrac{2}{5} P_3(t)` with
    :math:`\Delta P_\ell = -\ell(\ell+1) P_\ell` gives
    :math:`-\tfrac{6}{5} t - \tfrac{24}{5} \cdot \tfrac{5t^3 - 3t}{2} = 6t - 12t^3` as well.

    Args:
        points (numpy.ndarray): Points :math:`x` on the unit sphere, shape ``[..., 3]``.
        directions (numpy.ndarray): Unit vectors :math:`v_i`, shape ``[I, 3]``.
        coeffs (numpy.ndarray): Coefficients :math:`k_i`, shape ``[I]`` or ``[..., I]``
            (as in :func:`cubic_sphere_field`).

    Returns:
        A float64 array of shape ``points.shape[:-1]``.

    Example:
        >>> cubic_sphere_laplacian(np.array([[0.0, 0.0, 1.0]]), np.array([[0.0, 0.0, 1.0]]),
        ...                        np.array([1.0]))
        array([-6.])
    """
    t = np.asarray(points, dtype=np.float64) @ np.asarray(directions, dtype=np.float64).T
    lap = 6.0 * t - 12.0 * t * t * t
    out: Float64Array = np.sum(lap * np.asarray(coeffs, dtype=np.float64), axis=-1)
    return out


def _unit_vectors(gen: np.random.Generator, shape: tuple[int, ...]) -> Float64Array:
    v = gen.standard_normal((*shape, 3))
    out: Float64Array = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


class PoissonSphere(_HouseSplitDataset):
    r"""The Poisson equation on the unit sphere, from the
    `"Graph Element Networks: adaptive, structured computation and memory"
    <https://arxiv.org/abs/1904.09019>`_ paper (appendix A.3).

    A house :math:`h` fixes 8 random unit vectors :math:`v_i` (the heater positions); its
    scenario :math:`s` draws standard normal :math:`k_{i,s}` and sets

    .. math::
        f(x) = \sum_{i=1}^{8} k_{i,s}\, (x \cdot v_i)^3, \qquad x \in S^2,

    the solution of :math:`\Delta_{S^2} f = \psi` with :math:`\int_{S^2} f = 0`. The inputs
    are :math:`\psi` at 128 uniform random points, computed numerically as in the paper
    (:func:`~gen_pyg.solvers.sphere_laplacian`, :math:`\varepsilon = 3 \cdot 10^{-5}`), or
    exactly (:func:`cubic_sphere_laplacian`) with ``laplacian="analytic"``; the targets are
    :math:`f` at 128 other uniform random points. One scenario is one
    :class:`~torch_geometric.data.Data` with ``input_pos`` ``[P, 3]``, ``input_x`` ``[P, 1]``
    (:math:`\psi`), ``input_fn`` ``[P]`` (all zero: one input function), ``query_pos``
    ``[Q, 3]``, ``y`` ``[Q, 1]`` (:math:`f`), integer ``house`` and ``scenario`` ``[1]``,
    and the field's parameters ``directions`` ``[1, 8, 3]`` and ``coeffs`` ``[1, 8]`` (to
    evaluate :math:`f` anywhere with :func:`cubic_sphere_field`). There is no mesh: attach one
    with a transform.

    Splits are by house as in :class:`~gen_pyg.datasets.PoissonSquare` (the paper trains on
    200 houses and tests on 50).

    **STATS** (defaults, all houses):

    .. list-table::
        :widths: 10 10 10 10 10
        :header-rows: 1

        * - #houses
          - #scenarios
          - #inputs per scenario
          - #queries per scenario
          - #terms per field
        * - 250
          - 8,000
          - 128
          - 128
          - 8

    Args:
        root (str or Path): Root folder (``processed/`` below it).
        split (str, optional): ``"train"``, ``"val"``, ``"test"`` or ``"all"``.
            (default: ``"train"``)
        num_houses (int, optional): Houses in total, split included. (default: ``250``)
        num_scenarios (int, optional): Scenarios per house. (default: ``32``)
        num_inputs (int, optional): Input points per scenario. (default: ``128``)
        num_queries (int, optional): Query points per scenario. (default: ``128``)
        num_terms (int, optional): Terms :math:`(x \cdot v_i)^3` per field. (default: ``8``)
        laplacian (str, optional): ``"numerical"`` (the paper) or ``"analytic"``.
            (default: ``"numerical"``)
        eps (float, optional): Step of the numerical Laplacian. (default: ``3e-5``)
        seed (int, optional): Seed of the generator. (default: ``0``)
        houses (list of int, optional): Explicit house indices, instead of ``split``.
            (default: ``None``)
        num_test_houses (int, optional): Houses in the test split; ``None`` takes a fifth
            of the houses (the paper's 50 of 250). (default: ``None``)
        num_val_houses (int, optional): Houses in the validation split. (default: ``0``)
        split_seed (int, optional): Seed of the house permutation. (default: ``0``)
        transform (callable, optional): Applied to every access. (default: ``None``)
        pre_transform (callable, optional): Applied before saving. (default: ``None``)
        pre_filter (callable, optional): Keeps a scenario when it returns ``True``.
            (default: ``None``)
        force_reload (bool, optional): Regenerate even if cached. (default: ``False``)
        log (bool, optional): Print PyG's processing messages. (default: ``True``)

    Example:
        >>> import tempfile
        >>> ds = PoissonSphere(tempfile.mkdtemp(), split="all", num_houses=2, num_scenarios=3,
        ...                    log=False)
        >>> len(ds), ds[0].input_pos.shape, ds[0].y.shape
        (6, torch.Size([128, 3]), torch.Size([128, 1]))
    """

    cache_name = "poisson_sphere"

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        *,
        num_houses: int = 250,
        num_scenarios: int = 32,
        num_inputs: int = 128,
        num_queries: int = 128,
        num_terms: int = 8,
        laplacian: str = "numerical",
        eps: float = 3e-5,
        seed: int = 0,
        houses: Sequence[int] | None = None,
        num_test_houses: int | None = None,
        num_val_houses: int = 0,
        split_seed: int = 0,
        transform: Callable[[Data], Data] | None = None,
        pre_transform: Callable[[Data], Data] | None = None,
        pre_filter: Callable[[Data], bool] | None = None,
        force_reload: bool = False,
        log: bool = True,
    ) -> None:
        self.num_houses = check_int("num_houses", num_houses, 1)
        self.num_scenarios = check_int("num_scenarios", num_scenarios, 1)
        self.num_inputs = check_int("num_inputs", num_inputs, 1)
        self.num_queries = check_int("num_queries", num_queries, 1)
        self.num_terms = check_int("num_terms", num_terms, 1)
        if laplacian not in LAPLACIANS:
            raise ValueError(f"'laplacian' must be one of {LAPLACIANS} (got {laplacian!r})")
        self.laplacian = laplacian
        if isinstance(eps, bool) or not isinstance(eps, float | int) or not 0.0 < eps < 0.1:
            raise ValueError(f"'eps' must be a number in (0, 0.1) (got {eps!r})")
        self.eps = float(eps)
        self.seed = check_int("seed", seed, 0)
        super().__init__(root, split, houses, num_test_houses, num_val_houses, split_seed,
                         transform, pre_transform, pre_filter, log, force_reload)

    def _cache_params(self) -> dict[str, object]:
        return {
            "version": _FORMAT_VERSION,
            "num_houses": self.num_houses,
            "num_scenarios": self.num_scenarios,
            "num_inputs": self.num_inputs,
            "num_queries": self.num_queries,
            "num_terms": self.num_terms,
            "laplacian": self.laplacian,
            "eps": self.eps,
            "seed": self.seed,
        }

    def _generate(self) -> Iterator[Data]:
        for index in tqdm(range(self.num_houses), desc="houses", disable=None, leave=False):
            yield from self._house(index)

    def _house(self, index: int) -> list[Data]:
        gen = np.random.default_rng([self.seed, index])
        directions = _unit_vectors(gen, (self.num_terms,))
        coeffs = gen.standard_normal((self.num_scenarios, self.num_terms))
        input_pos = _unit_vectors(gen, (self.num_scenarios, self.num_inputs))
        query_pos = _unit_vectors(gen, (self.num_scenarios, self.num_queries))
        # All scenarios at once: points [S, P, 3] with coefficients [S, 1, I].
        per_point = coeffs[:, None, :]
        if self.laplacian == "numerical":
            field = partial(cubic_sphere_field, directions=directions, coeffs=per_point)
            psi_all = sphere_laplacian(field, input_pos, self.eps)
        else:
            psi_all = cubic_sphere_laplacian(input_pos, directions, per_point)
        f_all = cubic_sphere_field(query_pos, directions, per_point)
        out = []
        for s in range(self.num_scenarios):
            k, psi, f = coeffs[s], psi_all[s], f_all[s]
            out.append(
                Data(
                    input_pos=torch.from_numpy(input_pos[s].astype(np.float32)),
                    input_x=torch.from_numpy(psi[:, None].astype(np.float32)),
                    input_fn=torch.zeros(self.num_inputs, dtype=torch.long),
                    query_pos=torch.from_numpy(query_pos[s].astype(np.float32)),
                    y=torch.from_numpy(f[:, None].astype(np.float32)),
                    house=torch.tensor([index], dtype=torch.long),
                    scenario=torch.tensor([s], dtype=torch.long),
                    directions=torch.from_numpy(directions[None].astype(np.float32)),
                    coeffs=torch.from_numpy(k[None].astype(np.float32)),
                )
            )
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({len(self)}, split={self.split!r}, "
            f"houses={len(self.houses)})"
        )
