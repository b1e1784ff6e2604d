"""The processed-file cache shared by the generated datasets: one file named by a hash of the
parameters, written atomically, regenerated when it cannot be read."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from torch_geometric.data import Data, InMemoryDataset

from gen_pyg._io import atomic_save

#: Errors that mean the file is there but cannot be used, so it is regenerated. Unpickling
#: damaged bytes raises almost anything (measured on random and bit-flipped files:
#: ``UnpicklingError``, ``RuntimeError``, ``UnicodeDecodeError``, ``IndexError``,
#: ``KeyError``, ``AttributeError``, ``TypeError``, ``ModuleNotFoundError``, ``EOFError``,
#: ``OSError``), so everything but a missing file or a refused permission counts.
_UNREADABLE = (Exception,)
#: generation parameters that the generation line names besides the ``num_*`` ones
_SIZE_KEYS = ("split", "m", "n", "pushes_per_object")
#: Errors that say nothing about the file's content: raised as they are.
_NOT_DAMAGE = (FileNotFoundError, PermissionError)


def params_digest(params: Mapping[str, Any], algorithm: str = "sha256") -> str:
    """A short hash of the generation parameters, used in processed file names.

    Args:
        params (Mapping): JSON-serialisable parameters; key order does not matter.
        algorithm (str, optional): A :mod:`hashlib` algorithm. (default: ``"sha256"``)

    Returns:
        The first 12 hex digits of the hash of ``params`` as sorted JSON.

    Example:
        >>> params_digest({"seed": 0, "n": 3}) == params_digest({"n": 3, "seed": 0})
        True
    """
    text = json.dumps(dict(params), sort_keys=True)
    return hashlib.new(algorithm, text.encode()).hexdigest()[:12]


class _CachedDataset(InMemoryDataset):
    """An :class:`~torch_geometric.data.InMemoryDataset` whose data are generated once into a
    single processed file ``{cache_name}[_{tag}]_{digest}.pt`` of ``root/processed``.

    The digest hashes :meth:`_cache_params` (every parameter that changes the data), so
    different settings share one ``root`` and a change regenerates. The file is written
    atomically (temporary file of the same folder, fsync, rename), so concurrent builders of
    one ``root`` and interrupted runs never leave a partial file; a file that cannot be read
    anyway (truncated or overwritten) is regenerated with a warning naming it.

    Subclasses set :attr:`cache_name`, implement :meth:`_cache_params` and :meth:`_generate`,
    may override :meth:`_cache_tag`, and call ``super().__init__`` last; the data are loaded
    when it returns.
    """

    #: First part of the processed file name.
    cache_name: ClassVar[str]
    #: The :mod:`hashlib` algorithm of the digest.
    cache_hash: ClassVar[str] = "sha256"

    def __init__(
        self,
        root: str | os.PathLike[str],
        transform: Callable[[Data], Data] | None = None,
        pre_transform: Callable[[Data], Data] | None = None,
        pre_filter: Callable[[Data], bool] | None = None,
        log: bool = True,
        force_reload: bool = False,
    ) -> None:
        if log:
            try:
                self._announce(str(root), force_reload)
            except OSError:  # e.g. a user's raw folder lacks a file: PyG names it below
                pass
        super().__init__(
            str(root), transform, pre_transform, pre_filter, log=log, force_reload=force_reload
        )
        self._load_processed()

    def _announce(self, root: str, force_reload: bool) -> None:
        """One line on stderr, before a generation starts (minutes and hundreds of MB for the
        paper's sizes): what is generated and where. Nothing when the file is there."""
        file = os.path.join(os.path.expanduser(root), "processed", self.processed_file_names[0])
        if os.path.isfile(file) and not force_reload:
            return
        params: dict[str, object] = {}
        for key, value in self._cache_params().items():
            params.update(value if isinstance(value, dict) else {key: value})
        sizes = ", ".join(f"{k}={v}" for k, v in params.items()
                          if k.startswith("num_") or k in _SIZE_KEYS)
        print(f"generating {type(self).__name__} data ({sizes}) into {root}: done once, later "
              f"runs read {file}", file=sys.stderr, flush=True)

    def _cache_params(self) -> Mapping[str, object]:
        """Every parameter that determines the stored data."""
        raise NotImplementedError

    def _cache_tag(self) -> str | None:
        """An optional readable part of the file name (e.g. the mode), after :attr:`cache_name`."""
        return None

    def _generate(self) -> Iterable[Data]:
        """The examples, before ``pre_filter`` and ``pre_transform``."""
        raise NotImplementedError

    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_file_names(self) -> list[str]:
        tag = self._cache_tag()
        stem = self.cache_name if tag is None else f"{self.cache_name}_{tag}"
        return [f"{stem}_{params_digest(self._cache_params(), self.cache_hash)}.pt"]

    def download(self) -> None:
        """Nothing to download: the data are generated in :meth:`process`."""

    def process(self) -> None:
        data_list = []
        for data in self._generate():
            if self.pre_filter is not None and not self.pre_filter(data):
                continue
            if self.pre_transform is not None:
                data = self.pre_transform(data)
            data_list.append(data)
        self.save(data_list, self.processed_paths[0])

    @classmethod
    def save(cls, data_list: Sequence[Data], path: str) -> None:
        """Like :meth:`InMemoryDataset.save`, but atomic (see :func:`atomic_save`)."""
        data, slices = cls.collate(data_list)
        atomic_save((data.to_dict(), slices, data.__class__), path)

    def _load_processed(self) -> None:
        path = self.processed_paths[0]
        try:
            self.load(path)
        except _NOT_DAMAGE:
            raise
        except _UNREADABLE as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            warnings.warn(
                f"the processed file {path} cannot be read ({type(exc).__name__}: {first}); "
                "it is damaged or was overwritten: regenerating it",
                stacklevel=4,
            )
            self.process()
            self.load(path)


class _HouseSplitDataset(_CachedDataset):
    """A :class:`_CachedDataset` of houses whose examples carry ``house`` ids, split by house
    (:func:`~gen_pyg.datasets._house_split.select_houses`): every house's examples are stored
    once, each split reads its houses' examples.

    Subclasses set ``self.num_houses`` (and their other parameters) before calling
    ``super().__init__``.
    """

    num_houses: int

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str,
        houses: Sequence[int] | None,
        num_test_houses: int | None,
        num_val_houses: int,
        split_seed: int,
        transform: Callable[[Data], Data] | None = None,
        pre_transform: Callable[[Data], Data] | None = None,
        pre_filter: Callable[[Data], bool] | None = None,
        log: bool = True,
        force_reload: bool = False,
    ) -> None:
        from gen_pyg.datasets._house_split import house_split_indices, select_houses

        #: The house indices of this split.
        self.houses = select_houses(
            self.num_houses, split, houses, num_test_houses, num_val_houses, split_seed
        )
        self.split = split
        super().__init__(root, transform, pre_transform, pre_filter, log, force_reload)
        self._indices = house_split_indices(
            getattr(self._data, "house", None), self.houses, self.num_houses
        )
