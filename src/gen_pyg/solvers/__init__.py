"""Classical reference solvers used to make ground truth and as speed baselines."""

from gen_pyg.solvers.bilinear_interpolate import bilinear_interpolate
from gen_pyg.solvers.box_coverage import box_coverage
from gen_pyg.solvers.fd_poisson_solver import FDPoissonSolver
from gen_pyg.solvers.push_objects import PushObject, sample_push_object, sample_pushes
from gen_pyg.solvers.pushing import (
    PushingPhysics,
    PushResult,
    polygon_signed_distance,
    quasi_static_twist,
    simulate_pushes,
)
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
    "PushObject",
    "PushResult",
    "PushingPhysics",
    "bilinear_interpolate",
    "box_coverage",
    "chain_accelerations",
    "chain_energy",
    "chain_euler_rollout",
    "chain_exact_solution",
    "chain_stiffness_matrix",
    "polygon_signed_distance",
    "quasi_static_twist",
    "sample_push_object",
    "sample_pushes",
    "semi_implicit_euler",
    "simulate_pushes",
    "sphere_laplacian",
    "spring_graph_energy",
    "tangent_basis",
]
