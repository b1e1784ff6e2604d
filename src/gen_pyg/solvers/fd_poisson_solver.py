"""Finite-difference solver for the Poisson equation on the unit square."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft
import scipy.sparse
import scipy.sparse.linalg

from gen_pyg.solvers._arrays import Float64Array, as_float64
from gen_pyg.solvers.bilinear_interpolate import bilinear_interpolate

METHODS = ("dst", "splu")


class FDPoissonSolver:
    r"""Solves :math:`-\Delta u = f` on :math:`[0, 1]^2` with Dirichlet values on the boundary.

    The equation is discretised with the 5-point stencil on an :math:`n \times n` node grid
    (``n`` counts the boundary nodes) with spacing :math:`h = 1 / (n - 1)`; node
    :math:`(i, j)` sits at :math:`(ih, jh)`, stored as ``u[..., i, j]`` (first axis :math:`x`).
    For every interior node

    .. math::
        \frac{4 u_{i,j} - u_{i-1,j} - u_{i+1,j} - u_{i,j-1} - u_{i,j+1}}{h^2} = f_{i,j},

    and boundary nodes hold the prescribed values. The scheme is second-order accurate for
    smooth solutions and exact for polynomials of degree three. The interior operator does not
    depend on the right-hand side, so it is factorised once in the constructor and every call
    to :meth:`solve` reuses the factorisation for any number of right-hand sides:

    - ``"dst"`` (default): the operator is diagonal in the type-I discrete sine basis, so a
      solve is two sine transforms and a division, :math:`O(n^2 \log n)` per right-hand side;
    - ``"splu"``: a sparse LU factorisation (:func:`scipy.sparse.linalg.splu`) of the
      :math:`(n-2)^2 \times (n-2)^2` matrix, the general-purpose reference.

    Both give the same discrete solution up to rounding.

    Args:
        n (int): Number of grid nodes per axis, boundary included (``n >= 3``).
        method (str, optional): ``"dst"`` or ``"splu"``. (default: ``"dst"``)

    Example:
        >>> solver = FDPoissonSolver(5)
        >>> u = solver.solve(source=0.0, boundary=2.0)  # no source, constant walls
        >>> bool(np.allclose(u, 2.0))
        True
        >>> x = solver.coords[:, None]
        >>> u = solver.solve(source=-2.0, boundary=x**2 + 0 * x.T)  # u = x^2 is exact
        >>> bool(np.allclose(u, x**2 + 0 * x.T))
        True
    """

    def __init__(self, n: int, method: str = "dst") -> None:
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"'n' must be an int (got {type(n).__name__})")
        if n < 3:
            raise ValueError(f"'n' must be at least 3 so that the grid has an interior (got {n})")
        if method not in METHODS:
            raise ValueError(f"'method' must be one of {METHODS} (got {method!r})")
        self.n = int(n)
        self.method = method
        self.h = 1.0 / (self.n - 1)
        #: Node coordinates along either axis, ``i / (n - 1)``, shape ``[n]``.
        self.coords: Float64Array = np.arange(self.n, dtype=np.float64) / (self.n - 1)
        m = self.n - 2
        self._lu: Any = None
        self._eigenvalues: Float64Array | None = None
        if method == "splu":
            self._lu = scipy.sparse.linalg.splu(self.matrix().tocsc())
        else:
            # T = tridiag(-1, 2, -1) of size m has eigenvalues 4 sin^2(k pi / (2 (m + 1))),
            # k = 1..m, with the DST-I vectors sin(j k pi / (m + 1)) as eigenvectors.
            k = np.arange(1, m + 1, dtype=np.float64)
            lam = 4.0 * np.sin(k * np.pi / (2.0 * (m + 1))) ** 2 / self.h**2
            self._eigenvalues = lam[:, None] + lam[None, :]

    def matrix(self) -> scipy.sparse.csr_matrix:
        r"""The sparse matrix of :math:`-\Delta_h` on the interior nodes (row-major ``(i, j)``).

        Returns:
            A ``scipy.sparse`` matrix of shape ``[(n-2)^2, (n-2)^2]``.
        """
        m = self.n - 2
        ones = np.ones(m)
        tri = scipy.sparse.diags([-ones[1:], 2.0 * ones, -ones[1:]], [-1, 0, 1])
        eye = scipy.sparse.identity(m)
        return scipy.sparse.csr_matrix(
            (scipy.sparse.kron(tri, eye) + scipy.sparse.kron(eye, tri)) / self.h**2
        )

    def _grid_shape(self, array: Float64Array, name: str) -> tuple[int, ...]:
        if array.ndim == 0:
            return ()
        if array.ndim < 2 or array.shape[-2:] != (self.n, self.n):
            raise ValueError(
                f"'{name}' must be a number or have shape [..., {self.n}, {self.n}] "
                f"(got {tuple(array.shape)})"
            )
        return tuple(array.shape[:-2])

    def solve(self, source: Any = 0.0, boundary: Any = 0.0) -> Float64Array:
        r"""Solves :math:`-\Delta u = f` with :math:`u = g` on the boundary.

        Args:
            source (float, array or Tensor, optional): :math:`f` at the nodes, a number or
                shape ``[..., n, n]``; boundary entries are ignored. (default: ``0.0``)
            boundary (float, array or Tensor, optional): :math:`g`, a number or shape
                ``[..., n, n]``; only boundary entries are used. (default: ``0.0``)

        Returns:
            The float64 solution at all nodes, shape ``[..., n, n]``, where ``...`` is the
            broadcast of the batch shapes of ``source`` and ``boundary``.
        """
        f = as_float64(source, "source")
        g = as_float64(boundary, "boundary")
        batch = np.broadcast_shapes(self._grid_shape(f, "source"), self._grid_shape(g, "boundary"))
        n, h2 = self.n, self.h**2
        shape = (*batch, n, n)
        u = np.array(np.broadcast_to(g, shape), dtype=np.float64, copy=True)
        rhs = np.array(np.broadcast_to(f, shape)[..., 1:-1, 1:-1], dtype=np.float64, copy=True)
        # Boundary neighbours of the first and last interior rows/columns move to the right side.
        rhs[..., 0, :] += u[..., 0, 1:-1] / h2
        rhs[..., -1, :] += u[..., -1, 1:-1] / h2
        rhs[..., :, 0] += u[..., 1:-1, 0] / h2
        rhs[..., :, -1] += u[..., 1:-1, -1] / h2
        u[..., 1:-1, 1:-1] = self._solve_interior(rhs)
        return u

    def _solve_interior(self, rhs: Float64Array) -> Float64Array:
        m = self.n - 2
        if self._eigenvalues is not None:
            # The orthonormal DST-I is its own inverse.
            coeff = scipy.fft.dstn(rhs, type=1, axes=(-2, -1), norm="ortho")
            out: Float64Array = scipy.fft.idstn(
                coeff / self._eigenvalues, type=1, axes=(-2, -1), norm="ortho"
            )
            return out
        flat = rhs.reshape(-1, m * m).T
        sol = np.asarray(self._lu.solve(np.ascontiguousarray(flat)), dtype=np.float64)
        return sol.T.reshape(rhs.shape)

    def interpolate(self, values: Any, points: Any) -> Float64Array:
        """Bilinear interpolation of node values (e.g. a solution) at points of the square.

        See :func:`~gen_pyg.solvers.bilinear_interpolate`.

        Args:
            values (array or Tensor): Node values of shape ``[..., n, n]``.
            points (array or Tensor): Points of shape ``[Q, 2]`` in :math:`[0, 1]^2`.

        Returns:
            A float64 array of shape ``[..., Q]``.
        """
        grid = as_float64(values, "values")
        if grid.ndim < 2 or grid.shape[-2:] != (self.n, self.n):
            raise ValueError(
                f"'values' must have shape [..., {self.n}, {self.n}] (got {tuple(grid.shape)})"
            )
        return bilinear_interpolate(grid, points)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(n={self.n}, method={self.method!r})"
