"""Classical reference solvers used to make ground truth and as speed baselines."""

from gen_pyg.solvers.spring_chain import (
    chain_accelerations,
    chain_energy,
    chain_euler_rollout,
    chain_exact_solution,
    chain_stiffness_matrix,
    semi_implicit_euler,
    spring_graph_energy,
)

__all__: list[str] = []
__all__ += [
    "chain_accelerations",
    "chain_energy",
    "chain_euler_rollout",
    "chain_exact_solution",
    "chain_stiffness_matrix",
    "semi_implicit_euler",
    "spring_graph_energy",
]
