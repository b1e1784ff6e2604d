"""Numerical Laplace-Beltrami operator on the unit sphere (GEN paper, appendix A.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gen_pyg.solvers._arrays import Float64Array, as_float64


def tangent_basis(points: Any) -> tuple[Float64Array, Float64Array]:
    r"""Orthonormal tangent vectors :math:`a, b` completing each point :math:`x` of
    :math:`S^2` to an orthonormal basis :math:`\{x, a, b\}`.

    :math:`a` comes from one Gram-Schmidt step on the coordinate axis least aligned with
    :math:`x` (so it is well conditioned everywhere, poles included) and
    :math:`b = x \times a`.

    Args:
        points (array or Tensor): Unit vectors of shape ``[..., 3]``.

    Returns:
        Two float64 arrays ``(a, b)`` of the shape of ``points``.

    Example:
        >>> a, b = tangent_basis([[0.0, 0.0, 1.0]])
        >>> a, b
        (array([[1., 0., 0.]]), array([[0., 1., 0.]]))
    """
    x = _unit_points(points, "points")
    axis = np.zeros_like(x)
    np.put_along_axis(axis, np.argmin(np.abs(x), axis=-1)[..., None], 1.0, axis=-1)
    a = axis - np.sum(axis * x, axis=-1, keepdims=True) * x
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b = np.cross(x, a)
    return a, b


def sphere_laplacian(
    fn: Callable[[Float64Array], Float64Array], points: Any, eps: float = 3e-5
) -> Float64Array:
    r"""Laplace-Beltrami operator of ``fn`` on the unit sphere by central differences.

    The paper's scheme (Alet et al., 2019, appendix A.3): complete each point :math:`x` to
    an orthonormal basis :math:`\{x, a, b\}` (:func:`tangent_basis`), step by :math:`\varepsilon`
    along :math:`\pm a` and :math:`\pm b`, project back onto the sphere, and take

    .. math::
        \Delta_{S^2} f(x) \approx \frac{1}{\varepsilon^2} \Big(
        f\big(\tfrac{x + \varepsilon a}{|x + \varepsilon a|}\big)
        + f\big(\tfrac{x - \varepsilon a}{|x - \varepsilon a|}\big)
        + f\big(\tfrac{x + \varepsilon b}{|x + \varepsilon b|}\big)
        + f\big(\tfrac{x - \varepsilon b}{|x - \varepsilon b|}\big) - 4 f(x) \Big).

    The projected points lie on the great circles through :math:`x` in the directions
    :math:`a` and :math:`b`, at geodesic distance :math:`\arctan\varepsilon`, and the
    Laplace-Beltrami operator is the sum of the second derivatives along two orthogonal
    geodesics, so the error is :math:`O(\varepsilon^2)` plus a rounding error of about
    :math:`10^{-16} |f| / \varepsilon^2` (the paper's :math:`\varepsilon = 3 \cdot 10^{-5}` gives
    about seven correct digits in float64). The paper prints the prefactor as
    :math:`1 / (4\varepsilon^2)`, which would give a quarter of the Laplacian; this function
    returns the Laplacian itself.

    Args:
        fn (callable): Maps unit vectors of shape ``[..., 3]`` (float64) to values of shape
            ``[...]``; it is called once, on points of shape ``[5, *points.shape]``, so a
            batch of problems can be handled in one vectorised call.
        points (array or Tensor): Unit vectors of shape ``[..., 3]``.
        eps (float, optional): The step :math:`\varepsilon`. (default: ``3e-5``)

    Returns:
        A float64 array of shape ``points.shape[:-1]``.

    Example:
        >>> z = lambda x: x[..., 2]  # a degree-1 spherical harmonic: Laplacian -2 z
        >>> lap = sphere_laplacian(z, [[0.0, 0.6, 0.8]])
        >>> bool(np.allclose(lap, -1.6, atol=1e-5))
        True
    """
    if not isinstance(eps, float | int) or not 0.0 < eps < 0.1:
        raise ValueError(f"'eps' must be a number in (0, 0.1) (got {eps!r})")
    x = _unit_points(points, "points")
    a, b = tangent_basis(x)
    steps = np.stack([x + eps * a, x - eps * a, x + eps * b, x - eps * b, x])  # [5, ..., 3]
    steps /= np.linalg.norm(steps, axis=-1, keepdims=True)
    values = np.asarray(fn(steps), dtype=np.float64)
    if values.shape != steps.shape[:-1]:
        raise ValueError(
            f"'fn' must map points [..., 3] to values [...] (got shape {tuple(values.shape)} "
            f"for points of shape {tuple(steps.shape)})"
        )
    out: Float64Array = (values[:4].sum(axis=0) - 4.0 * values[4]) / eps**2
    return out


def _unit_points(points: Any, name: str) -> Float64Array:
    x = as_float64(points, name)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"'{name}' must have shape [..., 3] (got {tuple(x.shape)})")
    if not np.allclose(np.linalg.norm(x, axis=-1), 1.0, atol=1e-6):
        raise ValueError(f"'{name}' must be unit vectors (points on the unit sphere)")
    return x
