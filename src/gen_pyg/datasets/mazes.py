"""The scene-representation dataset of the GEN paper (§4.3, appendix A.5): views of random
3-D mazes and supermazes, rendered on the CPU."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch_geometric.data import Data
from tqdm import tqdm

from gen_pyg.datasets._cached import _CachedDataset
from gen_pyg.datasets._house_split import check_int
from gen_pyg.datasets._maze_render import free_blocks, render, supermaze
from gen_pyg.mesh import grid

SPLITS = ("train", "val", "test")
_FORMAT_VERSION = 1
#: Camera height in wall heights (the pose's ``z``).
CAMERA_HEIGHT = 0.5
#: Cameras keep this far (in blocks) from the sides of their free block.
_MARGIN = 0.15
#: Bank attributes of the stored supermazes, replaced by the drawn views on access.
_BANK = ("view_img", "view_pose", "view_maze")


def _check_number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value < high:
        raise ValueError(f"'{name}' must be a number in [{low}, {high}) (got {value!r})")
    return float(value)


def _check_sizes(m: int | Sequence[int], area: int) -> tuple[int, ...]:
    sizes = (m,) if isinstance(m, int) else tuple(m)
    if not sizes:
        raise ValueError("'m' must be an int or a non-empty sequence of ints (got [])")
    out = tuple(check_int("m", v, 1) for v in sizes)
    if max(out) > area:
        raise ValueError(f"'m' = {max(out)} does not fit in 'area' = {area} mazes per side")
    return out


class Mazes(_CachedDataset):
    r"""Views of random 3-D supermazes for the scene-representation experiment of the
    `"Graph Element Networks: adaptive, structured computation and memory"
    <https://arxiv.org/abs/1904.09019>`_ paper (§4.3, appendix A.5).

    A maze is a random perfect maze of ``maze_cells x maze_cells`` cells (randomised
    depth-first search) on a block grid of side :math:`B = 2\,\mathrm{maze\_cells} + 1`, with
    its own palette (three wall colours around a random hue, one per wall block, a two-tone
    checkerboard floor, striped wall faces). A supermaze tiles :math:`m \times m` mazes and sits
    at a uniformly random offset inside a fixed area of ``area x area`` mazes, so positions of
    every :math:`m` share one range. Each maze of a supermaze is seen from ``views_per_maze``
    random poses in its free space and rendered by a numpy ray caster (pinhole camera,
    ``image_size`` pixels square, horizontal field of view ``fov``; see
    :func:`~gen_pyg.datasets._maze_render.render`).

    Positions are in the GEN's space :math:`[0, 1]^2`, the fixed area. A pose is
    :math:`(x, y, z, \cos\psi, \sin\psi, \cos\theta, \sin\theta)` with camera height
    :math:`z = 0.5` wall heights, yaw :math:`\psi` uniform in :math:`[0, 2\pi)` and pitch
    :math:`\theta` uniform in :math:`[-\mathrm{pitch\_range}, \mathrm{pitch\_range}]`.

    The views of every supermaze are generated once and cached; an access draws, for every
    maze of the supermaze, ``num_context`` context views and ``num_queries`` query views
    among its ``views_per_maze`` (as the paper, which keeps 8 views and one query per maze for
    supermazes too). With ``resample=True`` (the default for ``"train"``) every access draws
    anew, so an epoch sees new (context, query) sets; otherwise the draw of example
    :math:`i` is fixed by ``seed`` and :math:`i` (evaluation is repeatable). An example is a
    :class:`~torch_geometric.data.Data` with, for :math:`P = m^2\,\mathrm{num\_context}`
    context views and :math:`Q = m^2\,\mathrm{num\_queries}` queries:

    - ``input_pos`` ``[P, 2]``, ``input_pose`` ``[P, 7]``, ``input_img`` ``[P, 3, S, S]``
      (uint8), ``query_pos`` ``[Q, 2]``, ``query_pose`` ``[Q, 7]``, ``query_img``
      ``[Q, 3, S, S]`` (uint8), ``input_maze`` ``[P]`` and ``query_maze`` ``[Q]`` (which
      maze of the supermaze, row-major);
    - the GEN mesh of the supermaze: a regular grid (:func:`gen_pyg.mesh.grid`, lattice
      edges) of ``mesh_cells_per_maze * m + 1`` nodes per side over the supermaze's square,
      so node density is fixed and bigger supermazes get more nodes (``pos``,
      ``edge_index``, ``grid_shape``, ``grid_lo``, ``grid_hi``, ``diameter``);
    - ``m`` ``[1]`` and ``offset`` ``[1, 2]`` (the supermaze's lowest corner).

    Batch with ``DataLoader(..., follow_batch=["input_pos", "query_pos"])``; a batch may mix
    different :math:`m`.

    **STATS** (defaults):

    .. list-table::
        :widths: 10 10 10 10 10
        :header-rows: 1

        * - #supermazes
          - #views per maze
          - image size
          - #context / #queries per maze
          - #mesh nodes (m = 1)
        * - 1,000
          - 32
          - 32 x 32
          - 8 / 1
          - 25

    Args:
        root (str or Path): Root folder (``processed/`` below it).
        split (str, optional): ``"train"``, ``"val"`` or ``"test"``; each split is generated
            from its own seeds. (default: ``"train"``)
        m (int or list of int, optional): Supermaze side(s); with several, supermaze
            :math:`i` has side ``m[i % len(m)]``. (default: ``1``)
        num_mazes (int, optional): Supermazes (examples). (default: ``1000``)
        views_per_maze (int, optional): Rendered views per maze. (default: ``32``)
        num_context (int, optional): Context views per maze. (default: ``8``)
        num_queries (int, optional): Queries per maze. (default: ``1``)
        image_size (int, optional): Image side :math:`S` in pixels, at least 8.
            (default: ``32``)
        maze_cells (int, optional): Cells per maze side. (default: ``3``)
        area (int, optional): Side of the fixed area, in mazes. (default: ``5``)
        mesh_cells_per_maze (int, optional): Mesh cells per maze side. (default: ``4``)
        fov (float, optional): Horizontal field of view in radians. (default: :math:`\pi/2`)
        pitch_range (float, optional): Largest absolute pitch in radians, below
            :math:`\pi/2`. (default: ``0.35``)
        resample (bool, optional): Draw new context and query views on every access;
            ``None`` means ``split == "train"``. (default: ``None``)
        seed (int, optional): Seed of the generator. (default: ``0``)
        transform (callable, optional): Applied to every access, after the draw.
            (default: ``None``)
        pre_transform (callable, optional): Applied to the stored supermazes before saving.
            (default: ``None``)
        pre_filter (callable, optional): Keeps a supermaze when it returns ``True``.
            (default: ``None``)
        force_reload (bool, optional): Regenerate even if cached. (default: ``False``)
        log (bool, optional): Print PyG's processing messages. (default: ``True``)

    Example:
        >>> import tempfile
        >>> ds = Mazes(tempfile.mkdtemp(), m=[1, 2], num_mazes=2, views_per_maze=10, log=False)
        >>> ds[1].input_img.shape, ds[1].query_pos.shape, ds[1].pos.shape
        (torch.Size([32, 3, 32, 32]), torch.Size([4, 2]), torch.Size([81, 2]))
    """

    cache_name = "mazes"

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        *,
        m: int | Sequence[int] = 1,
        num_mazes: int = 1000,
        views_per_maze: int = 32,
        num_context: int = 8,
        num_queries: int = 1,
        image_size: int = 32,
        maze_cells: int = 3,
        area: int = 5,
        mesh_cells_per_maze: int = 4,
        fov: float = math.pi / 2,
        pitch_range: float = 0.35,
        resample: bool | None = None,
        seed: int = 0,
        transform: Callable[[Data], Data] | None = None,
        pre_transform: Callable[[Data], Data] | None = None,
        pre_filter: Callable[[Data], bool] | None = None,
        force_reload: bool = False,
        log: bool = True,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"'split' must be one of {SPLITS} (got {split!r})")
        self.split = split
        self.area = check_int("area", area, 1)
        self.sizes = _check_sizes(m, self.area)
        self.num_mazes = check_int("num_mazes", num_mazes, 1)
        self.views_per_maze = check_int("views_per_maze", views_per_maze, 2)
        self.num_context = check_int("num_context", num_context, 1)
        self.num_queries = check_int("num_queries", num_queries, 1)
        if self.num_context + self.num_queries > self.views_per_maze:
            raise ValueError(
                f"'num_context' + 'num_queries' = {self.num_context + self.num_queries} "
                f"exceeds 'views_per_maze' = {self.views_per_maze}"
            )
        self.image_size = check_int("image_size", image_size, 8)
        self.maze_cells = check_int("maze_cells", maze_cells, 1)
        self.mesh_cells_per_maze = check_int("mesh_cells_per_maze", mesh_cells_per_maze, 1)
        self.fov = _check_number("fov", fov, 1e-3, math.pi)
        self.pitch_range = _check_number("pitch_range", pitch_range, 0.0, math.pi / 2)
        if resample is not None and not isinstance(resample, bool):
            raise TypeError(f"'resample' must be a bool or None (got {resample!r})")
        self.resample = split == "train" if resample is None else resample
        self.seed = check_int("seed", seed, 0)
        self._draw_rng = np.random.default_rng([self.seed, SPLITS.index(split), 1])
        super().__init__(root, transform, pre_transform, pre_filter, log, force_reload)

    # ------------------------------------------------------------------ cache
    def _cache_params(self) -> dict[str, object]:
        return {
            "version": _FORMAT_VERSION,
            "split": self.split,
            "m": list(self.sizes),
            "num_mazes": self.num_mazes,
            "views_per_maze": self.views_per_maze,
            "image_size": self.image_size,
            "maze_cells": self.maze_cells,
            "area": self.area,
            "mesh_cells_per_maze": self.mesh_cells_per_maze,
            "fov": self.fov,
            "pitch_range": self.pitch_range,
            "seed": self.seed,
        }

    def _cache_tag(self) -> str:
        return f"{self.split}_m{'-'.join(str(s) for s in self.sizes)}"

    @property
    def blocks_per_maze(self) -> int:
        """Side :math:`B` of one maze in blocks (the renderer's unit)."""
        return 2 * self.maze_cells + 1

    def _generate(self) -> Iterator[Data]:
        for index in tqdm(range(self.num_mazes), desc="supermazes", disable=None, leave=False):
            yield self._supermaze(index)

    def _supermaze(self, index: int) -> Data:
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), 0, index])
        m = self.sizes[index % len(self.sizes)]
        b, v = self.blocks_per_maze, self.views_per_maze
        scene = supermaze(m, self.maze_cells, rng)
        scale = 1.0 / (self.area * b)  # blocks -> the GEN's [0, 1]
        offset = rng.uniform(0.0, (self.area - m) * b, 2)
        free = free_blocks(scene.walls)
        maze_of_free = (free[:, 0] // b) * m + free[:, 1] // b
        xs, ys = [], []
        for k in range(m * m):
            mine = free[maze_of_free == k]
            pick = mine[rng.integers(len(mine), size=v)]
            xs.append(pick[:, 0] + rng.uniform(_MARGIN, 1.0 - _MARGIN, v))
            ys.append(pick[:, 1] + rng.uniform(_MARGIN, 1.0 - _MARGIN, v))
        x, y = np.concatenate(xs), np.concatenate(ys)
        yaw = rng.uniform(0.0, 2.0 * math.pi, m * m * v)
        pitch = rng.uniform(-self.pitch_range, self.pitch_range, m * m * v)
        images = render(scene, x, y, yaw, pitch, z=CAMERA_HEIGHT, image_size=self.image_size,
                        fov=self.fov)
        assert isinstance(images, np.ndarray)
        gx, gy = (x + offset[0]) * scale, (y + offset[1]) * scale
        pose = np.stack([gx, gy, np.full_like(gx, CAMERA_HEIGHT), np.cos(yaw), np.sin(yaw),
                         np.cos(pitch), np.sin(pitch)], axis=1)
        lo = offset * scale
        hi = (offset + m * b) * scale
        mesh = grid(self.mesh_cells_per_maze * m + 1, bounds=(lo.tolist(), hi.tolist()),
                    edges="lattice")
        return Data(
            pos=mesh.pos,
            edge_index=mesh.edge_index,
            num_nodes=mesh.num_nodes,
            diameter=mesh.diameter,
            grid_shape=mesh.grid_shape,
            grid_lo=mesh.grid_lo,
            grid_hi=mesh.grid_hi,
            view_img=torch.from_numpy(images),
            view_pose=torch.from_numpy(pose.astype(np.float32)),
            view_maze=torch.arange(m * m).repeat_interleave(v),
            m=torch.tensor([m], dtype=torch.long),
            offset=torch.from_numpy(lo.astype(np.float32)).view(1, 2),
        )

    # ------------------------------------------------------------------ access
    def get_bank(self, idx: int) -> Data:
        """Supermaze ``idx`` of the dataset as stored, with all its views: ``view_img``
        ``[m^2 V, 3, S, S]``, ``view_pose`` ``[m^2 V, 7]`` and ``view_maze`` ``[m^2 V]``
        (maze of each view) besides the mesh, ``m`` and ``offset``."""
        return super().get(self.indices()[idx])

    def get(self, idx: int) -> Data:
        bank = super().get(idx)
        rng = self._draw_rng if self.resample else np.random.default_rng(
            [self.seed, SPLITS.index(self.split), 2, idx])
        return _draw_views(bank, self.views_per_maze, self.num_context, self.num_queries, rng)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({len(self)}, split={self.split!r}, "
            f"m={list(self.sizes)}, views_per_maze={self.views_per_maze})"
        )


def _draw_views(
    bank: Data, views_per_maze: int, num_context: int, num_queries: int,
    rng: np.random.Generator,
) -> Data:
    """One (context, query) draw of a stored supermaze: for every maze, ``num_context`` and
    ``num_queries`` distinct views among its ``views_per_maze``."""
    mazes = int(bank.view_maze.numel()) // views_per_maze
    order = np.argsort(rng.random((mazes, views_per_maze)), axis=1)
    base = (np.arange(mazes) * views_per_maze)[:, None]
    ctx = torch.from_numpy((order[:, :num_context] + base).reshape(-1))
    qry = torch.from_numpy(
        (order[:, num_context:num_context + num_queries] + base).reshape(-1))
    out = Data(**{k: v for k, v in bank.to_dict().items() if k not in _BANK})
    pose = bank.view_pose
    out.input_pos, out.input_pose, out.input_img = pose[ctx, :2], pose[ctx], bank.view_img[ctx]
    out.query_pos, out.query_pose, out.query_img = pose[qry, :2], pose[qry], bank.view_img[qry]
    out.input_maze, out.query_maze = bank.view_maze[ctx], bank.view_maze[qry]
    return out
