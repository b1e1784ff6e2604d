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
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOCS = HERE.parent / "docs" / "tables"


def _table(header: list[str], rows: list[list[str]]) -> str:
    """An RST simple table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
             rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return "\n".join([*lines, rule]) + "\n"


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def _pm(v: dict[str, float], key: str) -> str:
    return f"{v[f'{key}_mean']:.4f} ± {v[f'{key}_std']:.4f}"


def poisson_square(record: dict[str, Any]) -> str:
    """Per-mesh test MSE (mean ± std over seeds) of every recipe and the Neural Process, and
    the issue's targets."""
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
        f" {record['data']['num_houses']} houses, {record['train_scenarios']} training and "
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
        "Targets:",
        "",
        _table(["recipe", "monotone in k", f"{meshes[-1]} / NP", "best RMSE",
                *(["best RMSE, 8 symmetries averaged"] if symmetrized else [])],
               [[name, {True: "yes", False: "no", None: "n/a (one mesh)"}[t["monotone"]],
                 f"{t['largest_over_np']:.2f} ({_met(t['largest_at_most_0.4_np'])} ≤ 0.4)",
                 f"{t['best_rmse']:.3f} ({_met(t['best_rmse_at_most_0.08'])} ≤ 0.08)",
                 *([f"{t['best_rmse_symmetrized']:.3f} "
                    f"({_met(t['best_rmse_symmetrized_at_most_0.08'])} ≤ 0.08)"]
                   if symmetrized else [])]
                for name, rec in recipes.items() for t in [rec["targets"]]]),
        "Recipes:",
        "",
        _table(["recipe", "what it is"], [[n, r["what"]] for n, r in recipes.items()]),
    ]
    return "\n".join(out)


def node_optimization(record: dict[str, Any]) -> str:
    """Held-out MSE of fixed grids and fitted positions per node count, and the target."""
    seeds = len(record["seeds"])
    p = record["protocol"]
    out = [
        f"Reproduce with ``{record['command']}`` (commit ``{(record['git_commit'] or '?')[:10]}``;"
        f" {record['data']['num_houses']} houses, {record['data']['num_test_houses']} of them "
        f"unseen; {seeds} seed(s) of the weights, {record['epochs']} epochs; positions fitted "
        f"on {p['fit_scenarios']} scenarios per house, {p['steps']} Adam steps at lr "
        f"{p['lr']:g}; {record['machine']['cpu_count']} cores, torch "
        f"{record['machine']['torch']}, 1-minute load {record['load_average_at_start']:.1f} at "
        "start).",
        "",
        "Test MSE on each house's held-out scenarios, mean ± std over seeds:",
        "",
        _table(["mesh", "nodes", "fixed grid", "fitted positions", "lower by",
                "house fits improved", "target ≥ 10 %"],
               [[f"{k}x{k}", str(s["nodes"]), _pm(s, "before"), _pm(s, "after"),
                 f"{100 * s['reduction_mean']:.1f} ± {100 * s['reduction_std']:.1f} %",
                 f"{s['houses_improved']} / {s['houses']}",
                 _met(s["target_at_least_10pct_lower"])]
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
        f" {record['data']['num_houses']} houses, {record['data']['train_scenarios']} training "
        f"and {record['data']['test_scenarios']} test scenarios; {seeds} seed(s), "
        f"{record['train']['epochs']} epochs; {record['machine']['cpu_count']} cores, torch "
        f"{record['machine']['torch']}, 1-minute load {record['load_average_at_start']:.1f} at "
        f"start; training {train_s['gen']:.0f} s per GEN seed, {train_s['neural_process']:.0f} s "
        "per Neural Process seed).",
        "",
        "Test MSE, mean ± std over seeds (GEN trained on the latitude-longitude meshes only):",
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
        f" {record['data']['num_houses']} houses, {record['data']['num_test_houses']} of them "
        f"for testing; {record['machine']['cpu_count']} cores, torch "
        f"{record['machine']['torch']}, 1-minute load {record['load_average_at_start']:.1f} at "
        f"start). Data generation, shared by both, took {record['data_seconds']:.1f} s and is "
        "not in the times below, which are training wall times with the evaluations taken "
        "out.",
        "",
        _table(["model", "budget", "seconds", "final 7x7 MSE",
                f"seconds to {record['target_mse']:.4f}", "time ratio"], rows),
        f"Target: at most 1/10 of the baseline's time — "
        f"{_met(bool(record['target_ratio_at_most_0.1']))}"
        + ("." if ratio is None else f" (best ratio {ratio:.3f})."),
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
        steps = "diameter" if row.get("num_steps") is None else str(row["num_steps"])
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
    "node_optimization.rst": ("node_optimization.json", node_optimization),
    "aggregation.rst": ("aggregation.json", aggregation),
    "poisson_sphere.rst": ("poisson_sphere.json", poisson_sphere),
    "time_to_accuracy.rst": ("time_to_accuracy.json", time_to_accuracy),
    **{f"{name}.rst": (f"{name}.json", size_generalization) for name in (
        "size_generalization", "size_generalization_mean", "size_generalization_relative",
        "size_generalization_relative_mean", "size_generalization_fixed_steps",
        "size_generalization_mean_paper")},
}


def render() -> dict[str, str]:
    out = {}
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
