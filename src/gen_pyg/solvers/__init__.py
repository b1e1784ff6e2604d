"""Classical reference solvers used to make ground truth and as speed baselines."""

from gen_pyg.solvers.bilinear_interpolate import bilinear_interpolate
from gen_pyg.solvers.box_coverage import box_coverage
from gen_pyg.solvers.fd_poisson_solver import FDPoissonSolver
from gen_pyg.solvers.sphere_laplacian import sphere_laplacian, tangent_basis
from gen_pyg.solvers.spring_chain import (
    chain_accelerations,
    chain_energy,
    chain_euler_rollout,
    chain_exact_solution,
    chain_stiffness_matrix,
    semi_implicit_euler,
    spring_graph_energy,
)

__all__ = [
    "FDPoissonSolver",
    "bilinear_interpolate",
    "box_coverage",
    "chain_accelerations",
    "chain_energy",
    "chain_euler_rollout",
    "chain_exact_solution",
    "chain_stiffness_matrix",
    "semi_implicit_euler",
    "sphere_laplacian",
    "spring_graph_energy",
    "tangent_basis",
]
