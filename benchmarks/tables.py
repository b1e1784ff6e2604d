"""Write the documentation's result tables from the benchmark JSON records, so that no number
in ``docs/benchmarks.rst`` is typed by hand::

    python benchmarks/tables.py            # writes docs/tables/*.rst
    python benchmarks/tables.py --check    # exit 1 if the committed tables are stale

``tests/test_benchmarks.py`` runs the check.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
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
        for label, key in (("", "summary"), (", 8 symmetries averaged", "summary_symmetrized")):
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
        "size_screen11", "size_screen12", "size_kernel_full")},
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
        "size_generalization_kernel_full_sym")},
}


# --------------------------------------------------------------------------------------------
# "The paper vs gen_pyg": one table per experiment of the paper, the first thing the results
# page shows. The paper's numbers are those its text states; where it gives only a plot, the
# cell says so. An experiment without a committed record says "not yet measured" and names
# the command that will measure it.
# --------------------------------------------------------------------------------------------
NOT_YET = "not yet measured"
#: experiment -> the command that measures it (shown with every paper table)
COMMANDS = {
    "poisson_square": "python benchmarks/poisson_square.py --recipes bilinear_relative_long",
    "poisson_sphere": "python benchmarks/poisson_sphere.py",
    "node_optimization": "python benchmarks/node_optimization.py",
    "size_generalization": "python benchmarks/size_generalization.py",
    "pushing": "python benchmarks/pushing.py",
    "scenes": "python benchmarks/scenes.py",
    "speed": "python benchmarks/solver_speed.py",
}
#: the training sizes of the paper's Poisson experiments (200 training, 50 test houses)
PAPER_HOUSES = 250
PAPER_MESHES = [2, 3, 4, 5, 6, 7]


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _records(prefix: str) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob(f"{prefix}*.json"))
            if not p.stem.endswith("_quick")}


def _from(record: dict[str, Any], name: str) -> str:
    commit = record.get("git_commit")
    return (f"``{record['command'].strip()}``" + (f" (commit ``{commit[:10]}``)" if commit
                                                  else "") + f"; record ``{name}.json``")


def _first_below(gen: dict[str, dict[str, float]], np_mse: float) -> str:
    below = [m for m, v in gen.items() if v["mse_mean"] < np_mse]
    return below[0] if below else "never"


def paper_poisson_square(results: dict[str, dict[str, Any]]) -> str:
    """Figure 2: one weight set on 2x2..7x7 against the Neural Process, at the paper's data
    size; gen_pyg's best recipe (the lowest 7x7 error) of the committed records."""
    best: tuple[float, str, str] | None = None
    for name, rec in results.items():
        if (_houses(rec) != PAPER_HOUSES
                or rec["data"]["mesh_sizes"] != PAPER_MESHES):
            continue
        for recipe, r in rec["recipes"].items():
            score = r["summary"]["7x7"]["mse_mean"]
            if best is None or score < best[0]:
                best = (score, name, recipe)
    if best is None:
        return f"gen_pyg: {NOT_YET}; ``{COMMANDS['poisson_square']}`` will measure it.\n"
    _, name, recipe = best
    rec = results[name]
    r = rec["recipes"][recipe]
    np_mse = statistics.fmean(v["mse_mean"] for v in rec["neural_process"]["summary"].values())
    np_cell = _pm(next(iter(rec["neural_process"]["summary"].values())), "mse")
    sym = r.get("summary_symmetrized")
    plot = "plot only"
    rows = [[m, plot, _pm(v, "mse"), *([_pm(sym[m], "mse")] if sym else []), np_cell]
            for m, v in r["summary"].items()]
    rows.append(["GEN below the NP from", "4x4", _first_below(r["summary"], np_mse),
                 *([_first_below(sym, np_mse)] if sym else []), "–"])
    rows.append(["error falls with every finer mesh", "yes (plot)",
                 "yes" if r["targets"]["monotone"] else "no",
                 *([""] if sym else []), "–"])
    one_mesh = [(n, x) for n, x in results.items() if _houses(x) == PAPER_HOUSES
                and len(x["data"]["mesh_sizes"]) == 1]
    out = [
        f"gen_pyg: recipe ``{recipe}`` ({r['what']}), {len(rec['seeds'])} seeds, "
        f"{_houses(rec)} houses ({rec['train_scenarios']} training and "
        f"{rec['test_scenarios']} test scenarios); {_from(rec, name)}. Test MSE, mean ± std "
        "over seeds; one weight set for every mesh, as in the paper. The paper gives figure 2 "
        "as a plot only, with no numbers.",
        "",
        _table(["mesh", "the paper", "gen_pyg GEN",
                *(["gen_pyg GEN, 8 symmetries averaged"] if sym else []),
                "gen_pyg Neural Process"], rows),
    ]
    if one_mesh:
        lines = []
        for n, x in one_mesh:
            for recipe_name, rr in x["recipes"].items():
                m = next(iter(rr["summary"]))
                s = rr.get("summary_symmetrized")
                lines.append([f"{m} only", recipe_name, _pm(rr["summary"][m], "mse"),
                              _pm(s[m], "mse") if s else "–", f"``{n}.json``"])
        out += ["Weights trained on one mesh alone (no counterpart in the paper), test MSE:",
                "", _table(["trained on", "recipe", "GEN", "8 symmetries averaged", "record"],
                           lines)]
    return "\n".join(out)


def paper_poisson_sphere(record: dict[str, Any] | None) -> str:
    """Figure 4: GEN on the sphere's lat-long meshes against the Neural Process."""
    if record is None:
        return f"gen_pyg: {NOT_YET}; ``{COMMANDS['poisson_sphere']}`` will measure it.\n"
    gen = record["gen"]["summary"]
    np_v = record["neural_process"]["summary"]["no mesh"]
    rows = [[m, str(record["mesh_nodes"][m]), "plot only", _pm(v, "mse"), _pm(np_v, "mse")]
            for m, v in gen.items()]
    lat = {m: v for m, v in gen.items() if m.startswith("latlong")}
    rows.append(["GEN below the NP from", "", "plot only",
                 _first_below(lat, np_v["mse_mean"]), "–"])
    return "\n".join([
        f"gen_pyg: {len(record['seeds'])} seeds, {_houses(record)} houses, "
        f"{record['train']['epochs']} epochs; {_from(record, 'poisson_sphere')}. Test MSE, mean "
        "± std over seeds; the GEN is trained on the latitude-longitude meshes and never sees "
        "an icosphere"
        + (f" (a row 'icosphere L, {record['max_rounds']} rounds' runs that mesh with "
           f"{record['max_rounds']} rounds, the largest trained diameter, instead of its own)"
           if record.get("max_rounds") else "")
        + ". The paper gives figure 4 as a plot only.",
        "",
        _table(["mesh", "nodes", "the paper", "gen_pyg GEN", "gen_pyg Neural Process"], rows),
    ])


def paper_node_optimization(record: dict[str, Any] | None) -> str:
    """Figures 3 and 8: node positions fitted per unseen house, weights frozen."""
    if record is None:
        return f"gen_pyg: {NOT_YET}; ``{COMMANDS['node_optimization']}`` will measure it.\n"
    rows = [[f"{k}x{k}", "plot only", _pm(v, "before"), _pm(v, "after"),
             f"{100 * v['reduction_mean']:.0f} %"] for k, v in record["summary"].items()]
    return "\n".join([
        f"gen_pyg: {len(record['seeds'])} seeds of the weights, {_houses(record)} "
        f"houses, positions fitted on {record['protocol']['fit_scenarios']} scenarios of each "
        f"unseen house and tested on its others; {_from(record, 'node_optimization')}. The "
        "paper shows the fitted meshes (figures 3 and 8) and their errors only as a plot "
        "(figure 2).",
        "",
        _table(["mesh", "the paper", "gen_pyg fixed grid", "gen_pyg fitted positions",
                "lower by"], rows),
    ])


def paper_size_generalization(results: dict[str, dict[str, Any]]) -> str:
    """Figure 7: weights trained on small meshes tested on bigger ones; every committed row
    whose weights were trained at the paper's data size with the diameter's rounds."""
    rows = []
    for name, rec in results.items():
        for row in rec["rows"]:
            trained = _load(row["record"].removesuffix(".json"))
            if (row.get("num_steps") is not None or trained is None
                    or _houses(trained) != PAPER_HOUSES):
                continue
            for label, key in (("", "summary"), (", 8 symmetries averaged",
                                                 "summary_symmetrized")):
                if key in row and {"7x7", "14x14"} <= set(row[key]):
                    s = row[key]
                    meshes = row.get("trained_on") or ["2x2", "7x7"]
                    rows.append([f"{row['recipe']}{label}", "degrades (plot only)",
                                 f"{meshes[0]}..{meshes[-1]}",
                                 *(_pm(s[m], "mse") for m in ("7x7", "10x10", "14x14")),
                                 f"{s['14x14']['mse_mean'] / s['7x7']['mse_mean']:.1f}x",
                                 f"``{name}.json``"])
    if not rows:
        return f"gen_pyg: {NOT_YET}; ``{COMMANDS['size_generalization']}`` will measure it.\n"
    return "\n".join([
        "Weights trained on meshes up to 7x7 at the paper's data size, tested on meshes they "
        "never saw (the rounds the model was trained with: T = 2(k-1) on each, or its fixed "
        "num_steps). The paper trains on 2x2..5x5 and shows only a plot (figure 7), in which "
        "the error grows on bigger meshes. Test MSE, mean ± std over seeds:",
        "",
        _table(["weights", "the paper", "trained on", "7x7 (trained)", "10x10", "14x14",
                "14x14 / 7x7", "record"], rows),
    ])


def paper_pushing(record: dict[str, Any] | None,
                  grids: dict[str, Any] | None = None) -> str:
    """Section 4.2 (Omnipush): the paper's numbers; gen_pyg's from ``pushing.json`` with
    ``summary.gen`` and ``summary.neural_process`` holding ``mse_mean`` and ``mse_std`` (the
    final position's MSE), and the GEN on bigger grids from :obj:`grids` (``pushing_grids.json``)
    when given."""
    ours: dict[str, str] = {}
    ratio = "not yet measured"
    if record is not None:
        summary = record["summary"]
        for key in ("gen", "neural_process"):
            ours[key] = f"{summary[key]['mse_mean']:.3f} ± {summary[key]['mse_std']:.3f}"
        ratio = f"{summary['gen']['mse_mean'] / summary['neural_process']['mse_mean']:.2f}"
    cell = ours.get
    rows = [
        ["GEN (2x2 grid)", "0.045 ± 0.002", cell("gen", NOT_YET)],
        ["Neural Process", "0.078 ± 0.006", cell("neural_process", NOT_YET)],
        ["GEN / Neural Process", "0.58", ratio],
        ["modular meta-learning", "0.062", "not reproduced"],
    ]
    notes = []
    if record is not None:
        data = record.get("data", {})
        opts = data.get("options", {})
        if "num_instances" in data:
            notes.append(
                f"gen_pyg: {len(record['seeds'])} seeds, {data['num_instances']} objects "
                f"({data['num_test_instances']} held out) x {opts.get('pushes_per_object')} "
                f"pushes, noise {opts.get('noise')}, {record['train']['epochs']} epochs for "
                "both models; targets in cm and rad, so gen_pyg's MSE is in cm² while the "
                "paper's Omnipush units are not stated: compare the ratio, not the values.")
    if grids is not None:
        gs = grids["summary"]
        for key in (k for k in gs if k.startswith("gen_")):
            v = gs[key]
            rows.insert(-1, [f"GEN ({key[4:]} grid)", "no significant gain (no number)",
                             f"{v['mse_mean']:.3f} ± {v['mse_std']:.3f} "
                             f"({v['mse_mean'] / gs['neural_process']['mse_mean']:.2f} of "
                             "the NP)"])
        notes.append(f"Bigger grids ({len(grids['seeds'])} seeds, each grid trained on its "
                     f"own): {_from(grids, 'pushing_grids')}.")
    return "\n".join([
        "Mean squared error of the object's final position on held-out pushes (Omnipush; "
        "gen_pyg: a physics-made stand-in, :doc:`pushing`). "
        + (f"gen_pyg: {_from(record, 'pushing')}." if record is not None
           else f"gen_pyg: {NOT_YET}; ``{COMMANDS['pushing']}`` will measure it."),
        *(["", *notes] if notes else []),
        "",
        _table(["model", "the paper", "gen_pyg"], rows),
    ])


def _acc(v: dict[str, float], seeds: int) -> str:
    mean = f"{100 * v['accuracy_mean']:.1f} %"
    return mean if seeds < 2 else f"{mean} ± {100 * v['accuracy_std']:.1f}"


def paper_scenes(record: dict[str, Any] | None) -> str:
    """Section 4.3 (scene representation): the paper gives plots only; gen_pyg's numbers from
    ``scenes.json`` (``summary`` per model and m, the measured values of ``summary.targets``,
    ``chance``, ``test_batch``; whether the issue's targets are met is said in
    ``docs/scenes.rst``, not here)."""
    intro = ("Choosing the image a query pose sees among candidates, trained on 1x1 and 2x2 "
             "supermazes and tested on 1x1 to 5x5. ")
    if record is None:
        return "\n".join([
            intro + f"gen_pyg: {NOT_YET}; ``{COMMANDS['scenes']}`` will measure it.", "",
            _table(["question", "the paper", "gen_pyg"], [
                ["accuracy as supermazes grow", "GEN roughly constant, NP falls (plot only)",
                 NOT_YET],
                ["epochs to the NP's accuracy", "about half (plot only)", NOT_YET]])])
    summary, t = record["summary"], record["summary"]["targets"]
    seeds = len(record["seeds"])
    gen, np_ = summary["gen"], summary["neural_process"]
    steps = record["gen"]["runs"][0]["steps"]
    ratios = t["gen_steps_to_np_final_over_np_steps"]
    ratio = ", ".join("never" if r is None else f"{r:.2f}x" for r in ratios)

    grow = (f"GEN {_acc(gen['1'], 1)} → {_acc(gen['5'], 1)} from 1x1 to 5x5 "
            f"({-t['gen_drop_m1_to_m5_points']:+.1f} points); NP {_acc(np_['1'], 1)} → "
            f"{_acc(np_['5'], 1)} ({-t['np_drop_m1_to_m5_points']:+.1f} points)")
    speed = (f"the GEN's curve passes the NP's final 1x1 point at {ratio} of the NP's {steps} "
             f"steps; after {steps} steps GEN − NP = {t['m1_gen_minus_np_points']:+.1f} points "
             "at 1x1")
    rows = [[f"{m}x{m}", str(record["test_batch"]["supermazes"][m]),
             str(record["test_batch"]["candidates"][m]), f"{100 * record['chance'][m]:.2f} %",
             _acc(gen[m], seeds), _acc(np_[m], seeds)] for m in gen]
    return "\n".join([
        intro + f"gen_pyg: {_from(record, 'scenes')}; {seeds} seed(s), {steps} steps of "
        f"{record['train_batch']['supermazes']} supermazes. The paper gives plots only.", "",
        _table(["question", "the paper", "gen_pyg"], [
            ["accuracy as supermazes grow", "GEN roughly constant, NP falls (plot only)", grow],
            ["steps to the NP's final 1x1 accuracy", "about half the epochs (plot only)",
             speed]]),
        "Test accuracy per supermaze size (a test batch holds about 16 mazes: K candidates, "
        "chance 1/K):", "",
        _table(["supermaze", "supermazes per batch", "K", "chance", "GEN", "Neural Process"],
               rows)])


def paper_speed(record: dict[str, Any] | None) -> str:
    """Section 4.1: a trained GEN against the high-resolution solver."""
    if record is None:
        return f"gen_pyg: {NOT_YET}; ``{COMMANDS['speed']}`` will measure it.\n"
    gen, solver = record["gen"], record["solver"]
    return "\n".join([
        f"gen_pyg: {_from(record, 'solver_speed')}. Seconds per scenario of the trained GEN "
        "(7x7, batched) and of the reference solver on the same houses. The paper's solver is "
        "a FEniCS finite-element solve on a 250x250 mesh; gen_pyg's is its own finite-"
        f"difference solver (DST, n = {solver['n']}), a different solver on a different machine, "
        "so the two ratios do not compare.",
        "",
        _table(["", "the paper", "gen_pyg"], [
            ["GEN speed-up over the solver", "more than 250x", f"{record['speedup']:.1f}x"],
            ["GEN ms per scenario", "not stated", f"{1e3 * gen['seconds_per_scenario']:.3f}"],
            ["solver ms per scenario", "not stated",
             f"{1e3 * solver['seconds_per_scenario']:.3f}"],
        ]),
    ])


def render_paper() -> dict[str, str]:
    """The "the paper vs gen_pyg" tables, file name -> text."""
    square = {n: r for n, r in _records("poisson_square").items() if "recipes" in r}
    tables = {
        "paper_poisson_square.rst": paper_poisson_square(square),
        "paper_poisson_sphere.rst": paper_poisson_sphere(_load("poisson_sphere")),
        "paper_node_optimization.rst": paper_node_optimization(_load("node_optimization")),
        "paper_size_generalization.rst": paper_size_generalization(
            _records("size_generalization")),
        "paper_pushing.rst": paper_pushing(_load("pushing"), _load("pushing_grids")),
        "paper_scenes.rst": paper_scenes(_load("scenes")),
        "paper_speed.rst": paper_speed(_load("solver_speed")),
    }
    out = {}
    for name, text in tables.items():
        out[name] = (".. Generated by benchmarks/tables.py from benchmarks/results/; do not "
                     f"edit.\n\n{text.rstrip()}\n")
    return out


def render() -> dict[str, str]:
    out = render_paper()
    for name, (record, fn) in TABLES.items():
        path = RESULTS / record
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
