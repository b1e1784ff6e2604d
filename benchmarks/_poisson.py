"""Training and summarising helpers shared by the Poisson-square benchmarks (not part of the
package): ``poisson_square.py`` trains with them, ``node_optimization.py``,
``size_generalization.py``, ``time_to_accuracy.py`` and ``poisson_sphere.py`` reuse them."""

from __future__ import annotations

import itertools
import os
import statistics
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from _harness import summarise_mse
from gen_pyg.mesh import grid
from gen_pyg.mesh.batching import collate_group, group_examples, replicate_mesh
from gen_pyg.nn import SymmetryAverage
from gen_pyg.training import (
    DataConfig,
    ModelConfig,
    TrainConfig,
    Trainer,
    build_model,
    load_checkpoint,
)
from gen_pyg.training.experiment import training_loss

#: each run's test MSE with its predictions averaged over the square's 8 symmetries
SYMMETRIZED = "test_mse_symmetrized"

#: mean and (sample) std over seeds of the MSE and RMSE per mesh
summarise = summarise_mse


def _metadata(model_cfg: ModelConfig, data: DataConfig | None,
              run_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"model": asdict(model_cfg)}
    if data is not None:
        out["data"] = {**asdict(data),
                       "root": os.path.relpath(Path(data.root).resolve(), run_dir.resolve())}
    return out


def train_one(model_cfg: ModelConfig, train_cfg: TrainConfig, splits: dict[str, Any],
              meshes: dict[str, Any], run_dir: Path, seed: int,
              symmetrize: bool = False, data: DataConfig | None = None) -> dict[str, Any]:
    """Train one model with one seed; its test MSE per mesh and its training time (with
    :obj:`symmetrize`, also its test MSE averaged over the square's 8 symmetries). A run
    folder left by an earlier call resumes (a finished one only evaluates). With :obj:`data`
    (the data the splits came from) the run folder is an experiment's, which
    ``gen-pyg evaluate`` and :func:`gen_pyg.pretrained.export` read (the data root stored
    relative to the run folder)."""
    cfg = replace(train_cfg, seed=seed)
    torch.manual_seed(seed)
    model = build_model(model_cfg, "poisson_square")
    checkpoint = run_dir / "checkpoint.pt"
    resumed_at = int(load_checkpoint(checkpoint)["epoch"]) if checkpoint.exists() else 0
    trainer = Trainer(model, splits["train"], meshes=meshes, config=cfg, run_dir=run_dir,
                      metadata=_metadata(model_cfg, data, run_dir),
                      loss=training_loss(model_cfg))
    t0 = time.perf_counter()
    trainer.fit()
    wall = time.perf_counter() - t0
    out = {"seed": seed, "test_mse": trainer.evaluate(splits["test"]),
           "train_seconds": trainer.train_seconds, "resumed_at_epoch": resumed_at,
           "wall_seconds_this_call": wall, "final_train_mse": trainer.history[-1]["train_mse"]}
    if symmetrize:  # the same weights, each prediction averaged over the 8 symmetries
        t0 = time.perf_counter()
        out[SYMMETRIZED] = trainer.evaluate(splits["test"], model=SymmetryAverage(trainer.model))
        out["symmetrized_eval_seconds"] = time.perf_counter() - t0
    return out


def targets(gen: dict[str, dict[str, float]], np_mse: float,
             symmetrized: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """What the records judge on one recipe's means (``monotone`` is None when the recipe was
    trained on one mesh: nothing to compare); with :obj:`symmetrized` (the summary of the
    symmetry-averaged predictions) also its best RMSE. The keys are those of the committed
    records' ``targets``."""
    names = list(gen)
    means = [gen[n]["mse_mean"] for n in names]
    largest = names[-1]
    best = min(gen[n]["rmse_mean"] for n in names)
    out = {
        "monotone": (all(a > b for a, b in itertools.pairwise(means)) if len(means) > 1
                     else None),
        "largest_over_np": gen[largest]["mse_mean"] / np_mse,
        "largest_at_most_0.4_np": gen[largest]["mse_mean"] <= 0.4 * np_mse,
        "best_rmse": best,
        "best_rmse_at_most_0.08": best <= 0.08,
    }
    if symmetrized is not None:
        best_sym = min(v["rmse_mean"] for v in symmetrized.values())
        out["best_rmse_symmetrized"] = best_sym
        out["best_rmse_symmetrized_at_most_0.08"] = best_sym <= 0.08
    return out


def np_mean_mse(np_summary: dict[str, dict[str, float]]) -> float:
    """The Neural Process's test MSE (the same on every mesh: it has none)."""
    return statistics.fmean(v["mse_mean"] for v in np_summary.values())


def merge_records(parts: list[dict[str, Any]], command: str) -> dict[str, Any]:
    """One poisson_square record from records of the same run with different seeds: runs
    concatenated in seed order, summaries and targets recomputed (the header of the first)."""
    parts = sorted(parts, key=lambda r: r["seeds"][0])
    record = {**parts[0], "command": command, "seeds": [s for r in parts for s in r["seeds"]]}
    np_runs = [run for r in parts for run in r["neural_process"]["runs"]]
    np_summary = summarise(np_runs)
    np_mse = np_mean_mse(np_summary)
    record["neural_process"] = {**parts[0]["neural_process"], "runs": np_runs,
                                "summary": np_summary,
                                "summary_symmetrized": summarise(np_runs, SYMMETRIZED)}
    record["recipes"] = {}
    for name, first in parts[0]["recipes"].items():
        runs = [run for r in parts for run in r["recipes"][name]["runs"]]
        summary, sym = summarise(runs), summarise(runs, SYMMETRIZED)
        record["recipes"][name] = {**first, "runs": runs, "summary": summary,
                                   "summary_symmetrized": sym,
                                   "targets": targets(summary, np_mse, sym)}
    return record


def data_config(values: dict[str, Any], **override: Any) -> Any:
    """A :class:`~gen_pyg.training.DataConfig` from a record's data settings, also from the
    records written before tasks existed (``num_houses``, ``n``, ...: renamed here)."""
    from dataclasses import fields

    from gen_pyg.training import DataConfig

    v = dict(values)
    for old, new in (("num_houses", "num_instances"), ("num_test_houses", "num_test_instances"),
                     ("num_val_houses", "num_val_instances"), ("dataset", "task")):
        if old in v:
            v[new] = v.pop(old)
    if "n" in v:
        v["options"] = {**v.get("options", {}), "n": v.pop("n")}
    known = {f.name for f in fields(DataConfig)}
    return DataConfig(**{**{k: x for k, x in v.items() if k in known}, **override})


def model_config(values: dict[str, Any]) -> ModelConfig:
    """A :class:`~gen_pyg.training.ModelConfig` from a record's model settings (records from
    before InputOffset left the package hold ``offset_function: null``)."""
    v = dict(values)
    if v.pop("offset_function", None) is not None:
        raise ValueError("this record's model predicted relative to an input function "
                         "(InputOffset), which is no longer part of the package")
    return ModelConfig(**v)


def gen_timing(model: torch.nn.Module, test: Any, k: int, repeats: int,
               max_nodes: int | None = None, keep: bool = False) -> dict[str, Any]:
    """Seconds per scenario of batched inference, and the test MSE, on the k x k grid: the
    scenarios of a house in batches of 32, or of as many as keep a batch's mesh nodes within
    :obj:`max_nodes` (at least one scenario). With :obj:`keep`, also ``"predictions"``: every
    query's prediction, in the order of :obj:`test` (the same at every k)."""
    examples = [test[i] for i in range(len(test))]
    per_batch = 32 if max_nodes is None else max(1, min(32, max_nodes // (k * k)))
    groups = [collate_group([examples[i] for i in g], False)
              for g in group_examples(examples, "house", per_batch)]
    mesh = grid(k)
    model.eval()
    best = float("inf")
    sq, count = 0.0, 0
    with torch.inference_mode():
        for r in range(repeats):
            t0 = time.perf_counter()
            preds = [model(replicate_mesh(g, mesh)) for g in groups]
            best = min(best, time.perf_counter() - t0)
            if r == 0:
                for g, p in zip(groups, preds, strict=True):
                    sq += float(((p - g.y) ** 2).sum())
                    count += g.y.numel()
                kept = torch.cat([p.reshape(-1) for p in preds]) if keep else None
    out: dict[str, Any] = {"seconds_per_scenario": best / len(examples), "test_mse": sq / count,
                           "scenarios": len(examples), "batches": len(groups),
                           "scenarios_per_batch": per_batch}
    if keep:
        out["predictions"] = kept
    return out
