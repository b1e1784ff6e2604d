"""Classical reference solvers used to make ground truth and as speed baselines."""

from gen_pyg.solvers.bilinear_interpolate import bilinear_interpolate
from gen_pyg.solvers.box_coverage import box_coverage
from gen_pyg.solvers.fd_poisson_solver import FDPoissonSolver
from gen_pyg.solvers.sphere_laplacian import sphere_laplacian, tangent_basis

__all__ = [
    "FDPoissonSolver",
    "bilinear_interpolate",
    "box_coverage",
    "sphere_laplacian",
    "tangent_basis",
]
