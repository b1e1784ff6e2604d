"""Small synthetic spatial-function datasets for the training-engine tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch_geometric.data import Data


def toy_examples(houses: int = 4, per_house: int = 3, seed: int = 0) -> list[Data]:
    """Examples of a smooth map: y(q) = sum_i x_i exp(-|q - p_i|^2 / 0.1) / n, with the inputs
    ``x_i`` at ``p_i`` in the unit square; ``house`` groups them as PoissonSquare does."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for h in range(houses):
        for _ in range(per_house):
            n_in = int(torch.randint(5, 9, (1,), generator=gen))
            p = torch.rand(n_in, 2, generator=gen)
            x = torch.rand(n_in, 1, generator=gen)
            q = torch.rand(6, 2, generator=gen)
            # exact distances: the targets must not depend on the machine's BLAS kernel
            d = torch.cdist(q, p, compute_mode="donot_use_mm_for_euclid_dist")
            w = torch.exp(-(d**2) / 0.1)
            out.append(Data(input_pos=p, input_x=x, query_pos=q, y=w @ x / n_in,
                            house=torch.tensor([h])))
    return out


@pytest.fixture
def toy() -> Callable[..., list[Data]]:
    """:func:`toy_examples` as a fixture."""
    return toy_examples
