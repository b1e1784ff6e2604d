"""Well-spread quasi-random node positions (scrambled Halton sequence) with Delaunay edges."""

from __future__ import annotations

import inspect

import numpy as np
import torch
from torch_geometric.data import Data

from gen_pyg.mesh._build import (
    Bounds,
    EdgeBuilder,
    check_fits,
    check_int,
    check_num_nodes,
    resolve_bounds,
    resolve_dtype,
)
from gen_pyg.mesh.edges import build_mesh


def halton_points(n: int, dim: int = 2, seed: int = 0) -> np.ndarray:
    """The first :obj:`n` points of a scrambled Halton sequence in :math:`[0, 1)^D` (float64).

    Example:
        >>> halton_points(3, dim=2, seed=0).shape
        (3, 2)
    """
    from scipy.stats import qmc

    # scipy >= 1.15 names the generator argument ``rng``; older versions ``seed``.
    key = "rng" if "rng" in inspect.signature(qmc.Halton).parameters else "seed"
    sampler = qmc.Halton(d=dim, scramble=True, **{key: np.random.default_rng(seed)})
    return np.asarray(sampler.random(n), dtype=np.float64)


def halton(
    n: int,
    dim: int = 2,
    seed: int = 0,
    bounds: Bounds = (0.0, 1.0),
    edges: str | EdgeBuilder = "delaunay",
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> Data:
    r"""A mesh of :obj:`n` nodes at scrambled Halton points of a box, connected by Delaunay
    edges: the initial layout of the GEN paper's optimised meshes (Alet et al., 2019, appendix
    A.4, which used the generalised Halton sequences of the :obj:`ghalton` package; here
    :class:`scipy.stats.qmc.Halton`). Unlike uniform samples, Halton points do not cluster by
    chance.

    Args:
        n (int): number of nodes, at least 1.
        dim (int, optional): dimension of the space. (default: :obj:`2`)
        seed (int, optional): seed of the scrambling; the same seed gives the same points.
            (default: :obj:`0`)
        bounds (tuple, optional): :obj:`(lo, hi)` of the box, each a number or one number per
            axis. (default: :obj:`(0.0, 1.0)`)
        edges (str or callable, optional): edge builder, :obj:`"delaunay"`, :obj:`"none"` or a
            callable (see :func:`gen_pyg.mesh.build_mesh`). (default: :obj:`"delaunay"`)
        dtype (torch.dtype, optional): dtype of :obj:`pos`. (default: the default dtype)
        device (torch.device, optional): device of every tensor. (default: CPU)

    Returns:
        :class:`~torch_geometric.data.Data` with :obj:`pos` :obj:`[n, D]`, :obj:`edge_index`,
        :obj:`num_nodes`, :obj:`diameter` :obj:`[1]` and :obj:`face` where simplices exist.

    Example:
        >>> mesh = halton(16, seed=1)
        >>> mesh.pos.shape, bool(((mesh.pos >= 0) & (mesh.pos <= 1)).all())
        (torch.Size([16, 2]), True)
    """
    n = check_int(n, "n", 1)
    dim = check_int(dim, "dim", 1)
    seed = check_int(seed, "seed", 0)
    check_num_nodes(n, f"n={n}")
    lo, hi = resolve_bounds(bounds, dim)
    dtype = resolve_dtype(dtype)
    unit = torch.from_numpy(halton_points(n, dim, seed))
    pos = check_fits((lo + (hi - lo) * unit).to(device=device, dtype=dtype), bounds)
    return build_mesh(pos, edges)
