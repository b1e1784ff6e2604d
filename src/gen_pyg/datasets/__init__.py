"""PyG datasets and the generators that make their data offline."""

from gen_pyg.datasets.mazes import Mazes
from gen_pyg.datasets.poisson_house import (
    PoissonHouse,
    generate_poisson_houses,
    perimeter_points,
    sample_poisson_house,
    solve_poisson_house,
)
from gen_pyg.datasets.poisson_paper_format import (
    poisson_paper_file_names,
    read_poisson_paper_format,
    write_poisson_paper_format,
)
from gen_pyg.datasets.poisson_sphere import (
    PoissonSphere,
    cubic_sphere_field,
    cubic_sphere_laplacian,
)
from gen_pyg.datasets.poisson_square import PoissonSquare
from gen_pyg.datasets.pushing import (
    Pushing,
    PushingRecord,
    generate_pushing_record,
    read_pushing_raw,
    write_pushing_raw,
)
from gen_pyg.datasets.spring_mass import SpringMass, chain_edge_index, spring_chain_graph

__all__ = [
    "Mazes",
    "PoissonHouse",
    "PoissonSphere",
    "PoissonSquare",
    "Pushing",
    "PushingRecord",
    "SpringMass",
    "chain_edge_index",
    "cubic_sphere_field",
    "cubic_sphere_laplacian",
    "generate_poisson_houses",
    "generate_pushing_record",
    "perimeter_points",
    "poisson_paper_file_names",
    "read_poisson_paper_format",
    "read_pushing_raw",
    "sample_poisson_house",
    "solve_poisson_house",
    "spring_chain_graph",
    "write_poisson_paper_format",
    "write_pushing_raw",
]
