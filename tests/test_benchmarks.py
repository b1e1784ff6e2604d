"""Every benchmark script runs on tiny settings (``--quick``, so that none of them rots): each
writes a ``*_quick.json`` record with numbers and its figures where ``--out`` points, and
nothing under ``benchmarks/results/``. Also the harness, the recipes file and the generated
"the paper vs gen_pyg" tables."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
COMMITTED = BENCHMARKS / "results"


def _scripts() -> list[str]:
    spec = importlib.util.spec_from_file_location("_bench_run_all", BENCHMARKS / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.SCRIPTS)


def _env(results: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH"))
                                        if p)
    if results is not None:
        env["GEN_PYG_BENCH_RESULTS"] = str(results)
    return env


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _rows(key: str, field: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: len(r[key]) > 0 and all(_number(row[field]) for row in r[key])


#: script -> checks of its quick record (each must hold)
CHECKS: dict[str, list[Callable[[dict[str, Any]], bool]]] = {
    "throughput": [_rows("rows", "ours_step_ms"), _rows("rows", "baseline_step_ms"),
                   _rows("rows", "value_checks_cost"),
                   lambda r: _number(r["all_meshes"]["speedup"])],
    "scaling": [_rows("grid", "seconds_min"), _rows("grid", "peak_rss_mb"),
                lambda r: _number(r["linearity"]["ratio_vs_10x"]),
                _rows("paper_sizes_dense_vs_sparse", "dense_ms")],
    "poisson_generation": [lambda r: _number(r["square"]["numerics_s"]),
                           lambda r: _number(r["sphere"]["dataset_s"]),
                           _rows("solver_scaling", "dst_solve_per_rhs_s"),
                           _rows("source_accuracy", "rel_max_error_supersample_4")],
    "spring_mass": [lambda r: _number(r["pyg_relative"]["test_mse"]),
                    lambda r: _number(r["baseline"]["test_mse_final"]),
                    lambda r: _number(r["rollout_3_masses"]["position_rmse_vs_euler"]),
                    lambda r: _number(r["generalisation"]["100_masses"]["rollout_seconds"])],
    "mesh_diameter": [_rows("rows", "diameter"), _rows("rows", "ifub_s")],
    "mesh_position_toy": [_rows("rows", "mse_optimised")],
    "node_optimization": [lambda r: all(_number(v["before_mean"]) and _number(v["after_mean"])
                                        for v in r["summary"].values()),
                          lambda r: list(r["summary"]) == ["2", "3"]],
    "poisson_square": [lambda r: all(_number(v["mse_mean"])
                                     for v in r["recipes"]["demo"]["summary"].values()),
                       lambda r: all(_number(v["mse_mean"])
                                     for v in r["neural_process"]["summary"].values())],
    "poisson_sphere": [lambda r: all(_number(v["mse_mean"]) for v in r["gen"]["summary"].values()),
                       lambda r: _number(r["neural_process"]["summary"]["no mesh"]["mse_mean"]),
                       lambda r: {"latlong 2", "latlong 3", "icosphere 0"}
                       <= set(r["gen"]["summary"])],
    "pushing": [lambda r: all(_number(v[k]) for v in r["summary"].values()
                              for k in ("mse_mean", "angle_mse_mean", "full_mse_mean")),
                lambda r: {"neural_process", "gen", "gen_3x3"} <= set(r["summary"]),
                lambda r: _number(r["noise_floor"]["position_mse"]),
                lambda r: _number(r["targets"]["gen_over_np_position"])],
    "size_generalization": [lambda r: all(_number(v["mse_mean"])
                                          for v in r["rows"][0]["summary"].values()),
                            lambda r: list(r["rows"][0]["summary"]) == ["2x2", "3x3", "4x4",
                                                                         "5x5"]],
    "solver_speed": [lambda r: _number(r["speedup"]) and r["speedup"] > 0,
                     lambda r: _number(r["gen"]["test_mse"]),
                     lambda r: _number(r["solver"]["mse_vs_reference"])],
    "genconv_backends": [_rows("rows", "fused_ms"), _rows("rows", "propagate_ms")],
    "round_jitter": [lambda r: all(_number(v[c]) for name in ("shipped", "control", "jitter")
                                   for v in r[name].values()
                                   for c in ("own", "own_plus_8", "fixed_12")),
                     lambda r: list(r["jitter"]) == ["3x3", "4x4"]],
    "mesh_choice": [lambda r: [row["k"] for row in r["gen"][0]["meshes"].values()] == [2, 3, 4],
                    lambda r: all(_number(row["test_mse_mean"]) and row["seconds_per_scenario"] > 0
                                  for row in r["gen"][0]["meshes"].values()),
                    lambda r: _number(r["neural_process"]["test_mse_mean"]),
                    # predictions against the largest mesh's: zero there, a number elsewhere
                    lambda r: [row["rms_to_largest"] == 0 for row in
                               r["gen"][0]["meshes"].values()] == [False, False, True],
                    lambda r: [s["n"] for s in r["solver"]] == [5, 9]
                    and all(_number(s["test_mse"]) for s in r["solver"])],
    "size_profile": [lambda r: all(_number(m) for row in r["rows"]
                                   for m in row["mse_after_round"]),
                     lambda r: [row["k"] for row in r["rows"]] == [3, 4]],
    "time_to_accuracy": [lambda r: _number(r["target_mse"]),
                         lambda r: _number(r["baseline_seconds_to_target"]),
                         lambda r: all(_number(p["test_mse"]) for run in r["package"].values()
                                       for p in run["curve"]),
                         lambda r: len(r["baseline"]["curve"]) == r["baseline"]["epochs"]],
    "aggregation": [lambda r: {row["what"] for row in r["rows"]} == {"genconv", "encoder"} | (
                        {"genconv_layer sum", "genconv_layer max"} if r["torch_scatter"]
                        else set()),
                    lambda r: all(_number(v["forward_backward_ms"]) for row in r["rows"]
                                  for v in row["ops"].values() if "error" not in v)],
    "pair_layers": [lambda r: [row["k"] for row in r["rows"]] == [4, 7],
                    # the fused layers give the per-pair results (float32 round-off)
                    lambda r: all(row[layer]["max_abs_difference"] < 1e-4 for row in r["rows"]
                                  for layer in ("decoder", "encoder")),
                    lambda r: all(_number(v) for row in r["rows"]
                                  for layer in ("decoder", "encoder")
                                  for kind in ("inference_ms", "forward_backward_ms")
                                  for v in row[layer][kind].values()),
                    lambda r: [row["k"] for row in r["steps"]] == [4]
                    and all(_number(v) for v in r["steps"][0]["step_ms"].values())],
    "scenes": [lambda r: all(_number(v["accuracy_mean"]) for kind in ("gen", "neural_process")
                             for v in r["summary"][kind].values()),
               lambda r: list(r["summary"]["gen"]) == ["1", "2", "3", "4", "5"],
               lambda r: all(_number(c) and 0 < c < 1 for c in r["chance"].values()),
               lambda r: all(len(run["curve"]) >= 2 for run in r["gen"]["runs"])],
}


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}


def test_every_script_has_checks() -> None:
    assert sorted(Path(s).stem for s in _scripts()) == sorted(CHECKS)


@pytest.mark.slow
def test_bench_all_quick(tmp_path: Path) -> None:
    """Every script's quick mode, in one process (``run_all.py --in-process``: the imports are
    paid once; ``gen-pyg bench all --quick`` runs the same scripts one process each)."""
    before = _snapshot(COMMITTED)
    env = _env()
    env["GEN_PYG_BENCH_RUNS"] = str(tmp_path / "runs")
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "run_all.py"), "--quick",
                           "--in-process", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=600)
    after = _snapshot(COMMITTED)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "wall time per script" in proc.stdout

    written = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert all("_quick" in name for name in written), written
    for script in _scripts():
        stem = Path(script).stem
        path = tmp_path / f"{stem}_quick.json"
        assert path.is_file(), (script, written)
        record = json.loads(path.read_text())
        # the harness's header, the same in every record
        assert record["quick"] is True, script
        assert record["command"].startswith(f"python benchmarks/{script}"), script
        assert "--quick" in record["command"], script
        assert record["machine"]["threads"] >= 1 and record["started"] <= record["finished"]
        for i, check in enumerate(CHECKS[stem]):
            assert check(record), f"{script}: check {i} failed"
        assert any(n.startswith(stem) and n.endswith(".png") for n in written), script

    # Nothing of this run under benchmarks/results/: no quick file there, and none of the
    # records the quick runs stand in for touched. (A full benchmark someone runs meanwhile
    # may update other records, e.g. poisson_square_recipes.json; those are not this run's.)
    changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    ours = {n.replace("_quick", "") for n in written} | set(written)
    assert not {n for n in changed if "_quick" in n or n in ours}, sorted(changed)


def test_bench_all_then_quick_passes_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    from gen_pyg import cli
    from gen_pyg.cli import _commands

    commands: list[list[str]] = []

    def fake_run(cmd: list[str], *args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        commands.append([str(c) for c in cmd])
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(_commands.subprocess, "run", fake_run)
    for argv in (["bench", "all", "--quick"], ["bench", "--quick", "all"]):
        commands.clear()
        assert cli.main(argv) == 0
        assert len(commands) == 1 and commands[0][1].endswith("run_all.py")
        assert commands[0][2:] == ["--quick"]
    commands.clear()
    assert cli.main(["bench", "mesh_diameter", "--quick"]) == 0
    assert commands[0][1].endswith("mesh_diameter.py") and commands[0][2:] == ["--quick"]


def test_bench_list_names_every_script() -> None:
    proc = subprocess.run([sys.executable, "-m", "gen_pyg.cli", "bench", "list"],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    listed = proc.stdout.split()
    for script in _scripts():
        assert Path(script).stem in listed


def test_docs_tables_are_generated_from_the_committed_json() -> None:
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "tables.py"), "--check"],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    tables = sorted((ROOT / "docs" / "tables").glob("*.rst"))
    assert tables, "docs/tables/ holds no generated table"
    for path in tables:
        assert "Generated by benchmarks/tables.py" in path.read_text()


def test_poisson_square_seeds_in_processes_match_seeds_in_turn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None) -> None:
    """``--jobs 2`` (each seed in its own process, records merged) gives the record of the
    same seeds trained one after the other on one thread: same runs, same summaries."""
    records = {}
    common = ["--quick", "--recipes", "bilinear_relative", "--out", str(tmp_path)]
    # each seed in its own process (this process only merges their records) ...
    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])
    ps = _load_benchmark("poisson_square")
    assert ps.main([*common, "--name", "par", "--runs", str(tmp_path / "runs_par"),
                    "--jobs", "2"]) == 0
    # ... and the same seeds one after the other, in this process
    assert ps.main([*common, "--name", "seq", "--runs", str(tmp_path / "runs_seq"),
                    "--threads", "1"]) == 0
    for name in ("par", "seq"):
        records[name] = json.loads((tmp_path / f"{name}.json").read_text())
    par, seq = records["par"], records["seq"]
    assert par["seeds"] == seq["seeds"] == [0, 1]
    assert par["parallel"]["jobs"] == 2 and "parallel" not in seq
    for part in ("neural_process", "recipes"):
        a, b = par[part], seq[part]
        if part == "recipes":
            a, b = a["bilinear_relative"], b["bilinear_relative"]
            assert a["targets"] == b["targets"]
        assert [r["test_mse"] for r in a["runs"]] == [r["test_mse"] for r in b["runs"]]
        assert a["summary"] == b["summary"]


@pytest.fixture
def one_thread(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A benchmark's ``main`` run in this process sets torch's threads (one, as in the quick
    subprocess runs); the test suite's setting comes back afterwards."""
    import torch

    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    yield
    torch.set_num_threads(before)


def _load_benchmark(name: str) -> Any:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_poisson_square_targets_worked_by_hand() -> None:
    ps = _load_benchmark("_poisson")

    def summary(mses: dict[str, float]) -> dict[str, dict[str, float]]:
        return {k: {"mse_mean": v, "rmse_mean": math.sqrt(v)} for k, v in mses.items()}

    t = ps.targets(summary({"2x2": 0.09, "3x3": 0.04, "7x7": 0.0049}), np_mse=0.1)
    assert t["monotone"] is True
    assert t["largest_over_np"] == pytest.approx(0.049) and t["largest_at_most_0.4_np"]
    assert t["best_rmse"] == pytest.approx(0.07) and t["best_rmse_at_most_0.08"]
    t = ps.targets(summary({"2x2": 0.09, "3x3": 0.1, "7x7": 0.05}), np_mse=0.1)
    assert t["monotone"] is False and not t["largest_at_most_0.4_np"]
    assert t["best_rmse"] == pytest.approx(math.sqrt(0.05)) and not t["best_rmse_at_most_0.08"]
    # one mesh: nothing to be monotone about, the other targets as usual
    t = ps.targets(summary({"7x7": 0.0081}), np_mse=0.1)
    assert t["monotone"] is None and t["best_rmse"] == pytest.approx(0.09)
    assert "best_rmse_symmetrized" not in t
    # with the symmetry-averaged summary, its best RMSE is judged on its own
    t = ps.targets(summary({"7x7": 0.0081}), np_mse=0.1, symmetrized=summary({"7x7": 0.0049}))
    assert t["best_rmse_symmetrized"] == pytest.approx(0.07)
    assert t["best_rmse_symmetrized_at_most_0.08"] and not t["best_rmse_at_most_0.08"]


def test_size_generalization_num_steps_is_applied_and_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None) -> None:
    """``--num-steps T`` evaluates the same trained weights with T rounds on every mesh."""
    monkeypatch.setenv("GEN_PYG_BENCH_RUNS", str(tmp_path / "runs"))
    sg = _load_benchmark("size_generalization")
    records = {}
    # the first call trains poisson_square's quick run, the others evaluate its checkpoints
    for name, extra in (("diam", []), ("one", ["--num-steps", "1"]), ("sym", ["--symmetrize"]),
                        ("jit", ["--test-jitter", "1.0", "--jitter-draws", "2"])):
        assert sg.main(["--quick", "--name", name, "--out", str(tmp_path), *extra]) == 0
        records[name] = json.loads((tmp_path / f"{name}_quick.json").read_text())["rows"][0]
    diam, one, sym = records["diam"], records["one"], records["sym"]
    assert diam["num_steps"] is None and one["num_steps"] == 1
    # --symmetrize adds the averaged errors of the same weights and leaves the plain ones alone
    assert "summary_symmetrized" not in diam
    assert sym["per_seed"] == diam["per_seed"]
    assert all(a[m] != b[m] for a, b in zip(sym["per_seed"], sym["per_seed_symmetrized"],
                                            strict=True) for m in a)
    assert list(sym["summary_symmetrized"]) == ["2x2", "3x3", "4x4", "5x5"]
    assert sym["summary_symmetrized"]["4x4"]["mse_mean"] == pytest.approx(
        sum(r["4x4"] for r in sym["per_seed_symmetrized"]) / len(sym["per_seed_symmetrized"]))
    # --test-jitter adds the errors on jittered grids, averaged over the draws: a 2x2 grid has
    # no interior node, so there they equal the plain errors; from 3x3 on they differ
    jit = records["jit"]
    assert jit["per_seed"] == diam["per_seed"] and jit["jitter_draws"] == 2
    for plain, moved in zip(diam["per_seed"], jit["per_seed_jittered"], strict=True):
        assert moved["2x2"] == pytest.approx(plain["2x2"], rel=1e-6)
        assert all(moved[m] != plain[m] for m in ("3x3", "4x4", "5x5"))
    # the falling-error targets need 7x7, 14x14 and 20x20, which a quick run does not test
    assert jit["targets_jittered"] == {}
    summary = {m: {"mse_mean": v} for m, v in (("7x7", 1.0), ("14x14", 0.9), ("20x20", 0.91))}
    assert sg.falling_targets(summary) == {"14x14_at_most_0.9x_7x7": True,
                                           "20x20_no_worse_than_14x14": False}
    # 2x2 has diameter 2: one round instead of two changes every seed's error there
    assert all(a["2x2"] != b["2x2"] for a, b in zip(diam["per_seed"], one["per_seed"],
                                                    strict=True))


def test_scenes_write_one_writes_its_figure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None) -> None:
    """``scenes.py --kinds K --write-one``: a record of one model, with its learning curves."""
    monkeypatch.setenv("GEN_PYG_BENCH_RUNS", str(tmp_path / "runs"))
    scenes = _load_benchmark("scenes")
    assert scenes.main(["--quick", "--kinds", "neural_process", "--write-one", "--out",
                        str(tmp_path)]) == 0
    record = json.loads((tmp_path / "scenes_quick.json").read_text())
    assert "neural_process" in record and "gen" not in record
    assert (tmp_path / "scenes_quick.png").stat().st_size > 0
    # its run folder names its data relative to itself, so both can move
    from gen_pyg.training import ExperimentConfig

    run = tmp_path / "runs" / "scenes_quick" / "neural_process_seed0"
    stored = json.loads((run / "config.json").read_text())["metadata"]["data"]["root"]
    assert stored == os.path.join("..", "data")
    moved = tmp_path / "moved"
    (tmp_path / "runs").rename(moved)
    exp = ExperimentConfig.from_run(moved / "scenes_quick" / "neural_process_seed0")
    assert Path(exp.data.root) == (moved / "scenes_quick" / "data").resolve()


# --------------------------------------------------------------------------------------------
# The harness, the recipes file and the "the paper vs gen_pyg" tables
# --------------------------------------------------------------------------------------------
def test_every_script_uses_the_harness_and_keeps_no_copy_of_it() -> None:
    """Threads, result paths, git commit, load and the record header come from _harness; no
    script imports another script's helpers. Every script of ``benchmarks/``, also those too slow
    for ``run_all`` (layer_speed compiles for minutes)."""
    scripts = [p.stem for p in BENCHMARKS.glob("*.py")
               if not p.stem.startswith("_") and p.stem not in ("run_all", "tables")]
    assert set(Path(s).stem for s in _scripts()) <= set(scripts)
    own_copies = ("GEN_PYG_BENCH_RESULTS", "set_num_threads", "getloadavg", "rev-parse",
                  "import poisson_square", "from poisson_square", "_common")
    for stem in scripts:
        text = (BENCHMARKS / f"{stem}.py").read_text()
        assert "import _harness as " in text, stem
        assert ".header(" in text and ".write_record(" in text, stem
        found = [c for c in own_copies if c in text]
        assert not found, (stem, found)


def _imported_modules(source: str) -> set[str]:
    """The top-level names of every module a source imports, function-local imports too."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_benchmark_imports_another_script() -> None:
    """A script imports the shared helpers (``_harness``, ``_poisson``, ``_recipes``, ...)
    only: what two scripts share lives in an underscore module, and a script that needs
    another one's record runs it (``_harness.run_script``)."""
    scripts = {p.stem for p in BENCHMARKS.glob("*.py") if not p.stem.startswith("_")}
    offenders = {p.name: sorted(_imported_modules(p.read_text()) & scripts)
                 for p in sorted(BENCHMARKS.glob("*.py"))}
    assert not {k: v for k, v in offenders.items() if v}, offenders
    # the scanner sees plain, from- and function-local imports, and leaves the helpers alone
    assert _imported_modules("import a.b\nfrom c.d import e\ndef f():\n    from g import h\n"
                             "from . import x\n") == {"a", "c", "g"}


def test_harness_summaries_worked_by_hand() -> None:
    h = _load_benchmark("_harness")
    # MSEs 0.01 and 0.04: RMSEs 0.1 and 0.2; sample std of two values is |a - b| / sqrt(2)
    s = h.summarise_mse([{"test_mse": {"7x7": 0.01}}, {"test_mse": {"7x7": 0.04}}])["7x7"]
    assert s["mse_mean"] == pytest.approx(0.025)
    assert s["mse_std"] == pytest.approx(0.03 / math.sqrt(2))
    assert s["rmse_mean"] == pytest.approx(0.15)
    assert s["rmse_std"] == pytest.approx(0.1 / math.sqrt(2))
    assert h.mean_std([3.0]) == (3.0, 0.0)
    with pytest.raises(ValueError, match="values"):
        h.mean_std([])
    assert h.without(["--quick", "--seeds", "0", "1", "--jobs", "2"], "--seeds") == [
        "--quick", "--jobs", "2"]


def test_harness_names_quick_records_apart(tmp_path: Path) -> None:
    h = _load_benchmark("_harness")
    parser = h.parser("doc", name="bench", seeds=[0, 1])
    assert h.result_name(parser.parse_args([])) == "bench"
    assert h.result_name(parser.parse_args(["--quick"])) == "bench_quick"
    # a chosen name is kept as it is: the user asked for it
    assert h.result_name(parser.parse_args(["--quick", "--name", "mine"])) == "mine"
    args = parser.parse_args(["--out", str(tmp_path), "--seeds", "3"])
    assert args.seeds == [3] and h.out_dir(args) == tmp_path
    record = h.header("bench.py", ["--seeds", "3"], quick=False, seeds=args.seeds)
    assert record["command"] == "python benchmarks/bench.py --seeds 3"
    assert record["seeds"] == [3] and record["quick"] is False
    path = h.write_record("bench", record, tmp_path)
    assert json.loads(path.read_text())["finished"] >= record["started"]
    with pytest.raises(ValueError, match="threads"):
        h.set_threads(0)


#: TrainConfig fields added after some records were written, with the value the older runs used
_ADDED_TRAIN = {"warmup_steps": 0, "precision": "fp32", "extra_rounds": 0, "beta2": 0.999,
                "mesh_jitter": 0.0}


def _recorded_epochs(command: str) -> int | None:
    words = command.split()
    return int(words[words.index("--epochs") + 1]) if "--epochs" in words else None


#: model fields added after some records were written, at the value that built their models
_ADDED_MODEL = {"encoder_aggr": "sum", "relative_pos": False, "encoder_hidden_channels": 48,
                "decoder_hidden_channels": 32, "norm": "post", "recall": False,
                "geometry": "absolute", "multilevel_rounds": None, "multilevel_coarsest": 4,
                "multilevel_encode": "every", "multilevel_share_processor": True,
                "multilevel_supervise": False, "multilevel_supervise_finest": None,
                "encoder_kernel": None, "processor_radius": None, "decoder_kernel": None,
                "processor_stencil": None}
#: recipes whose records stay as history though the recipe left the table, and why
_RETIRED = {"bilinear_offset": "InputOffset (predicting relative to the wall temperature) lost "
                               "and left the package"}


def test_every_committed_recipe_resolves_to_its_recorded_settings() -> None:
    """The recipes moved from Python to recipes.toml: every recipe a committed record names
    resolves, to the model and training settings that record was trained with."""
    recipes = _load_benchmark("_recipes").recipes()
    checked = 0
    for path in sorted([*COMMITTED.glob("poisson_square*.json"),
                        *COMMITTED.glob("size_screen*.json")]):
        record = json.loads(path.read_text())
        epochs = _recorded_epochs(record["command"])
        for name, rec in record["recipes"].items():
            if name in _RETIRED:
                assert name not in recipes, (path.name, name)
                continue
            assert name in recipes, (path.name, name)
            model = dataclasses.asdict(recipes[name].model)
            train = recipes[name].train.to_dict()
            if epochs is not None:  # the command overrode every recipe's epochs
                train["epochs"] = epochs
            saved_model = {**_ADDED_MODEL, **rec["model"]}
            assert saved_model.pop("offset_function", None) is None
            assert saved_model == model, (path.name, name)
            assert {**_ADDED_TRAIN, **rec["train"]} == {**train, "seed": rec["train"]["seed"]}, (
                path.name, name)
            assert rec["what"] == recipes[name].what, (path.name, name)
            checked += 1
        np_model = {**_ADDED_MODEL, **record["neural_process"]["model"]}
        np_model.pop("offset_function", None)
        assert np_model == dataclasses.asdict(_load_benchmark("_recipes").baseline().model)
    assert checked >= 15


def test_recipes_file_adds_recipes_and_names_bad_keys(tmp_path: Path) -> None:
    r = _load_benchmark("_recipes")
    mine = tmp_path / "mine.toml"
    mine.write_text('[recipes.narrow]\nwhat = "demo with 16 latent channels"\n'
                    'model = { latent_channels = 16 }\ntrain = { epochs = 5 }\n')
    table = r.recipes(mine)
    # overrides on top of the built-in defaults (the demo's recipe), the rest untouched
    assert table["narrow"].model.latent_channels == 16
    assert table["narrow"].model.representation == table["demo"].model.representation
    assert table["narrow"].train.epochs == 5 and table["narrow"].train.schedule == "cosine"
    assert "bilinear" in table
    bad = {
        '[recipes.x]\nwhat = "x"\nmodel = { latent_chanels = 16 }\n':
            r"recipes\.x\.model\.latent_chanels",
        '[recipes.x]\nwhat = "x"\ntrain = { epochs = "ten" }\n': r"recipes\.x\.train\.epochs",
        '[recipes.x]\nwhat = "x"\ntrain = { progress = 1 }\n': r"recipes\.x\.train\.progress",
        '[recipes.x]\nmodel = { k = 4 }\n': r"recipes\.x\.what",
        '[recipes.x]\nwhat = "x"\nmodle = { k = 4 }\n': r"recipes\.x\.modle",
        '[recipes.x]\nwhat = "x"\ntrain = { epochs = 0 }\n': r"recipes\.x.*epochs",
        '[recipes.demo]\nwhat = "another demo"\n': r"recipes\.demo exists already",
        '[recipe.x]\nwhat = "x"\n': "recipe",
        'not toml = = 1\n': "not valid TOML",
    }
    for text, match in bad.items():
        mine.write_text(text)
        with pytest.raises(ValueError, match=match):
            r.recipes(mine)


def test_recipes_resolve_as_before_they_could_extend() -> None:
    """``extends`` removed the repeated lines of recipes.toml, not a setting: every recipe,
    and the baseline, resolves to what the file resolved to before recipes could extend
    (``tests/data/recipes_before_extends.json``: that file's tables, every field written out),
    the same what, model and training settings."""
    r = _load_benchmark("_recipes")
    before = json.loads((ROOT / "tests" / "data" / "recipes_before_extends.json").read_text())
    assert not any("extends" in table for table in before["recipes"].values())
    old_baseline, old = r.parse(before, "recipes_before_extends.json")
    new_baseline, new = r.load(r.RECIPES_FILE)
    # recipes added since are appended; the old ones keep their order
    assert list(new)[:len(old)] == list(old)
    for name in old:
        assert new[name] == old[name], name
    assert new_baseline == old_baseline
    # the point of it: most recipes now say only what they change
    assert sum(line.startswith("extends = ") for line in
               r.RECIPES_FILE.read_text().splitlines()) >= 30


def test_recipes_extend_and_refuse_cycles_and_unknown_parents(tmp_path: Path) -> None:
    r = _load_benchmark("_recipes")
    mine = tmp_path / "mine.toml"
    # a user's recipe extends a built-in one and its own; the child's fields win
    mine.write_text('[recipes.rel_narrow]\nextends = "bilinear_relative_long"\n'
                    'what = "narrow"\nmodel = { latent_channels = 16 }\n'
                    '[recipes.rel_narrow_short]\nextends = "rel_narrow"\nwhat = "short"\n'
                    'train = { epochs = 5 }\n')
    table = r.recipes(mine)
    parent, child = table["bilinear_relative_long"], table["rel_narrow_short"]
    assert child.model == dataclasses.replace(parent.model, latent_channels=16)
    assert child.train == dataclasses.replace(parent.train, epochs=5)
    assert child.what == "short"
    bad = {
        '[recipes.x]\nextends = "nope"\nwhat = "x"\n': r"recipes\.x\.extends: unknown recipe 'no",
        '[recipes.x]\nextends = 3\nwhat = "x"\n': r"recipes\.x\.extends: unknown recipe 3",
        '[recipes.x]\nextends = "x"\nwhat = "x"\n': r"cycle \(x -> x\)",
        '[recipes.a]\nextends = "b"\nwhat = "a"\n[recipes.b]\nextends = "c"\nwhat = "b"\n'
        '[recipes.c]\nextends = "b"\nwhat = "c"\n': r"cycle \(b -> c -> b\)",
        '[baseline]\nextends = "demo"\nwhat = "np"\n': r"baseline\.extends",
        '[recipes.x]\nextends = "demo"\nwhat = "x"\nmodel = { latent_chanels = 16 }\n':
            r"recipes\.x\.model\.latent_chanels",
    }
    for text, match in bad.items():
        mine.write_text(text)
        with pytest.raises(ValueError, match=match):
            r.recipes(mine)


def test_poisson_square_refuses_an_unknown_recipe_by_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    ps = _load_benchmark("poisson_square")
    with pytest.raises(SystemExit):
        ps.main(["--quick", "--recipes", "no_such_recipe"])
    assert "no_such_recipe" in capsys.readouterr().err


def test_paper_tables_say_not_yet_measured_with_the_command() -> None:
    tables = _load_benchmark("tables")
    for experiment, command in tables.COMMANDS.items():
        text = tables.paper_table(experiment, {})
        assert "not yet measured" in text and command in text, experiment
    # the paper's own numbers stay next to gen_pyg's once a record exists
    record = {"command": "python benchmarks/pushing.py", "git_commit": "0123456789abcdef",
              "summary": {"gen": {"mse_mean": 0.05, "mse_std": 0.001},
                          "neural_process": {"mse_mean": 0.08, "mse_std": 0.004}},
              "equal_steps": {"gen": {"position_mse_mean": 0.04, "position_mse_std": 0.002,
                                      "ratio_to_np": 0.25}}}
    text = tables.paper_table("pushing", {"pushing_plateau": record})
    assert "0.045 ± 0.002" in text and "0.078 ± 0.006" in text
    assert "0.050 ± 0.001" in text and "0.080 ± 0.004" in text and "0.62" in text
    assert "0.040 ± 0.002" in text and "0.25" in text  # the equal-steps row
    assert "``0123456789``" in text and "python benchmarks/pushing.py" in text


def test_results_tables_hold_at_most_five_rows_each_from_a_committed_record(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tables = _load_benchmark("tables")
    assert list(tables.RESULTS) == list(tables.EXPERIMENTS) == list(tables.COMMANDS)
    for experiment, rows in tables.RESULTS.items():
        assert 0 < len(rows) <= tables.MAX_ROWS, experiment
        for row in rows:
            assert row.record is None or (COMMITTED / f"{row.record}.json").exists(), row
        text = (ROOT / "docs" / "tables" / f"paper_{experiment}.rst").read_text()
        body = text.split("\n\n")[2].splitlines()  # caption, then the table
        assert len(body) - 4 == len(rows), experiment  # rules and header
        assert "not yet measured" not in text and "Reproduce:" in text, experiment
    monkeypatch.setitem(tables.RESULTS, "scenes", [tables.RESULTS["scenes"][0]] * 6)
    with pytest.raises(ValueError, match="at most 5"):
        tables.paper_table("scenes", {})


def test_results_page_starts_with_the_paper_tables_and_names_no_issue_targets() -> None:
    page = (ROOT / "docs" / "benchmarks.rst").read_text()
    lines = page.splitlines()
    includes = [line.split("tables/")[1] for line in lines
                if line.startswith(".. include:: tables/")]
    paper = sorted(p.name for p in (ROOT / "docs" / "tables").glob("paper_*.rst"))
    assert len(paper) == 7 and includes == [
        "paper_poisson_square.rst", "paper_poisson_sphere.rst", "paper_node_optimization.rst",
        "paper_size_generalization.rst", "paper_pushing.rst", "paper_scenes.rst",
        "paper_speed.rst"]
    # the page opens with them: each table under its heading, a figure and a paragraph after
    first_section = next(i for i, line in enumerate(lines) if set(line) == {"-"}) - 1
    assert lines[first_section] == "Poisson on a square (figure 2)"
    for name in includes:
        i = lines.index(f".. include:: tables/{name}")
        after = [line for line in lines[i + 1:i + 8] if line.strip()]
        assert after[0].startswith(".. image:: ") and not after[2].startswith(".."), name
    # the history and the internal measurements are not in the user's table of contents
    index = (ROOT / "docs" / "index.rst").read_text()
    assert "benchmark_history" not in index and "measurements" not in index
    assert (ROOT / "docs" / "development.rst").read_text().startswith(":orphan:")
    for path in (ROOT / "docs" / "benchmarks.rst", ROOT / "docs" / "benchmark_history.rst",
                 ROOT / "docs" / "measurements.rst", *(ROOT / "docs" / "tables").glob("*.rst")):
        text = path.read_text().lower()
        assert "not met" not in text and "target met" not in text, path.name


def test_size_profile_shared_nodes(tmp_path: Path, one_thread: None) -> None:
    """``--shared-with``: with the kernel encoder, the 5x5 and 3x3 grids' encodings agree
    exactly on the nodes they share (round 0), the bilinear encoder's do not; a model whose
    rounds follow the mesh is refused."""
    import torch

    from gen_pyg.datasets import PoissonSquare
    from gen_pyg.mesh import grid
    from gen_pyg.nn import GEN
    from gen_pyg.training import ModelConfig, TrainConfig, Trainer

    sp = _load_benchmark("size_profile")
    assert sp.shared_nodes(5, 3).tolist() == [0, 2, 4, 10, 12, 14, 20, 22, 24]
    test = PoissonSquare(str(tmp_path), split="test", num_houses=2, num_test_houses=1, n=21,
                         log=False)
    torch.manual_seed(0)
    rows = {}
    for name, kwargs in (("kernel", {"encoder_kernel": 0.2, "processor_radius": 0.6}),
                         ("bilinear", {})):
        model = ModelConfig(representation="bilinear", num_steps=2, aggr="mean",
                            **kwargs).build_gen(in_channels=[1, 1]).eval()
        trainer = Trainer(model, test, meshes=grid(2), config=TrainConfig(progress=False))
        rows[name] = sp.shared_profile(model, trainer, trainer._train_groups[:1], 5, 3)
    kernel, bilinear = rows["kernel"], rows["bilinear"]
    assert kernel["relative_state_difference_after_round"][0] == 0.0
    assert bilinear["relative_state_difference_after_round"][0] > 0.1
    assert all(_number(v) for v in kernel["mse"].values()) and kernel["rounds"] == 2
    diameter_model = GEN.paper(in_channels=[1, 1], representation="bilinear").eval()
    trainer = Trainer(diameter_model, test, meshes=grid(2), config=TrainConfig(progress=False))
    with pytest.raises(ValueError, match="fixed number of rounds"):
        sp.shared_profile(diameter_model, trainer, trainer._train_groups[:1], 5, 3)


def test_harness_lists_uncommitted_code_changes(tmp_path: Path) -> None:
    """A record names the code files that differed from its commit: a changed tracked file
    under src/ or benchmarks/ is listed, a record, a doc and an untracked file are not."""
    h = _load_benchmark("_harness")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    for path in ("src/pkg/a.py", "benchmarks/b.py", "benchmarks/results/r.json", "docs/d.rst"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x = 1\n")
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    assert h.git_changes(tmp_path / "benchmarks") == []
    for path in ("src/pkg/a.py", "benchmarks/results/r.json", "docs/d.rst"):
        (tmp_path / path).write_text("x = 2\n")
    (tmp_path / "benchmarks" / "new.py").write_text("y = 1\n")
    assert h.git_changes(tmp_path / "benchmarks") == ["src/pkg/a.py"]
    plain = tmp_path.parent / f"{tmp_path.name}-no-repository"
    plain.mkdir()
    assert h.git_changes(plain) is None
    assert "uncommitted_changes" in h.header("x.py", [], quick=True)
