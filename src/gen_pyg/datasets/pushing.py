r"""The GEN paper's pushing experiment (section 4.2), on a physics-made stand-in for Omnipush.

Raw layout (one file per object, ``object_{i:03d}.npz``, read by :func:`read_pushing_raw`,
written by :func:`write_pushing_raw`; lengths in cm, angles in radians, all in the object's
initial frame, whose origin is the object's reference point):

- ``picture``: uint8 ``[H, W]`` top-down picture, class indices into
  :data:`~gen_pyg.solvers.push_objects.PICTURE_CLASSES` (0 nothing, 1 body, 2 light weight,
  3 heavy weight); ``picture[i, j]`` is the pixel at column ``j`` (x) and row ``i`` (y),
  row 0 at the bottom (smallest y);
- ``box``: float64 ``[4]``, ``(xmin, ymin, xmax, ymax)`` of the picture;
- ``push_start``: float64 ``[K, 2]`` pusher start positions;
- ``push_displacement``: float64 ``[K, 2]`` pusher displacements (straight pushes);
- ``pose_change``: float64 ``[K, 3]`` ``(dx, dy, dtheta)`` of the object's reference point
  and orientation (counter-clockwise positive), after each push from the initial pose;
- optional, for re-simulation (:meth:`Pushing.simulate`): ``polygon`` ``[V, 2]``,
  ``weight_pos`` ``[W, 2]``, ``weight_mass`` ``[W]`` (g), ``weight_heavy`` ``[W]`` (bool)
  and ``physics`` (a JSON string of :class:`~gen_pyg.solvers.PushingPhysics`);
- ``format_version``: int, currently 1.

Real Omnipush data converts to this layout once (one file per object: its picture and its
pushes expressed in the object's initial frame) and then runs through the same dataset with
``Pushing(root, raw_dir=folder)``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor
from torch_geometric.data import Data
from tqdm import tqdm

from gen_pyg._io import _atomic_write
from gen_pyg.datasets._cached import _CachedDataset, params_digest
from gen_pyg.datasets._house_split import check_int, scenario_indices, select_houses
from gen_pyg.solvers.push_objects import (
    PICTURE_CLASSES,
    PushObject,
    sample_push_object,
    sample_pushes,
)
from gen_pyg.solvers.pushing import PushingPhysics, simulate_pushes

__all__ = ["Pushing", "PushingRecord", "generate_pushing_record", "read_pushing_raw",
           "write_pushing_raw"]

_FORMAT_VERSION = 1
Float64Array = NDArray[np.float64]


@dataclass(frozen=True)
class PushingRecord:
    """One object's raw data: its picture and its pushes (see the module text for the layout).

    ``obj`` is the simulated object (``None`` for real data, which cannot be re-simulated).
    """

    picture: NDArray[np.uint8]
    box: Float64Array
    push_start: Float64Array
    push_displacement: Float64Array
    pose_change: Float64Array
    obj: PushObject | None = None

    def __post_init__(self) -> None:
        k = self.push_start.shape[0]
        if self.picture.ndim != 2:
            raise ValueError(f"'picture' must be [H, W] (got {self.picture.shape})")
        if int(self.picture.max(initial=0)) >= len(PICTURE_CLASSES):
            raise ValueError(f"'picture' must hold class indices < {len(PICTURE_CLASSES)}")
        if self.box.shape != (4,) or not (self.box[2] > self.box[0] and self.box[3] > self.box[1]):
            raise ValueError(f"'box' must be (xmin, ymin, xmax, ymax) (got {self.box})")
        for name, shape in (("push_start", (k, 2)), ("push_displacement", (k, 2)),
                            ("pose_change", (k, 3))):
            if getattr(self, name).shape != shape:
                raise ValueError(f"'{name}' must have shape {list(shape)} "
                                 f"(got {list(getattr(self, name).shape)})")

    @property
    def num_pushes(self) -> int:
        return int(self.push_start.shape[0])

    def select(self, pushes: Sequence[int]) -> PushingRecord:
        """The same object with only the pushes ``pushes``."""
        index = np.asarray(pushes, dtype=np.int64)
        return PushingRecord(self.picture, self.box, self.push_start[index],
                             self.push_displacement[index], self.pose_change[index], self.obj)


def write_pushing_raw(record: PushingRecord, path: str | os.PathLike[str]) -> None:
    """Write one object's record as a compressed ``.npz`` (atomically; see the module text).

    Example:
        >>> import tempfile
        >>> rec = generate_pushing_record(np.random.default_rng(0), 3,
        ...                               PushingPhysics(resolution=40, step=0.1))
        >>> path = Path(tempfile.mkdtemp()) / "object_000.npz"
        >>> write_pushing_raw(rec, path)
        >>> np.array_equal(read_pushing_raw(path).pose_change, rec.pose_change)
        True
    """
    arrays: dict[str, object] = {
        "format_version": np.int64(_FORMAT_VERSION),
        "picture": record.picture.astype(np.uint8),
        "box": record.box,
        "push_start": record.push_start,
        "push_displacement": record.push_displacement,
        "pose_change": record.pose_change,
    }
    if record.obj is not None:
        arrays.update(polygon=record.obj.polygon, weight_pos=record.obj.weight_pos,
                      weight_mass=record.obj.weight_mass,
                      weight_heavy=np.asarray(record.obj.weight_heavy, dtype=bool),
                      physics=np.array(json.dumps(record.obj.physics.to_dict())))
    _atomic_write(path, lambda f: np.savez_compressed(f, **arrays))  # type: ignore[arg-type]


def read_pushing_raw(path: str | os.PathLike[str]) -> PushingRecord:
    """Read one object's ``.npz`` record (see the module text), checking its layout."""
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in ("picture", "box", "push_start", "push_displacement",
                               "pose_change") if k not in f]
        if missing:
            raise ValueError(f"{path}: missing arrays {missing}")
        version = int(f["format_version"]) if "format_version" in f else _FORMAT_VERSION
        if version != _FORMAT_VERSION:
            raise ValueError(f"{path}: format_version {version}, expected {_FORMAT_VERSION}")
        obj = None
        if "polygon" in f:
            physics = PushingPhysics(**json.loads(str(f["physics"])))
            obj = PushObject(f["polygon"], f["weight_pos"], f["weight_mass"],
                             f["weight_heavy"], physics)
        return PushingRecord(
            picture=f["picture"].astype(np.uint8),
            box=f["box"].astype(np.float64),
            push_start=f["push_start"].astype(np.float64),
            push_displacement=f["push_displacement"].astype(np.float64),
            pose_change=f["pose_change"].astype(np.float64),
            obj=obj,
        )


def generate_pushing_record(
    rng: np.random.Generator, num_pushes: int, physics: PushingPhysics | None = None
) -> PushingRecord:
    """A random object (:func:`~gen_pyg.solvers.sample_push_object`), ``num_pushes`` random
    pushes (:func:`~gen_pyg.solvers.sample_pushes`) and their noise-free results
    (:func:`~gen_pyg.solvers.simulate_pushes`)."""
    physics = PushingPhysics() if physics is None else physics
    obj = sample_push_object(rng, physics)
    start, disp = sample_pushes(obj, rng, num_pushes)
    result = simulate_pushes(obj, start, disp)
    h = physics.box_half_width
    return PushingRecord(obj.picture, np.array([-h, -h, h, h]), start, disp,
                         result.pose_change, obj)


def _check_noise(noise: object) -> tuple[float, float]:
    values = noise if isinstance(noise, tuple | list) else (noise, noise)
    if len(values) != 2 or any(
        isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0
        for v in values
    ):
        raise ValueError(f"'noise' must be a non-negative number or a pair (position std in cm, "
                         f"angle std in rad) (got {noise!r})")
    return float(values[0]), float(values[1])


class Pushing(_CachedDataset):
    r"""Predicting how a pushed object moves from a picture of it, as in the
    `"Graph Element Networks: adaptive, structured computation and memory"
    <https://arxiv.org/abs/1904.09019>`_ paper (section 4.2), on data from the quasi-static
    pushing model of :mod:`gen_pyg.solvers.pushing` (the real Omnipush data, Bauza et al.
    2019, is not downloadable; a user who has it converts it to the raw layout of
    :mod:`gen_pyg.datasets.pushing` and passes ``raw_dir``).

    Each example is one push of one object, a :class:`~torch_geometric.data.Data` with

    - ``input_pos`` ``[S + 1, 2]``, positions in the picture box mapped to :math:`[0, 1]^2`:
      ``S`` picture samples drawn uniformly in the box, then the pusher's start;
    - ``input_x`` ``[S + 1, 4]``: the samples' one-hot classes (nothing, body, light weight,
      heavy weight), then the push displacement :math:`(\Delta x_p, \Delta y_p)` in cm padded
      with two zeros;
    - ``input_fn`` ``[S + 1]``: 0 for the picture samples, 1 for the push (two input
      functions, one encoder each);
    - ``y`` ``[1, 3]``: the pose change :math:`(\Delta x, \Delta y, \Delta\theta)` of the
      object's reference point, in cm, cm and rad (a 5 cm push moves an object up to 5 cm and
      turns it by tenths of a radian), plus Gaussian noise of std ``noise``;
    - ``object`` and ``push`` ``[1]``: integer ids (train with ``group_by="object"``).

    It is read by ``GEN.paper(in_channels=[4, 2], out_channels=3, readout="sum")`` once a mesh is
    attached (:class:`~gen_pyg.mesh.AttachMesh`). Splits are by object: the test objects are
    never seen in training.

    **STATS** (defaults):

    .. list-table::
        :header-rows: 1

        * - #objects
          - #pushes per object
          - #test objects
          - #inputs per push
          - target
        * - 250
          - 250
          - 50
          - 64 + 1
          - 3

    Args:
        root (str or Path): Root folder (``raw/`` and ``processed/`` below it).
        split (str, optional): ``"train"``, ``"val"``, ``"test"`` or ``"all"``.
            (default: ``"train"``)
        num_objects (int, optional): Objects to generate; with ``raw_dir``, ``None`` reads
            all its files. (default: ``250`` when generating)
        pushes_per_object (int, optional): Pushes per generated object. (default: ``250``)
        num_test_objects (int, optional): Objects in the test split. (default: ``50``)
        num_val_objects (int, optional): Objects in the validation split. (default: ``0``)
        num_samples (int, optional): Picture samples per example. (default: ``64``)
        noise (float or tuple, optional): Std of Gaussian noise added to ``y``: one number
            for all three entries, or ``(cm, rad)``. (default: ``0.0``)
        seed (int, optional): Seed of the objects, pushes, samples and noise.
            (default: ``0``)
        split_seed (int, optional): Seed of the object permutation of the splits.
            (default: ``0``)
        physics (PushingPhysics, optional): Parameters of the simulation.
            (default: ``PushingPhysics()``)
        raw_dir (str or Path, optional): A folder of ``object_*.npz`` records to read instead
            of generating. (default: ``None``)
        transform, pre_transform, pre_filter (callable, optional): As in PyG.
            (default: ``None``)
        force_reload (bool, optional): Regenerate the processed file. (default: ``False``)
        log (bool, optional): Print PyG's processing messages. (default: ``True``)

    Example:
        >>> import tempfile
        >>> ds = Pushing(tempfile.mkdtemp(), split="all", num_objects=2, pushes_per_object=3,
        ...              num_test_objects=1, physics=PushingPhysics(resolution=40, step=0.1),
        ...              log=False)
        >>> len(ds), ds[0].input_pos.shape, ds[0].input_x.shape, ds[0].y.shape
        (6, torch.Size([65, 2]), torch.Size([65, 4]), torch.Size([1, 3]))
    """

    cache_name = "pushing"

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        *,
        num_objects: int | None = None,
        pushes_per_object: int = 250,
        num_test_objects: int = 50,
        num_val_objects: int = 0,
        num_samples: int = 64,
        noise: float | tuple[float, float] = 0.0,
        seed: int = 0,
        split_seed: int = 0,
        physics: PushingPhysics | None = None,
        raw_dir: str | os.PathLike[str] | None = None,
        transform: Callable[[Data], Data] | None = None,
        pre_transform: Callable[[Data], Data] | None = None,
        pre_filter: Callable[[Data], bool] | None = None,
        force_reload: bool = False,
        log: bool = True,
    ) -> None:
        self.physics = PushingPhysics() if physics is None else physics
        if not isinstance(self.physics, PushingPhysics):
            raise TypeError(f"'physics' must be a PushingPhysics (got {type(physics).__name__})")
        self.pushes_per_object = check_int("pushes_per_object", pushes_per_object, 1)
        self.num_samples = check_int("num_samples", num_samples, 1)
        self.noise = _check_noise(noise)
        self.seed = check_int("seed", seed, 0)
        self.user_raw_dir = None if raw_dir is None else Path(raw_dir)
        if self.user_raw_dir is not None:
            files = sorted(self.user_raw_dir.glob("object_*.npz"))
            if not files:
                raise FileNotFoundError(f"'raw_dir' {self.user_raw_dir} holds no object_*.npz")
            if num_objects is not None and num_objects != len(files):
                raise ValueError(f"'num_objects' is {num_objects} but 'raw_dir' holds "
                                 f"{len(files)} objects")
            self._raw_names = [f.name for f in files]
            self.num_objects = len(files)
        else:
            self.num_objects = check_int("num_objects", 250 if num_objects is None
                                         else num_objects, 1)
            self._raw_names = [f"object_{i:03d}.npz" for i in range(self.num_objects)]
        num_test = check_int("num_test_objects", num_test_objects, 0)
        num_val = check_int("num_val_objects", num_val_objects, 0)
        #: The object indices of this split.
        self.objects = select_houses(self.num_objects, split, None, num_test, num_val,
                                     check_int("split_seed", split_seed, 0), unit="object")
        self.split = split
        super().__init__(root, transform, pre_transform, pre_filter, log, force_reload)
        ids = getattr(self._data, "object", None)
        if not isinstance(ids, Tensor):
            raise ValueError("the stored data lost its 'object' ids; 'pre_transform' must keep "
                             "them")
        if len(self.objects) < self.num_objects:
            self._indices = scenario_indices(ids, self.objects)

    # ---- raw layer -------------------------------------------------------------------------
    def _generation_params(self) -> dict[str, object]:
        return {"version": _FORMAT_VERSION, "num_objects": self.num_objects,
                "pushes_per_object": self.pushes_per_object, "seed": self.seed,
                "physics": self.physics.to_dict()}

    @property
    def raw_dir(self) -> str:
        if self.user_raw_dir is not None:
            return str(self.user_raw_dir)
        return os.path.join(self.root, "raw", f"pushing_{params_digest(self._generation_params())}")

    @property
    def raw_file_names(self) -> list[str]:
        return list(self._raw_names)

    def download(self) -> None:
        """Generate the raw records (a user's ``raw_dir`` must already hold them)."""
        if self.user_raw_dir is not None:
            missing = [p for p in self.raw_paths if not Path(p).is_file()]
            raise FileNotFoundError(f"missing raw file {missing[0]}")
        for index in tqdm(range(self.num_objects), desc="pushing objects", disable=None,
                          leave=False):
            path = Path(self.raw_paths[index])
            if path.is_file():  # resume an interrupted generation
                continue
            rng = np.random.default_rng([self.seed, index])
            write_pushing_raw(generate_pushing_record(rng, self.pushes_per_object,
                                                      self.physics), path)

    def record(self, index: int) -> PushingRecord:
        """The raw record of object ``index``."""
        check_int("index", index, 0)
        if index >= self.num_objects:
            raise ValueError(f"'index' must be < {self.num_objects} (got {index})")
        return read_pushing_raw(self.raw_paths[index])

    def simulate(self, idx: int) -> Tensor:
        """The noise-free pose change ``[1, 3]`` of example ``idx``, simulated again from the
        object's raw record (raises for records without a shape description, as real data)."""
        data = self[idx]
        rec = self.record(int(data.object))
        if rec.obj is None:
            raise ValueError(f"object {int(data.object)} has no shape description to simulate")
        k = int(data.push)
        res = simulate_pushes(rec.obj, rec.push_start[k:k + 1], rec.push_displacement[k:k + 1])
        return torch.from_numpy(res.pose_change.astype(np.float32))

    # ---- processed layer -------------------------------------------------------------------
    def _cache_params(self) -> dict[str, object]:
        params: dict[str, object] = {"version": _FORMAT_VERSION,
                                     "num_samples": self.num_samples, "noise": self.noise,
                                     "seed": self.seed}
        if self.user_raw_dir is None:
            params["raw"] = self._generation_params()
        else:
            params["raw"] = [(p, os.stat(p).st_size, os.stat(p).st_mtime_ns)
                             for p in self.raw_paths]
        return params

    def _generate(self) -> Iterator[Data]:
        for index in tqdm(range(self.num_objects), desc="pushing examples", disable=None,
                          leave=False):
            yield from record_to_data(self.record(index), index, self.num_samples, self.noise,
                                      np.random.default_rng([self.seed, index, 1]))

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({len(self)}, split={self.split!r}, "
                f"objects={len(self.objects)})")


def record_to_data(
    record: PushingRecord, index: int, num_samples: int, noise: tuple[float, float],
    rng: np.random.Generator,
) -> list[Data]:
    """The examples of one object's record (see :class:`Pushing`)."""
    lo, hi = record.box[:2], record.box[2:]
    height, width = record.picture.shape
    k = record.num_pushes
    samples = rng.random((k, num_samples, 2))
    col = np.minimum((samples[..., 0] * width).astype(np.int64), width - 1)
    row = np.minimum((samples[..., 1] * height).astype(np.int64), height - 1)
    classes = record.picture[row, col]
    onehot = np.eye(len(PICTURE_CLASSES))[classes]
    start = (record.push_start - lo) / (hi - lo)
    push = np.concatenate([record.push_displacement, np.zeros((k, 2))], axis=1)
    y = record.pose_change + rng.standard_normal((k, 3)) * np.array(
        [noise[0], noise[0], noise[1]])
    fn = torch.cat([torch.zeros(num_samples, dtype=torch.long), torch.ones(1, dtype=torch.long)])
    out = []
    for j in range(k):
        out.append(Data(
            input_pos=torch.from_numpy(np.concatenate([samples[j], start[j:j + 1]]).astype(
                np.float32)),
            input_x=torch.from_numpy(np.concatenate([onehot[j], push[j:j + 1]]).astype(
                np.float32)),
            input_fn=fn.clone(),
            y=torch.from_numpy(y[j:j + 1].astype(np.float32)),
            object=torch.tensor([index], dtype=torch.long),
            push=torch.tensor([j], dtype=torch.long),
        ))
    return out
