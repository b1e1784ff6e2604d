"""The ``scenes`` task (GEN paper §4.3, appendix A.5): choose the image a query camera pose
sees among the images of a batch, given 8 views of every maze of a supermaze.

The task (:data:`SCENES`), and what evaluating at other
supermaze sizes needs: :func:`scenes_test_split` (a :class:`~gen_pyg.datasets.Mazes` test split
of side :math:`m`), :func:`supermazes_per_batch` (the test batch composition: about the same
number of mazes at every :math:`m`), :func:`candidates_per_batch` (its chance level is one over
it) and :func:`evaluate_scenes` (:meth:`~gen_pyg.training.Trainer.evaluate_all` with that batch
composition).
"""

from __future__ import annotations

import copy
import math
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import torch
from torch_geometric.data import Data

from gen_pyg._validation import check_int
from gen_pyg.datasets import Mazes
from gen_pyg.nn import SceneRetrieval
from gen_pyg.training import DataConfig, ModelConfig, Task, Trainer

__all__ = ["SCENES", "candidates_per_batch", "evaluate_scenes", "fixed_k_accuracy",
           "scenes_test_split", "supermazes_per_batch"]

#: The scenes task's data options and their defaults: ``m`` the supermaze sides trained on
#: (supermaze :math:`i` has side ``m[i % len(m)]``), ``views`` the rendered views per maze,
#: ``draws`` the (context, query) draws of every training supermaze (the trainer collates its
#: examples once, so each draw is one training example), ``context`` and ``queries`` the views
#: and queries per maze.
OPTIONS: dict[str, Any] = {"m": [1, 2], "views": 32, "draws": 4, "context": 8, "queries": 1}
#: what each option sets
OPTION_HELP: dict[str, str] = {
    "m": "the supermaze sides trained on (1..5), one or a list: supermaze i has side "
         "m[i % len(m)]",
    "views": "views rendered per maze (the context and query views are drawn among them)",
    "draws": "(context, query) draws of every training supermaze, each one training example",
    "context": "context views per maze",
    "queries": "query views per maze"}
#: Mazes per test batch: a test batch of side-:math:`m` supermazes holds
#: :func:`supermazes_per_batch` of them.
TEST_MAZES_PER_BATCH = 16
#: ModelConfig fields the scenes model has no use for, which must keep their defaults.
_FIXED = ("aggr", "encoder_aggr", "relative_pos", "norm", "decoder_hidden_channels")


def _sizes(options: dict[str, Any]) -> list[int]:
    m = options["m"]
    sizes = [m] if isinstance(m, int) and not isinstance(m, bool) else m
    if (not isinstance(sizes, list) or not sizes
            or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 5
                   for v in sizes)):
        raise ValueError(f"options['m'] must be a supermaze side in 1..5 or a list of them, "
                         f"got {m!r}")
    return sizes


def check_options(options: dict[str, Any]) -> None:
    """Raise a :class:`ValueError` naming an option of the scenes task whose value does not
    fit (the value shown as given)."""
    _sizes(options)
    for key, minimum in (("views", 2), ("draws", 1), ("context", 1), ("queries", 1)):
        check_int(options[key], f"options[{key!r}]", minimum)
    if options["context"] + options["queries"] > options["views"]:
        raise ValueError(f"options['context'] + options['queries'] ({options['context']} + "
                         f"{options['queries']}) must be at most options['views'] "
                         f"({options['views']}): they are drawn among the views of a maze")


def _mazes(cfg: DataConfig, split: str, m: int | list[int], num: int, log: bool) -> Mazes:
    o = cfg.options
    return Mazes(str(cfg.root), split, m=m, num_mazes=num, views_per_maze=o["views"],
                 num_context=o["context"], num_queries=o["queries"], seed=cfg.seed, log=log)


class _Draws(Sequence[Data]):
    """``draws`` passes over a training :class:`~gen_pyg.datasets.Mazes` split (which draws new
    views at every access), in the split's order: consecutive chunks never hold one supermaze
    twice while the split has at least a chunk's worth of supermazes."""

    def __init__(self, dataset: Mazes, draws: int) -> None:
        self.dataset, self.draws = dataset, draws

    def __len__(self) -> int:
        return self.draws * len(self.dataset)

    def __getitem__(self, idx: int) -> Data:  # type: ignore[override]
        if not 0 <= idx < len(self):
            raise IndexError(f"index {idx} out of range for {len(self)} examples")
        return self.dataset[idx % len(self.dataset)]


def scenes_splits(cfg: DataConfig, log: bool) -> dict[str, Any]:
    """``train`` (``draws`` draws of every training supermaze), ``test`` (and ``val``) at the
    trained sides ``options["m"]``."""
    sizes = _sizes(cfg.options)
    draws = check_int(cfg.options["draws"], "options['draws']", 1)
    assert cfg.num_instances is not None and cfg.num_test_instances is not None
    num_train = cfg.num_instances - cfg.num_test_instances - cfg.num_val_instances
    out: dict[str, Any] = {
        "train": _Draws(_mazes(cfg, "train", sizes, num_train, log), draws),
        "test": _mazes(cfg, "test", sizes, cfg.num_test_instances, log)}
    if cfg.num_val_instances:
        out["val"] = _mazes(cfg, "val", sizes, cfg.num_val_instances, log)
    return out


def scenes_test_split(cfg: DataConfig, m: int, num_mazes: int | None = None,
                      log: bool = False) -> Mazes:
    """The test split of side-:obj:`m` supermazes of :obj:`cfg`'s data (generated once into its
    root; :obj:`num_mazes` defaults to ``cfg.num_test_instances``)."""
    _sizes({"m": m})
    num = cfg.num_test_instances if num_mazes is None else num_mazes
    assert num is not None
    return _mazes(cfg, "test", m, num, log)


def supermazes_per_batch(m: int, mazes: int = TEST_MAZES_PER_BATCH) -> int:
    """Side-:obj:`m` supermazes in a test batch: :math:`\\lceil \\mathrm{mazes} / m^2 \\rceil`,
    so that every :math:`m` is tested among about as many candidates."""
    _sizes({"m": m})
    return max(1, math.ceil(mazes / (m * m)))


def candidates_per_batch(m: int, supermazes: int, context: int = 8, queries: int = 1) -> int:
    """Candidates :math:`K` of a batch of :obj:`supermazes` side-:obj:`m` supermazes: every query
    and context image of its :math:`m^2` mazes each (chance is :math:`1/K`).

    Example:
        >>> candidates_per_batch(1, 16), candidates_per_batch(5, 1)
        (144, 225)
    """
    return supermazes * m * m * (context + queries)


@contextmanager
def _group_size(trainer: Trainer, size: int) -> Iterator[None]:
    saved = trainer.config
    trainer.config = replace(saved, group_size=size)
    try:
        yield
    finally:
        trainer.config = saved


def evaluate_scenes(trainer: Trainer, dataset: Sequence[Data], supermazes: int
                    ) -> dict[str, float]:
    """Every metric of :obj:`trainer` on :obj:`dataset` in batches of :obj:`supermazes`
    consecutive examples (the candidates of a query are the images of its batch)."""
    check_int(supermazes, "supermazes", 1)
    with _group_size(trainer, supermazes):
        values: dict[str, float] = trainer.evaluate_all(dataset)["own mesh"]
    return values


#: the candidate sets of :func:`fixed_k_accuracy`
CANDIDATE_SETS = ("sample", "maze", "supermaze")


def fixed_k_accuracy(model: torch.nn.Module, dataset: Mazes, candidates: str = "sample",
                     k: int = 32, seed: int = 0, contexts: str = "own") -> dict[str, Any]:
    """Retrieval accuracy of a :class:`~gen_pyg.nn.SceneRetrieval` on :obj:`dataset` with the
    candidates of every query drawn from its own supermaze's rendered views (the context and
    the query views among them), so that the task does not change with the batch:

    - ``candidates="sample"``: the true view and :math:`k - 1` others drawn at random among
      the supermaze's views (seeded by :obj:`seed` and the supermaze), the same :math:`K = k`
      at every side (on a 1x1 supermaze of 32 views, :math:`k = 32` is all of them);
    - ``candidates="maze"``: the ``views_per_maze`` views of the query's own maze, the same
      :math:`K` at every side, every distractor from the query's maze;
    - ``candidates="supermaze"``: every view of the supermaze, :math:`K = m^2 V`.

    ``contexts="other"`` is a control: every supermaze is given the context views (images and
    poses) of the next supermaze of :obj:`dataset` (the first's for the last), moved by the
    difference of their offsets so that they lie on its mesh, while its queries and
    candidates stay its own. A model that reads its context falls towards chance; one whose
    accuracy holds answers from the query pose alone. All supermazes must then have one side.

    Returns ``{"accuracy": mean over supermazes of their share of correct queries,
    "stderr": its standard error over the supermazes, "per_supermaze": [...],
    "candidates": K (the largest, for "supermaze"), "queries": all queries}``.
    """
    if candidates not in CANDIDATE_SETS:
        raise ValueError(f"candidates must be one of {CANDIDATE_SETS}, got {candidates!r}")
    if not isinstance(dataset, Mazes):
        raise TypeError(f"dataset must be a Mazes dataset (its stored views are the "
                        f"candidates), got {type(dataset).__name__}")
    if len(dataset) < 1:
        raise ValueError("dataset holds no supermaze")
    check_int(k, "k", 2)
    if contexts not in ("own", "other"):
        raise ValueError(f"contexts must be 'own' or 'other', got {contexts!r}")
    if contexts == "other" and len(dataset) < 2:
        raise ValueError("contexts='other' needs at least 2 supermazes in dataset")
    from gen_pyg.mesh.batching import collate_group

    param = next(model.parameters())
    was_training = model.training
    model.eval()
    shares, queries, largest = [], 0, 0
    try:
        with torch.inference_mode():
            for i in range(len(dataset)):
                example, bank = dataset[i], dataset.get_bank(i)
                if contexts == "other":
                    example = _with_contexts_of(example, dataset[(i + 1) % len(dataset)])
                batch = collate_group([example], True).to(param.device)
                emb = model.embed_queries(batch)  # type: ignore[operator]
                keys = model.candidate_encoder(bank.view_img.to(param.device))  # type: ignore[operator]
                # each query is one of the stored views: find it by its pose (copied exactly)
                same = (example.query_pose.unsqueeze(1) == bank.view_pose.unsqueeze(0)).all(-1)
                true = same.float().argmax(1)
                if not bool(same.any(1).all()):
                    raise ValueError(f"supermaze {i}: a query pose is not among its views")
                dist = torch.cdist(emb.double(), keys.double(),
                                   compute_mode="donot_use_mm_for_euclid_dist").cpu()
                views = bank.view_maze.numel()
                if candidates == "sample":
                    if k > views:
                        raise ValueError(f"k ({k}) exceeds the {views} views of supermaze {i}")
                    gen = torch.Generator().manual_seed(seed * 1_000_003 + i)
                    allowed = torch.zeros(dist.shape, dtype=torch.bool)
                    for q in range(dist.size(0)):
                        others = torch.randperm(views - 1, generator=gen)[:k - 1]
                        others = others + (others >= true[q]).long()  # skip the true view
                        allowed[q, others] = True
                        allowed[q, true[q]] = True
                    dist = dist.masked_fill(~allowed, float("inf"))
                    largest = k
                elif candidates == "maze":
                    allowed = example.query_maze.view(-1, 1) == bank.view_maze.view(1, -1)
                    dist = dist.masked_fill(~allowed, float("inf"))
                    largest = max(largest, int(allowed.sum(1).max()))
                else:
                    largest = max(largest, views)
                correct = dist.argmin(1) == true
                shares.append(float(correct.float().mean()))
                queries += int(correct.numel())
    finally:
        model.train(was_training)
    mean = statistics.fmean(shares)
    spread = statistics.stdev(shares) if len(shares) > 1 else 0.0
    return {"accuracy": mean, "stderr": spread / math.sqrt(len(shares)), "candidates": largest,
            "supermazes": len(shares), "queries": queries, "per_supermaze": shares}


def _with_contexts_of(example: Data, donor: Data) -> Data:
    """:obj:`example` with :obj:`donor`'s context views, moved onto its supermaze."""
    if int(example.m) != int(donor.m):
        raise ValueError(f"contexts='other' needs supermazes of one side, got sides "
                         f"{int(example.m)} and {int(donor.m)}")
    out = copy.copy(example)
    shift = (example.offset - donor.offset).view(1, 2)
    out.input_img, out.input_maze = donor.input_img, donor.input_maze
    out.input_pos = donor.input_pos + shift
    pose = donor.input_pose.clone()
    pose[:, :2] += shift
    out.input_pose = pose
    return out


def evaluate_by_side(trainer: Trainer, dataset: Sequence[Data]) -> dict[int, dict[str, Any]]:
    """Every metric of :obj:`trainer` on the side-:math:`m` supermazes of :obj:`dataset`, for
    each side it holds, in test batches of :func:`supermazes_per_batch` supermazes
    (:func:`evaluate_scenes`): ``{m: {"nodes": mesh nodes of one supermaze, "steps":
    message-passing rounds (0 for the neural process), "supermazes": how many, "metrics":
    {...}}}``."""
    sides: dict[int, list[Data]] = {}
    for i in range(len(dataset)):
        example = dataset[i]
        sides.setdefault(int(example.m), []).append(example)
    core: Any = getattr(trainer.model, "core", None)
    out = {}
    for m, examples in sorted(sides.items()):
        first = examples[0]
        steps = int(core.steps_for(first)) if hasattr(core, "steps_for") else 0
        out[m] = {"nodes": int(first.num_nodes), "steps": steps, "supermazes": len(examples),
                  "metrics": evaluate_scenes(trainer, examples, supermazes_per_batch(m))}
    return out


def scenes_model(cfg: ModelConfig) -> torch.nn.Module:
    """:class:`~gen_pyg.nn.SceneRetrieval` of :obj:`cfg`: latent and embedding size
    ``latent_channels``, CNN width ``encoder_hidden_channels``, ``num_steps`` rounds (:obj:`None`:
    the mesh diameter) and the GEN's representation; the neural process for
    ``kind="neural_process"``."""
    default = ModelConfig(kind=cfg.kind)
    for name in _FIXED:
        if getattr(cfg, name) != getattr(default, name):
            raise ValueError(f"{name}={getattr(cfg, name)!r} does not apply to the scenes model "
                             f"(it keeps {getattr(default, name)!r})")
    kwargs: dict[str, Any] = {}
    if cfg.kind == "gen":
        kwargs["representation"] = cfg.build_representation()
    return SceneRetrieval("gen" if cfg.kind == "gen" else "np",
                          latent_channels=cfg.latent_channels,
                          embed_channels=cfg.latent_channels,
                          cnn_channels=cfg.encoder_hidden_channels, num_steps=cfg.num_steps,
                          **kwargs)


def _rows(trainer: Trainer, dataset: Sequence[Data]) -> list[dict[str, Any]]:
    """The test table: one row per supermaze side, each with its own meshes."""
    return [{"mesh": f"{m}x{m} mazes", "nodes": side["nodes"], "steps": side["steps"],
             "supermazes": side["supermazes"],
             **{f"test_{k}": v for k, v in side["metrics"].items()}}
            for m, side in evaluate_by_side(trainer, dataset).items()]


#: Scene retrieval among candidates in supermazes of side 1..5, the examples carrying their
#: own meshes, plain mini-batches.
SCENES = Task(
    "scenes", "choose the image a camera pose sees in 3-D supermazes (the paper's section 4.3)",
    scenes_splits, scenes_model, lambda cfg: None, loss="retrieval_cross_entropy",
    metrics=("retrieval_accuracy", "retrieval_cross_entropy"), group_by=None,
    instance="supermaze", num_instances=1000, num_test_instances=100,
    options=dict(OPTIONS), option_help=dict(OPTION_HELP), check_options=check_options,
    representations=("bilinear", "soft_nearest"), evaluate=_rows)
