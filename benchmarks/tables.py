"""Write the documentation's result tables from the benchmark JSON records, so that no number
in ``docs/benchmarks.rst`` is typed by hand::

    python benchmarks/tables.py            # writes docs/tables/*.rst
    python benchmarks/tables.py --check    # exit 1 if the committed tables are stale

``tests/test_benchmarks.py`` runs the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
DOCS = HERE.parent / "docs" / "tables"


def _houses(record: dict[str, Any]) -> int:
    """Instances (houses) of a record's data, in either spelling (``num_houses`` before tasks)."""
    data = record["data"]
    return int(data.get("num_instances", data.get("num_houses")))


def _test_houses(record: dict[str, Any]) -> int:
    data = record["data"]
    return int(data.get("num_test_instances", data.get("num_test_houses")))


def _table(header: list[str], rows: list[list[str]]) -> str:
    """An RST simple table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
             rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return "\n".join([*lines, rule]) + "\n"


def _pm(v: dict[str, float], key: str) -> str:
    return f"{v[f'{key}_mean']:.4f} ± {v[f'{key}_std']:.4f}"


def poisson_square(record: dict[str, Any]) -> str:
    """Per-mesh test MSE (mean ± std over seeds) of every recipe and the Neural Process, and
    what each recipe's means show."""
    seeds = len(record["seeds"])
    np_summary = record["neural_process"]["summary"]
    np_cell = _pm(next(iter(np_summary.values())), "mse")
    recipes = record["recipes"]
    np_seconds = sum(r["train_seconds"] for r in record["neural_process"]["runs"]) / seeds
    meshes = list(next(iter(recipes.values()))["summary"])
    resumed = [r for rec in recipes.values() for r in rec["runs"]
               if r.get("resumed_at_epoch", 0) >= rec["train"]["epochs"]]
    out = [
        f"Reproduce with ``{record['command']}`` (commit ``{(record['git_commit'] or '?')[:10]}``;"
        f" {_houses(record)} houses, {record['train_scenarios']} training and "
        f"{record['test_scenarios']} test scenarios; {seeds} seed(s); "
        f"{record['machine']['cpu_count']} cores, torch {record['machine']['torch']}, "
        f"1-minute load {record['load_average_at_start']:.1f} at start)."
        + (f" The seeds trained in {par['jobs']} processes at once, one thread each, on the "
           f"same cores: their training times are not comparable with those of runs made one "
           f"after the other ({'this call' if resumed else 'all seeds'} took "
           f"{par['wall_seconds_all_seeds'] / 60:.0f} min)."
           if (par := record.get("parallel")) else ""),
        "",
        "Test MSE, mean ± std over seeds:",
        "",
        _table(["recipe", *meshes, "train s / seed"],
               [[name, *(_pm(rec["summary"][m], "mse") for m in meshes),
                 f"{sum(r['train_seconds'] for r in rec['runs']) / len(rec['runs']):.0f}"]
                for name, rec in recipes.items()]
               + [["Neural Process", *([np_cell] * len(meshes)), f"{np_seconds:.0f}"]]),
    ]
    symmetrized = all("summary_symmetrized" in rec for rec in recipes.values())
    if symmetrized:
        np_sym = _pm(next(iter(record["neural_process"]["summary_symmetrized"].values())),
                     "mse")
        evals = [r.get("symmetrized_eval_seconds", 0.0) for rec in recipes.values()
                 for r in rec["runs"]]
        out += [
            "The same weights with each prediction averaged over the square's 8 rotations and "
            "reflections (:class:`~gen_pyg.nn.SymmetryAverage`, 8 forward passes; "
            f"{max(evals):.0f} s at most per seed to evaluate every mesh), test MSE:",
            "",
            _table(["recipe", *meshes],
                   [[name, *(_pm(rec["summary_symmetrized"][m], "mse") for m in meshes)]
                    for name, rec in recipes.items()]
                   + [["Neural Process", *([np_sym] * len(meshes))]]),
        ]
    if resumed:
        out += [f"{len(resumed)} of the runs above resumed finished run folders of an earlier "
                "call of the same command (their training seconds are those stored in the "
                "checkpoints; this call only evaluated them).", ""]
    out += [
        "Per recipe: whether the error falls with every finer mesh, the finest mesh's error "
        "relative to the Neural Process's, and the best RMSE over the meshes:",
        "",
        _table(["recipe", "falls with k", f"{meshes[-1]} / NP", "best RMSE",
                *(["best RMSE, 8 symmetries averaged"] if symmetrized else [])],
               [[name, {True: "yes", False: "no", None: "n/a (one mesh)"}[t["monotone"]],
                 f"{t['largest_over_np']:.2f}", f"{t['best_rmse']:.3f}",
                 *([f"{t['best_rmse_symmetrized']:.3f}"] if symmetrized else [])]
                for name, rec in recipes.items() for t in [rec["targets"]]]),
        "Recipes:",
        "",
        _table(["recipe", "what it is"], [[n, r["what"]] for n, r in recipes.items()]),
    ]
    return "\n".join(out)


def node_optimization(record: dict[str, Any]) -> str:
    """Held-out MSE of fixed grids and fitted positions per node count."""
    seeds = len(record["seeds"])
    p = record["protocol"]
    out = [
        f"Reproduce with ``{record['command']}`` (commit ``{(record['git_commit'] or '?')[:10]}``;"
        f" {_houses(record)} houses, {_test_houses(record)} of them "
        f"unseen; {seeds} seed(s) of the weights, {record['epochs']} epochs; positions fitted "
        f"on {p['fit_scenarios']} scenarios per house, {p['steps']} Adam steps at lr "
        f"{p['lr']:g}; {record['machine']['cpu_count']} cores, torch "
        f"{record['machine']['torch']}, 1-minute load {record['load_average_at_start']:.1f} at "
        "start).",
        "",
        "Test MSE on each house's held-out scenarios, mean ± std over seeds:",
        "",
        _table(["mesh", "nodes", "fixed grid", "fitted positions", "lower by",
                "house fits improved"],
               [[f"{k}x{k}", str(s["nodes"]), _pm(s, "before"), _pm(s, "after"),
                 f"{100 * s['reduction_mean']:.1f} ± {100 * s['reduction_std']:.1f} %",
                 f"{s['houses_improved']} / {s['houses']}"]
                for k, s in record["summary"].items()]),
    ]
    return "\n".join(out)


def aggregation(record: dict[str, Any]) -> str:
    """Forward and forward + backward time of every aggregation implementation per size."""
    ops = list(dict.fromkeys(op for row in record["rows"] for op in row["ops"]))

    def cell(v: dict[str, Any] | None) -> str:
        if v is None:
            return "-"
        if "error" in v:
            return "fails (out of memory)" if "allocate" in v["error"] else "fails"
        return f"{v['forward_ms']:.2f} / {v['forward_backward_ms']:.2f}"

    out = [
        f"Reproduce with ``{record['command']}`` ({record['channels']} channels, median of "
        f"{record['repeats']} calls, best of {record['rounds']} interleaved rounds; "
        f"{record['machine']['cpu_count']} cores, torch {record['machine']['torch']}, "
        f"torch_scatter {record['torch_scatter']}, 1-minute load "
        f"{record['load_average_at_start']:.1f} at start). Milliseconds, forward / forward + "
        "backward:",
        "",
        _table(["aggregation", "nodes", "pairs", *ops, "fastest"],
               [[row["what"], str(row["nodes"]), str(row["pairs"]),
                 *(cell(row["ops"].get(op)) for op in ops), row["fastest_forward_backward"]]
                for row in record["rows"]]),
    ]
    return "\n".join(out)


def poisson_sphere(record: dict[str, Any]) -> str:
    """Test MSE per sphere mesh (mean ± std over seeds) of GEN and the Neural Process."""
    seeds = len(record["seeds"])
    gen = record["gen"]["summary"]
    np_cell = _pm(record["neural_process"]["summary"]["no mesh"], "mse")
    train_s = {kind: sum(r["train_seconds"] for r in record[kind]["runs"]) / seeds
               for kind in ("gen", "neural_process")}
    out = [
        f"Reproduce with ``{record['command']}`` (commit ``{(record['git_commit'] or '?')[:10]}``;"
        f" {_houses(record)} houses, {record['data']['train_scenarios']} training "
        f"and {record['data']['test_scenarios']} test scenarios; {seeds} seed(s), "
        f"{record['train']['epochs']} epochs; {record['machine']['cpu_count']} cores, torch "
        f"{record['machine']['torch']}, 1-minute load {record['load_average_at_start']:.1f} at "
        f"start; training {train_s['gen']:.0f} s per GEN seed, {train_s['neural_process']:.0f} s "
        "per Neural Process seed).",
        "",
        "Test MSE, mean ± std over seeds (GEN trained on the latitude-longitude meshes "
        f"{', '.join(str(k) for k in record.get('orders', [2, 3, 4, 5, 6, 7]))} only"
        + (f"; a row 'icosphere L, {record['max_rounds']} rounds' is that mesh run with "
           f"{record['max_rounds']} rounds instead of its diameter"
           if record.get("max_rounds") else "") + "):",
        "",
        _table(["mesh", "nodes", "GEN", "Neural Process"],
               [[name, str(record["mesh_nodes"][name]), _pm(v, "mse"), np_cell]
                for name, v in gen.items()]),
    ]
    return "\n".join(out)


#: generated file -> (JSON record, renderer)
def time_to_accuracy(record: dict[str, Any]) -> str:
    """Seconds each model needs to reach the baseline's final 7x7 test MSE, and the ratio."""
    base = record["baseline"]
    t_base = record["baseline_seconds_to_target"]
    rows = [["authors-style GEN", f"{base['epochs']} epochs, {base['steps']} steps",
             f"{base['seconds']:.0f}", f"{base['final_test_mse']:.4f}", f"{t_base:.0f}", "1"]]
    for name, run in record["package"].items():
        t = run["seconds_to_target"]
        rows.append([f"gen_pyg ``{name}``", f"{run['train']['epochs']} epochs, "
                     f"{run['steps']} steps", f"{run['seconds']:.0f}",
                     f"{run['final_test_mse']:.4f}", "never" if t is None else f"{t:.0f}",
                     "-" if run["time_ratio"] is None else f"{run['time_ratio']:.3f}"])
    ratio = record["time_ratio"]
    out = [
        f"Reproduce with ``{record['command']}`` (commit ``{(record['git_commit'] or '?')[:10]}``;"
        f" {_houses(record)} houses, {_test_houses(record)} of them "
        f"for testing; {record['machine']['cpu_count']} cores, torch "
        f"{record['machine']['torch']}, 1-minute load {record['load_average_at_start']:.1f} at "
        f"start). Data generation, shared by both, took {record['data_seconds']:.1f} s and is "
        "not in the times below, which are training wall times with the evaluations taken "
        "out.",
        "",
        _table(["model", "budget", "seconds", "final 7x7 MSE",
                f"seconds to {record['target_mse']:.4f}", "time ratio"], rows),
        "No recipe reached the baseline's final error." if ratio is None else
        f"Best time ratio: {ratio:.3f} ({record['fastest_recipe']}).",
    ]
    return "\n".join(out)


def size_generalization(record: dict[str, Any]) -> str:
    """Test MSE (mean ± std over seeds) on the largest trained mesh and every bigger one, per
    trained model, plain and (when recorded) averaged over the square's 8 symmetries."""
    rows, header = [], None
    for row in record["rows"]:
        largest = row["trained_on"][-1]
        names = list(row["summary"])
        shown = names[names.index(largest):] if largest in names else names
        header = header or shown
        # an override of the evaluation, else the model's own fixed rounds, else the diameter
        fixed = row.get("num_steps") or row.get("model", {}).get("num_steps")
        steps = "diameter" if fixed is None else str(fixed)
        jitter = (f", on grids jittered by {row['test_jitter']} ({row['jitter_draws']} draws)"
                  if "summary_jittered" in row else "")
        for label, key in (("", "summary"), (", 8 symmetries averaged", "summary_symmetrized"),
                           (jitter, "summary_jittered")):
            if key in row:
                rows.append([f"{row['recipe']}{label}", row["record"].removesuffix(".json"),
                             steps, *(_pm(row[key][m], "mse") if m in row[key] else "–"
                                      for m in header)])
    commit = record.get("git_commit")
    return "\n".join([
        f"Reproduce with ``{record['command'].strip()}``"
        + (f" (commit ``{commit[:10]}``)" if commit else "") + "; trained on meshes up to "
        f"{record['rows'][0]['trained_on'][-1]}, seeds as in the training record. Test MSE, "
        "mean ± std over seeds:",
        "",
        _table(["model", "trained in", "rounds", *(header or [])], rows),
    ])


TABLES = {
    "poisson_square.rst": ("poisson_square.json", poisson_square),
    "poisson_square_recipes.rst": ("poisson_square_recipes.json", poisson_square),
    "poisson_square_recipes_offset.rst": ("poisson_square_recipes_offset.json", poisson_square),
    "poisson_square_recipes_mean.rst": ("poisson_square_recipes_mean.json", poisson_square),
    "poisson_square_relative.rst": ("poisson_square_relative.json", poisson_square),
    "poisson_square_relative_xlong.rst": ("poisson_square_relative_xlong.json", poisson_square),
    "poisson_square_relative_7x7.rst": ("poisson_square_relative_7x7.json", poisson_square),
    "poisson_square_relative_10x10.rst": ("poisson_square_relative_10x10.json", poisson_square),
    "poisson_square_mean.rst": ("poisson_square_mean.json", poisson_square),
    "size_screen.rst": ("size_screen.json", poisson_square),
    "size_screen_ml_rounds.rst": ("size_screen_ml_rounds.json", poisson_square),
    **{f"{name}.rst": (f"{name}.json", poisson_square) for name in (
        "size_screen2", "size_screen3", "size_screen4", "size_screen5", "size_screen6",
        "size_ml_full", "size_screen7", "size_screen8", "size_screen9", "size_screen10",
        "size_screen11", "size_screen12", "size_kernel_full", "size_stencil",
        "size_stencil_jitter", "size_stencil_jitter456", "size_stencil_fine",
        "size_stencil_fine_latent64", "size_stencil_fine_jitter20",
        "size_stencil_fine_jitter80")},
    "node_optimization.rst": ("node_optimization.json", node_optimization),
    "aggregation.rst": ("aggregation.json", aggregation),
    "poisson_sphere.rst": ("poisson_sphere.json", poisson_sphere),
    "time_to_accuracy.rst": ("time_to_accuracy.json", time_to_accuracy),
    "poisson_sphere_recall.rst": ("poisson_sphere_recall.json", poisson_sphere),
    "poisson_sphere_orders10.rst": ("poisson_sphere_orders10.json", poisson_sphere),
    "poisson_sphere_orders16.rst": ("poisson_sphere_orders16.json", poisson_sphere),
    "poisson_sphere_nearest4.rst": ("poisson_sphere_nearest4.json", poisson_sphere),
    "poisson_sphere_kernel_radius.rst": ("poisson_sphere_kernel_radius.json", poisson_sphere),
    "poisson_sphere_orders567.rst": ("poisson_sphere_orders567.json", poisson_sphere),
    **{f"{name}.rst": (f"{name}.json", size_generalization) for name in (
        "size_generalization", "size_generalization_mean", "size_generalization_relative",
        "size_generalization_relative_mean", "size_generalization_fixed_steps",
        "size_generalization_mean_paper", "size_generalization_rounds",
        "size_generalization_ml_rounds", "size_generalization_variants",
        "size_generalization_ml_full", "size_generalization_supervised",
        "size_generalization_supervised_fine", "size_generalization_kernel_radius",
        "size_generalization_kernel_radius2", "size_generalization_kernel_all",
        "size_generalization_kernel_all_wide", "size_generalization_kernel_full",
        "size_generalization_kernel_full_sym", "size_generalization_stencil",
        "sg_jit_screen", "sg_jit456_screen", "size_generalization_stencil_fine",
        "size_generalization_stencil_fine_jitter80")},
}


# --------------------------------------------------------------------------------------------
# The results page: one table per experiment of the paper, the first thing docs/benchmarks.rst
# shows. A table's rows are data (RESULTS below): each names the record it reads and what to
# read there, beside the paper's number or, where the paper gives only a plot, its words. A
# row whose record is not committed says "not yet measured"; every table names the commands
# that wrote its records.
# --------------------------------------------------------------------------------------------
NOT_YET = "not yet measured"
#: experiment -> the command that measures it (shown while no record of the table exists)
COMMANDS = {
    "poisson_square": "python benchmarks/poisson_square.py --recipes bilinear_relative_long",
    "poisson_sphere": "python benchmarks/poisson_sphere.py",
    "node_optimization": "python benchmarks/node_optimization.py",
    "size_generalization": "python benchmarks/size_generalization.py",
    "pushing": "python benchmarks/pushing.py --grids 2 --val-objects 25 --patience 8 "
               "--epochs 300 --schedule plateau --name pushing_plateau",
    "scenes": "python benchmarks/scenes.py --name scenes_plateau --val-supermazes 200 "
              "--patience 8 --epochs 40 --schedule plateau",
    "speed": "python benchmarks/solver_speed.py",
}
#: the most rows a results-page table shows
MAX_ROWS = 5


@dataclass(frozen=True)
class Row:
    """One row of a results-page table: gen_pyg's numbers for one model, read from
    ``benchmarks/results/RECORD.json`` (:obj:`record`; ``None``: not reproduced), what
    :obj:`pick` names in it (a recipe, ``"neural_process"``, a summary key...; each
    experiment's reader says), beside :obj:`paper`, the paper's number or words.
    :obj:`symmetrized`: the errors averaged over the square's 8 symmetries."""

    label: str
    record: str | None
    pick: str
    paper: str = "–"
    symmetrized: bool = False


#: experiment -> its table's rows, in order (at most MAX_ROWS). To show another model, add
#: one Row naming its committed record and what to read there; the table, its commands and
#: the stale-table check follow.
RESULTS: dict[str, list[Row]] = {
    "poisson_square": [
        Row("Neural Process", "poisson_square_relative_xlong", "neural_process",
            "plot only: above the GEN from 4x4"),
        Row("GEN, bilinear, 80 epochs", "poisson_square", "bilinear_long",
            "plot only: falls with every finer mesh"),
        Row("GEN, bilinear + relative positions, 120 epochs (best single pass)",
            "poisson_square_relative_xlong", "bilinear_relative_xlong", "plot only"),
        Row("GEN, bilinear + relative positions, 80 epochs, 8 symmetries averaged",
            "poisson_square_relative", "bilinear_relative_long", "plot only",
            symmetrized=True),
    ],
    "poisson_sphere": [
        Row("Neural Process", "poisson_sphere_kernel_radius", "neural_process",
            "plot only: above the GEN from order 4"),
        Row("GEN, as in the paper", "poisson_sphere", "gen",
            "plot only: falls with the order"),
        Row("GEN, as in the paper, trained on orders 5..7", "poisson_sphere_orders567", "gen"),
        Row("mesh-independent GEN (kernel encoder, radius processor)",
            "poisson_sphere_kernel_radius", "gen"),
    ],
    "node_optimization": [
        Row("3x3 mesh (9 nodes)", "node_optimization", "3", "plot only"),
        Row("4x4 mesh (16 nodes)", "node_optimization", "4", "plot only"),
        Row("5x5 mesh (25 nodes)", "node_optimization", "5", "plot only"),
    ],
    "size_generalization": [
        Row("Neural Process", "size_kernel_full", "neural_process", "–"),
        Row("GEN, bilinear + relative positions (the paper's GEN)",
            "size_generalization_relative", "bilinear_relative_long",
            "plot only: error grows beyond the trained meshes"),
        Row("mesh-independent GEN (kernels, radius processor)",
            "size_generalization_kernel_full", "bilinear_relative_kernel_all"),
        Row("mesh-independent GEN, 8 symmetries averaged",
            "size_generalization_kernel_full_sym", "bilinear_relative_kernel_all",
            symmetrized=True),
        Row("mesh-independent GEN, stencil processor (linear cost; 40 epochs)",
            "size_generalization_stencil_fine", "bilinear_relative_kernel_stencil"),
    ],
    "pushing": [
        Row("GEN (2x2 grid), trained to its plateau", "pushing_plateau", "gen",
            "0.045 ± 0.002 (0.58 of the NP)"),
        Row("Neural Process, trained to its plateau", "pushing_plateau", "neural_process",
            "0.078 ± 0.006"),
        Row("GEN at equal steps: both at the GEN's best epoch (10 test objects)",
            "pushing_plateau", "equal_steps:gen"),
        Row("GEN (3x3 grid), 6 epochs each", "pushing_grids", "gen_3x3",
            "no significant gain (no number)"),
        Row("modular meta-learning", None, "", "0.062"),
    ],
    "scenes": [
        Row("GEN, among all the supermaze's views (K = 32 m²)", "scenes_plateau",
            "gen:supermaze", "plot only: about constant as mazes grow"),
        Row("Neural Process, among all the supermaze's views", "scenes_plateau",
            "neural_process:supermaze", "plot only: falls as mazes grow"),
        Row("GEN, among the 32 views of the query's maze (K = 32)", "scenes_plateau",
            "gen:maze"),
        Row("Neural Process, among the 32 views of the query's maze", "scenes_plateau",
            "neural_process:maze"),
        Row("Neural Process, the same, given another supermaze's context views (control)",
            "scenes_plateau", "neural_process:maze_other_contexts"),
    ],
    "speed": [
        Row("reference solver (finite differences, n = 250)", "solver_speed", "solver",
            "FEniCS finite elements, 250x250"),
        Row("GEN 7x7, bilinear", "solver_speed", "gen", "more than 250x faster than its solver"),
        Row("Neural Process", "mesh_choice_stencil_fine", "neural_process"),
        Row("mesh-independent GEN (stencil processor, shipped), 20x20",
            "mesh_choice_stencil_fine", "bilinear_relative_kernel_stencil_jitter:20x20"),
        Row("mesh-independent GEN (stencil processor, shipped), 80x80",
            "mesh_choice_stencil_fine", "bilinear_relative_kernel_stencil_jitter:80x80"),
    ],
}


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _mesh_cells(summary: dict[str, dict[str, float]], meshes: list[str]) -> list[str]:
    return [_pm(summary[m], "mse") if m in summary else "–" for m in meshes]


def _np_cells(summary: dict[str, dict[str, float]], n: int) -> list[str]:
    """The Neural Process's error (it sees no mesh: one value) in each of :obj:`n` columns."""
    return [_pm(next(iter(summary.values())), "mse")] * n


SQUARE_MESHES = ["2x2", "4x4", "7x7"]


def _square(row: Row, rec: dict[str, Any]) -> list[str]:
    key = "summary_symmetrized" if row.symmetrized else "summary"
    if row.pick == "neural_process":
        return _np_cells(rec["neural_process"][key], len(SQUARE_MESHES))
    return _mesh_cells(rec["recipes"][row.pick][key], SQUARE_MESHES)


SPHERE_MESHES = ["latlong 7", "icosphere 1", "icosphere 2", "icosphere 3"]


def _sphere(row: Row, rec: dict[str, Any]) -> list[str]:
    if row.pick == "neural_process":
        return ["–", *_np_cells(rec["neural_process"]["summary"], len(SPHERE_MESHES))]
    orders = rec.get("orders", [2, 3, 4, 5, 6, 7])
    return [f"latlong {orders[0]}..{orders[-1]}",
            *_mesh_cells(rec["gen"]["summary"], SPHERE_MESHES)]


def _node_optimization(row: Row, rec: dict[str, Any]) -> list[str]:
    s = rec["summary"][row.pick]
    return [_pm(s, "before"), _pm(s, "after"),
            f"{100 * s['reduction_mean']:.0f} %", f"{s['houses_improved']} / {s['houses']}"]


SIZE_MESHES = ["7x7", "10x10", "14x14", "20x20", "40x40"]


def _size_row(row: Row, rec: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in rec["rows"] if r["recipe"] == row.pick)


def _size(row: Row, rec: dict[str, Any]) -> list[str]:
    if row.pick == "neural_process":  # a training record: the NP sees no mesh
        return ["no mesh", *_np_cells(rec["neural_process"]["summary"], len(SIZE_MESHES))]
    r = _size_row(row, rec)
    key = "summary_symmetrized" if row.symmetrized else "summary"
    meshes = r["trained_on"]
    return [f"{meshes[0]}..{meshes[-1]}", *_mesh_cells(r[key], SIZE_MESHES)]


def _pushing(row: Row, rec: dict[str, Any]) -> list[str]:
    if row.pick.startswith("equal_steps:"):  # both models' curves at the first one's best step
        v = rec["equal_steps"][row.pick.split(":")[1]]
        return [f"{v['position_mse_mean']:.3f} ± {v['position_mse_std']:.3f}",
                f"{v['ratio_to_np']:.2f}"]
    s = rec["summary"]
    v = s[row.pick]
    return [f"{v['mse_mean']:.3f} ± {v['mse_std']:.3f}",
            f"{v['mse_mean'] / s['neural_process']['mse_mean']:.2f}"]


SCENE_SIZES = ["1", "2", "3", "4", "5"]


def _scenes(row: Row, rec: dict[str, Any]) -> list[str]:
    # pick KIND:CANDIDATES of the fixed-candidate summary (candidates from the supermaze)
    kind, cands = row.pick.split(":")
    cells = rec["summary"]["fixed_k"][kind][cands]
    return [f"{100 * cells[m]['accuracy_mean']:.1f} % ± "
            f"{100 * cells[m]['stderr_over_supermazes']:.1f}" for m in SCENE_SIZES]


def _speed(row: Row, rec: dict[str, Any]) -> list[str]:
    if "speedup" in rec:  # solver_speed.json: one GEN and the solver, timed in one run
        v = rec[row.pick]
        mse = v.get("test_mse", v.get("mse_vs_reference"))
        what = "test MSE" if "test_mse" in v else f"MSE against n = {v.get('reference_n')}"
        return [f"{1e3 * v['seconds_per_scenario']:.3f}", f"{mse:#.2g} ({what})"]
    if row.pick == "neural_process":  # mesh_choice.json
        v = rec["neural_process"]
    elif row.pick.startswith("solver:"):
        v = next(s for s in rec["solver"] if s["n"] == int(row.pick.split(":")[1]))
        v = {**v, "test_mse_mean": v["test_mse"]}
    else:
        recipe, mesh = row.pick.split(":")
        v = next(g for g in rec["gen"] if g["recipe"] == recipe)["meshes"][mesh]
    return [f"{1e3 * v['seconds_per_scenario']:.3f}", f"{v['test_mse_mean']:#.2g} (test MSE)"]


@dataclass(frozen=True)
class Experiment:
    """How an experiment's table reads its rows: the columns after "model" and "the paper",
    a one-paragraph caption, and the reader of one row's cells from its record."""

    caption: str
    columns: list[str]
    cells: Callable[[Row, dict[str, Any]], list[str]]


EXPERIMENTS: dict[str, Experiment] = {
    "poisson_square": Experiment(
        "Poisson on a square (figure 2): test MSE, mean ± std over 3 seeds, of one weight set "
        "on every grid mesh 2x2..7x7, 250 houses (200 training, 50 test) as in the paper. The "
        "paper gives figure 2 as a plot only.",
        SQUARE_MESHES, _square),
    "poisson_sphere": Experiment(
        "Poisson on the sphere (figure 4): test MSE, mean ± std over 3 seeds, 100 houses and "
        "20 epochs (not the paper's 250 houses); trained on latitude-longitude meshes, tested "
        "on the largest of them and on icospheres never seen (level 1: 42 nodes, 2: 162, "
        "3: 642). The paper gives figure 4 as a plot only.",
        ["trained on", *SPHERE_MESHES], _sphere),
    "node_optimization": Experiment(
        "Optimising node positions per unseen house (figures 3 and 8): test MSE, mean ± std "
        "over 3 seeds of the weights, on each test house's held-out scenarios, before and "
        "after fitting the positions on 16 of its scenarios (100 houses, weights frozen). "
        "There is no Neural Process here (it has no nodes); the paper shows the errors as a "
        "plot only (figure 2).",
        ["fixed grid", "fitted positions", "lower by", "house fits improved"],
        _node_optimization),
    "size_generalization": Experiment(
        "Size generalisation (figure 7): test MSE, mean ± std over 3 seeds, of one weight set "
        "per row trained on the grids of its \"trained on\" column (250 houses; 80 epochs "
        "unless the row says otherwise) and tested on every grid shown, up to 40x40. The "
        "paper trains on 2x2..5x5 and shows the error growing on bigger meshes, as a plot "
        "only.",
        ["trained on", *SIZE_MESHES], _size),
    "pushing": Experiment(
        "Pushing objects (section 4.2): MSE of the object's final position on held-out "
        "pushes, mean ± std over 3 seeds, each model trained until its validation error "
        "stopped improving (the same rule for both). The paper's data are Omnipush's; "
        "gen_pyg's a physics-made stand-in (:doc:`pushing`) in cm², so compare the ratio to "
        "the Neural Process, not the values.",
        ["gen_pyg", "of the NP"], _pushing),
    "scenes": Experiment(
        "Scene representation (section 4.3): test accuracy of choosing the image a query pose "
        "sees among the supermaze's own rendered views (32 per maze), trained on 1x1 and 2x2 "
        "supermazes and tested on 1x1 to 5x5, each model trained until its validation "
        "accuracy stopped improving (mean over 3 seeds ± the standard error over test "
        "supermazes; :doc:`scenes`). The first rows choose among every view of the supermaze "
        "(the task grows with it; chance 1/(32 m²), 0.13 % at 5x5), the others among the views "
        "of the query's own maze (the same 32 candidates at every size; chance 3.1 %). The "
        "paper gives plots only.",
        [f"{m}x{m}" for m in SCENE_SIZES], _scenes),
    "speed": Experiment(
        "Speed against the solver (section 4.1): milliseconds per scenario (256 queries, the "
        "models batched by house: 32 scenarios a batch, or at most 4,096 mesh nodes in the "
        "stencil record, which uses the first 10 of the 50 test houses), and each row's "
        "error. Rows of one record were timed in one run; the paper's solver is a different "
        "one on a different machine.",
        ["ms per scenario", "error"], _speed),
}


def _commands(rows: list[Row], records: Mapping[str, dict[str, Any] | None]) -> list[str]:
    """One line per record behind the table, in the order to run them: the command that wrote
    it and the rows it gives (a record that evaluates trained runs comes after the record of
    their training, which says whose weights it trained)."""
    uses: dict[str, list[str]] = {}
    for row in rows:
        rec = records.get(row.record) if row.record is not None else None
        if rec is None or row.record is None:
            continue
        for trained in dict.fromkeys(r["record"].removesuffix(".json")
                                     for r in rec.get("rows", []) if r["recipe"] == row.pick):
            uses.setdefault(trained, []).append(f"trains {row.label}")
        uses.setdefault(row.record, []).append(row.label)
    lines = []
    for name, labels in uses.items():
        rec = records.get(name) or _load(name)
        if rec is not None:
            lines.append(f"* {_from(rec, name)}: {'; '.join(labels)}")
    return lines


def paper_table(experiment: str, records: Mapping[str, dict[str, Any] | None]) -> str:
    """The results-page table of :obj:`experiment` from :obj:`records` (record name -> record,
    or ``None`` where it is not committed)."""
    rows, spec = RESULTS[experiment], EXPERIMENTS[experiment]
    if len(rows) > MAX_ROWS:
        raise ValueError(f"{experiment}: {len(rows)} rows, at most {MAX_ROWS}")
    body = []
    for row in rows:
        rec = records.get(row.record) if row.record is not None else None
        if row.record is None:
            cells = ["not reproduced", *["–"] * (len(spec.columns) - 1)]
        elif rec is None:
            cells = [NOT_YET] * len(spec.columns)
        else:
            cells = spec.cells(row, rec)
        body.append([row.label, row.paper, *cells])
    commands = _commands(rows, records)
    return "\n".join([
        spec.caption, "",
        _table(["model", "the paper", *spec.columns], body),
        "Reproduce:" if commands else
        f"gen_pyg: {NOT_YET}; ``{COMMANDS[experiment]}`` will measure it.",
        *(["", *commands] if commands else []),
    ])


def render_paper() -> dict[str, str]:
    """The results-page tables, file name -> text."""
    out = {}
    for experiment, rows in RESULTS.items():
        records = {r.record: _load(r.record) for r in rows if r.record is not None}
        out[f"paper_{experiment}.rst"] = (
            ".. Generated by benchmarks/tables.py from benchmarks/results/; do not edit.\n\n"
            f"{paper_table(experiment, records).rstrip()}\n")
    return out


def _from(record: dict[str, Any], name: str) -> str:
    commit = record.get("git_commit")
    return (f"``{record['command'].strip()}``" + (f" (commit ``{commit[:10]}``)" if commit
                                                  else "") + f"; record ``{name}.json``")


def render() -> dict[str, str]:
    out = render_paper()
    for name, (record, fn) in TABLES.items():
        path = RESULTS_DIR / record
        if path.exists():
            out[name] = (f".. Generated by benchmarks/tables.py from benchmarks/results/{record};"
                         " do not edit.\n\n" + fn(json.loads(path.read_text())))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the tables are stale")
    args = parser.parse_args()
    stale = []
    for name, text in render().items():
        path = DOCS / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            DOCS.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"stale: {', '.join(stale)}; run python benchmarks/tables.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
