"""Meshes whose node positions are trained by gradient descent (GEN paper §3.4, appendix A.4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gen_pyg._validation import check_finite
from gen_pyg.mesh._build import (
    Bounds,
    EdgeBuilder,
    check_int,
    check_positions,
    diameter_of,
    resolve_bounds,
    split_builder_output,
    undirected,
)
from gen_pyg.mesh.edges import get_edge_builder

DOMAINS = ("box", "sphere", None)


def _invalidate_meshes(module: torch.nn.Module, incompatible_keys: Any) -> None:
    """After :meth:`~torch.nn.Module.load_state_dict`, edges are recomputed on next use."""
    if isinstance(module, LearnableMesh):
        module._meshes = None


class LearnableMesh(torch.nn.Module):
    r"""A mesh whose node positions are an :class:`~torch.nn.Parameter`, optionally one set per
    problem instance (the GEN paper optimises the mesh of each house, Alet et al., 2019, §3.4,
    §4.1 and appendix A.4).

    The output of a GEN is differentiable with respect to node positions, so they are trained
    by gradient descent, with their own learning rate (:meth:`param_groups`; the paper used
    :math:`3 \cdot 10^{-4}` for positions and :math:`3 \cdot 10^{-3}` for weights). After each
    optimiser step, :meth:`post_step` projects the positions back into the domain
    (:meth:`project`: clamped to the box, or renormalised onto the unit sphere) and recomputes
    the edges from the new positions (:meth:`remesh`, Delaunay by default), outside autograd:
    connectivity is a discrete function of the positions and carries no gradient.

    .. code-block:: python

        mesh = LearnableMesh(gen_pyg.mesh.halton(25).pos)
        opt = torch.optim.Adam(mesh.param_groups(model))
        for batch in loader:
            opt.zero_grad()
            loss = loss_fn(model, mesh.data(), batch)  # mesh.data().pos is mesh.pos
            loss.backward()
            opt.step()
            mesh.post_step()

    With one set of positions per instance (:obj:`pos` of shape :obj:`[I, N, D]`), an
    optimiser with momentum (Adam) keeps moving instances that are absent from a batch (their
    gradient is zero, not :obj:`None`); train such meshes with batches of one instance, or
    with :func:`~gen_pyg.mesh.fit_positions`, which updates a single instance.

    Args:
        pos (Tensor or Data): initial positions :obj:`[N, D]`, or :obj:`[I, N, D]` for
            :obj:`I` instances, or a mesh whose :obj:`pos` is used (and whose edges and faces
            serve until the first :meth:`remesh`). Must be finite and inside the domain.
        num_instances (int, optional): make :obj:`num_instances` copies of :obj:`[N, D]`
            positions; :obj:`None` keeps a single mesh (or the :obj:`I` of :obj:`[I, N, D]`
            input). (default: :obj:`None`)
        domain (str, optional): :obj:`"box"` (positions clamped to :obj:`bounds`),
            :obj:`"sphere"` (positions renormalised onto the unit sphere) or :obj:`None`
            (unconstrained). (default: :obj:`"box"`)
        bounds (tuple, optional): :obj:`(lo, hi)` of the box, each a number or one number per
            axis. (default: :obj:`(0.0, 1.0)`)
        edges (str or callable, optional): edge builder used by :meth:`remesh` (see
            :func:`gen_pyg.mesh.build_mesh`); :obj:`None` means :obj:`"spherical_delaunay"` on
            the sphere and :obj:`"delaunay"` otherwise. (default: :obj:`None`)
        atol (float, optional): tolerance of the domain check at construction, relative to the
            domain's size. (default: :obj:`1e-6`)

    Example:
        >>> from gen_pyg.mesh import grid
        >>> mesh = LearnableMesh(grid(3))  # starts with the grid's edges
        >>> data = mesh.data()
        >>> data.pos.requires_grad, data.num_edges, data.diameter.tolist()
        (True, 32, [4])
    """

    pos: torch.nn.Parameter
    bounds_lo: Tensor
    bounds_hi: Tensor

    def __init__(
        self,
        pos: Tensor | Data,
        num_instances: int | None = None,
        domain: str | None = "box",
        bounds: Bounds = (0.0, 1.0),
        edges: str | EdgeBuilder | None = None,
        atol: float = 1e-6,
    ) -> None:
        super().__init__()
        given: Data | None = None
        if isinstance(pos, Data):
            if pos.pos is None:
                raise ValueError("pos: the given mesh has no 'pos' attribute")
            given, pos = pos, pos.pos
        if not isinstance(pos, Tensor):
            raise TypeError(f"pos must be a Tensor or a Data mesh, got {type(pos).__name__}")
        if domain not in DOMAINS:
            raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
        if pos.dim() == 3:
            if num_instances is not None and num_instances != pos.size(0):
                raise ValueError(
                    f"num_instances={num_instances} does not match pos of shape "
                    f"{tuple(pos.shape)}"
                )
            num_instances = pos.size(0)
            if pos.size(0) == 0 or pos.size(1) == 0:
                raise ValueError(f"pos must hold at least one node, got shape {tuple(pos.shape)}")
            check_positions(pos.reshape(-1, pos.size(-1)))
            init = pos
        else:
            init = check_positions(pos)
            if num_instances is not None:
                check_int(num_instances, "num_instances", 1)
                init = init.unsqueeze(0).repeat(num_instances, 1, 1)
        self.num_instances = num_instances
        self.domain = domain
        self.atol = float(atol)
        self.edges = edges if edges is not None else (
            "spherical_delaunay" if domain == "sphere" else "delaunay"
        )
        self._builder = get_edge_builder(self.edges)
        dim = init.size(-1)
        lo, hi = resolve_bounds(bounds, dim)
        self.register_buffer("bounds_lo", lo.to(init), persistent=False)
        self.register_buffer("bounds_hi", hi.to(init), persistent=False)
        self._check_domain(init.detach())
        self.pos = torch.nn.Parameter(init.detach().clone())
        self._meshes: list[tuple[Tensor, Tensor | None, Tensor]] | None = None
        if given is not None and given.edge_index is not None:
            # Start from the given mesh's connectivity (e.g. a grid's consistent diagonals).
            edge_index = undirected(given.edge_index.detach(), self.num_nodes)
            face = given.face if "face" in given else None
            diameter = diameter_of(edge_index, self.num_nodes)
            self._meshes = [(edge_index, face, diameter)] * self._instances()
        self.register_load_state_dict_post_hook(_invalidate_meshes)  # type: ignore[no-untyped-call]

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        # A checkpoint gets the construction checks (finite, inside the domain) before its
        # positions replace the current ones; a bad one leaves the mesh unchanged.
        incoming = state_dict.get(prefix + "pos")
        name = f"state_dict[{prefix + 'pos'!r}]"
        if incoming is not None:
            if not isinstance(incoming, Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(incoming).__name__}")
            if incoming.shape != self.pos.shape:
                raise ValueError(f"{name} has shape {tuple(incoming.shape)} but this mesh's "
                                 f"positions have shape {tuple(self.pos.shape)}")
            if not incoming.is_floating_point():
                raise TypeError(f"{name} must be a floating-point tensor, got dtype "
                                f"{incoming.dtype}")
            check_finite(incoming.detach(), name, force=True)
            flat = incoming.detach().reshape(-1, incoming.size(-1)).to(self.bounds_lo)
            try:
                self._check_domain(flat)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}; the mesh is unchanged") from None
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ------------------------------------------------------------------ properties
    @property
    def num_nodes(self) -> int:
        """Number of nodes :math:`N` of each mesh."""
        return int(self.pos.size(-2))

    @property
    def dim(self) -> int:
        """Dimension :math:`D` of the space."""
        return int(self.pos.size(-1))

    def _instances(self) -> int:
        return 1 if self.num_instances is None else self.num_instances

    def _index(self, instance: int | None) -> int:
        if instance is None:
            if self.num_instances is not None:
                raise ValueError(
                    f"instance must be given for a mesh with {self.num_instances} instances"
                )
            return 0
        if isinstance(instance, bool) or not isinstance(instance, int):
            raise TypeError(f"instance must be an int, got {type(instance).__name__}")
        if not 0 <= instance < self._instances():
            raise ValueError(f"instance must be in [0, {self._instances()}), got {instance}")
        return instance

    def positions(self, instance: int | None = None) -> Tensor:
        """Node positions :obj:`[N, D]` of one instance, attached to the autograd graph."""
        i = self._index(instance)
        return self.pos if self.num_instances is None else self.pos[i]

    # ------------------------------------------------------------------ domain
    def _check_domain(self, pos: Tensor) -> None:
        flat = pos.reshape(-1, pos.size(-1))
        if self.domain == "box":
            tol = self.atol * float((self.bounds_hi - self.bounds_lo).max())
            bad = ((flat < self.bounds_lo - tol) | (flat > self.bounds_hi + tol)).any(dim=-1)
            if bool(bad.any()):
                i = int(bad.nonzero()[0])
                raise ValueError(
                    f"pos has {int(bad.sum())} node(s) outside the domain box "
                    f"[{self.bounds_lo.tolist()}, {self.bounds_hi.tolist()}], e.g. "
                    f"{flat[i].tolist()}"
                )
        elif self.domain == "sphere":
            radius = torch.linalg.vector_norm(flat, dim=-1)
            bad = (radius - 1).abs() > self.atol
            if bool(bad.any()):
                i = int(bad.nonzero()[0])
                raise ValueError(
                    f"pos has {int(bad.sum())} node(s) off the unit sphere, e.g. "
                    f"{flat[i].tolist()} with norm {float(radius[i]):.6g}"
                )

    @torch.no_grad()
    def project(self, instance: int | None = None) -> None:
        """Move the positions back into the domain, in place: clamp to the box, or divide by
        the norm on the sphere. With :obj:`instance`, only that instance is projected.

        Raises:
            ValueError: if a position is NaN or infinite (e.g. after a diverging step), or a
                zero vector on the sphere.
        """
        rows = self._rows(instance)
        if not bool(torch.isfinite(rows).all()):
            raise ValueError("LearnableMesh.pos has NaN or infinite values (diverging step?)")
        if self.domain == "box":
            rows.clamp_(min=self.bounds_lo, max=self.bounds_hi)
        elif self.domain == "sphere":
            norm = torch.linalg.vector_norm(rows, dim=-1, keepdim=True)
            if bool((norm == 0).any()):
                raise ValueError("LearnableMesh.pos has a zero vector, which has no direction")
            rows.div_(norm)

    def _rows(self, instance: int | None) -> Tensor:
        """The stored positions (no autograd): all of them, or one instance's view."""
        if instance is None:
            return self.pos.data
        i = self._index(instance)
        return self.pos.data if self.num_instances is None else self.pos.data[i]

    # ------------------------------------------------------------------ connectivity
    @torch.no_grad()
    def remesh(self, instance: int | None = None) -> None:
        """Recompute edges (and faces) from the current positions with the edge builder,
        outside autograd; with :obj:`instance`, only that instance's mesh."""
        if self._meshes is None or instance is None:
            todo = list(range(self._instances()))
            self._meshes = [self._build(i) for i in todo]
            return
        i = self._index(instance)
        self._meshes[i] = self._build(i)

    def _build(self, i: int) -> tuple[Tensor, Tensor | None, Tensor]:
        pos = self.pos.detach() if self.num_instances is None else self.pos.detach()[i]
        edge_index, face = split_builder_output(self._builder(pos), name="edges")
        edge_index = undirected(edge_index.to(pos.device), self.num_nodes)
        return edge_index, face, diameter_of(edge_index, self.num_nodes)

    def post_step(self, instance: int | None = None) -> None:
        """:meth:`project`, then :meth:`remesh`: call after every optimiser step."""
        self.project(instance)
        self.remesh(instance)

    # ------------------------------------------------------------------ meshes
    def data(self, instance: int | None = None) -> Data:
        """The mesh of one instance as :class:`~torch_geometric.data.Data` with :obj:`pos`
        (attached to the autograd graph: a loss on it reaches :attr:`pos`), :obj:`edge_index`,
        :obj:`num_nodes`, :obj:`diameter` :obj:`[1]` and :obj:`face` where the edge builder
        gives simplices. Edges are those of the last :meth:`remesh` (computed on first use).
        """
        i = self._index(instance)
        if self._meshes is None:
            self.remesh()
        assert self._meshes is not None
        edge_index, face, diameter = self._meshes[i]
        pos = self.positions(instance)
        data = Data(
            pos=pos,
            edge_index=edge_index.to(pos.device),
            num_nodes=self.num_nodes,
            diameter=diameter.to(pos.device),
        )
        if face is not None:
            data.face = face.to(pos.device)
        return data

    def batch(self, instances: Sequence[int] | Tensor | None = None) -> Batch:
        """Several meshes as one :class:`~torch_geometric.data.Batch` (positions stay attached to
        the autograd graph). :obj:`instances` may repeat an instance, e.g. once per scenario of
        a house; :obj:`None` means every instance (or the single mesh once).

        Example:
            >>> from gen_pyg.mesh import grid
            >>> mesh = LearnableMesh(grid(2).pos, num_instances=3)
            >>> b = mesh.batch([2, 2, 0])
            >>> b.num_graphs, b.pos.shape, b.diameter.tolist()
            (3, torch.Size([12, 2]), [2, 2, 2])
        """
        if instances is None:
            ids: list[int | None] = (
                [None] if self.num_instances is None else list(range(self.num_instances))
            )
        else:
            values = instances.tolist() if isinstance(instances, Tensor) else list(instances)
            if self.num_instances is None:
                for v in values:
                    if v != 0:
                        raise ValueError(f"a single mesh has only instance 0, got {v}")
                ids = [None] * len(values)
            else:
                ids = [int(v) for v in values]
        if not ids:
            raise ValueError("instances must not be empty")
        return Batch.from_data_list([self.data(i) for i in ids])

    # ------------------------------------------------------------------ optimiser
    def param_groups(
        self, model: torch.nn.Module | None = None, lr_pos: float = 3e-4, lr: float = 3e-3
    ) -> list[dict[str, Any]]:
        """Optimiser parameter groups: the positions with learning rate :obj:`lr_pos`, and the
        trainable parameters of :obj:`model` (other than the positions, should the mesh be one
        of its submodules) with :obj:`lr`. Defaults are the paper's (appendix A.4).

        Example:
            >>> from gen_pyg.mesh import grid
            >>> mesh, model = LearnableMesh(grid(2).pos), torch.nn.Linear(2, 1)
            >>> opt = torch.optim.Adam(mesh.param_groups(model))
            >>> [g["lr"] for g in opt.param_groups]
            [0.0003, 0.003]
        """
        for name, value in (("lr_pos", lr_pos), ("lr", lr)):
            if not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        groups: list[dict[str, Any]] = [{"params": [self.pos], "lr": float(lr_pos)}]
        if model is not None:
            params = [p for p in model.parameters() if p.requires_grad and p is not self.pos]
            if params:
                groups.append({"params": params, "lr": float(lr)})
        return groups

    def extra_repr(self) -> str:
        edges = self.edges if isinstance(self.edges, str) else getattr(
            self.edges, "__name__", type(self.edges).__name__
        )
        inst = "" if self.num_instances is None else f", num_instances={self.num_instances}"
        return (
            f"num_nodes={self.num_nodes}, dim={self.dim}{inst}, domain={self.domain!r}, "
            f"edges={edges!r}"
        )
