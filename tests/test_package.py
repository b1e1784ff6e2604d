"""The package imports, reports its environment, and its installed console script runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gen_pyg
from gen_pyg.cli import main
from gen_pyg.ops import neighbors

VERSION_KEYS = ("gen_pyg", "python", "torch", "torch_geometric", "torch_scatter", "torch_cluster")


def test_version_is_semver() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", gen_pyg.__version__)


def test_installed_metadata_matches_version() -> None:
    from importlib import metadata

    assert metadata.version("gen_pyg") == gen_pyg.__version__


def test_environment_report_names_dependencies() -> None:
    report = gen_pyg.environment_report()
    for key in VERSION_KEYS:
        assert key in report
    assert report["torch"] == torch.__version__


def test_installed_torch_cluster_is_the_neighbour_backend() -> None:
    # torch_cluster is a declared dependency. If its compiled extension fails to load (e.g. it
    # was built for another torch), gen_pyg.ops silently falls back to the exact chunked search
    # and the torch_cluster comparisons in tests/ops are skipped: this makes that failure loud.
    assert gen_pyg.environment_report()["torch_cluster"] != "not installed"
    assert neighbors.HAS_TORCH_CLUSTER


def test_cuda_absence_is_reported_not_raised() -> None:
    report = gen_pyg.environment_report()
    if torch.cuda.is_available():
        assert "device" in report["cuda"]
    else:
        assert report["cuda"].startswith("not available")


def test_cli_env_prints_versions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert "torch_geometric" in out and gen_pyg.__version__ in out


def test_cli_rejects_unknown_command() -> None:
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2


def _console_script() -> Path:
    """The ``gen-pyg`` entry point installed next to this interpreter (by ``pip install``)."""
    script = Path(sys.executable).with_name("gen-pyg.exe" if os.name == "nt" else "gen-pyg")
    # not a skip: a missing or broken entry point is exactly what this test exists to catch
    assert script.is_file(), (
        f"the gen-pyg console script is not installed at {script} (install the package, "
        "e.g. `pip install -e .`; `project.scripts` in pyproject.toml declares it)"
    )
    return script


def test_console_script_runs_version_and_env() -> None:
    script = _console_script()
    # each run imports torch and gen_pyg.training (seconds): start both, then wait
    procs = {
        arg: subprocess.Popen([str(script), arg], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        for arg in ("--version", "env")
    }
    results = {arg: (proc, *proc.communicate(timeout=120)) for arg, proc in procs.items()}
    for arg, (proc, _, stderr) in results.items():
        assert proc.returncode == 0, f"gen-pyg {arg} failed: {stderr}"
    assert results["--version"][1] == f"gen_pyg {gen_pyg.__version__}\n"
    printed = dict(line.split(None, 1) for line in results["env"][1].splitlines())
    expected = gen_pyg.environment_report()
    assert printed.keys() == expected.keys()
    for key in VERSION_KEYS:
        assert printed[key] == expected[key], key


#: The public names of each package: a name is added here on purpose, with its docs and tests
#: (``gen_pyg.training`` and ``gen_pyg.datasets`` are pinned with their own tests).
PUBLIC = {
    "gen_pyg": ["__version__", "environment_report", "set_value_checks", "value_checks",
                "value_checks_enabled"],
    "gen_pyg.nn": ["GEN", "Barycentric", "Bilinear", "ElementConv", "ElementProcessor",
                   "GaussianKernel", "GlobalNeuralProcess", "GraphBuilder", "ImageEmbedder",
                   "InteractionConv",
                   "InteractionNetwork", "MultilevelGEN", "NeuralProcess", "PairDecoder",
                   "PairEncoder", "PointDecoder", "PointEncoder", "PoseImageEncoder",
                   "RadiusGraph", "Representation", "SceneRetrieval", "SoftNearest",
                   "SpatialDecoder", "SpatialEncoder", "StencilGraph", "SumReadout",
                   "SymmetryAverage", "ball_stencil", "get_representation", "grid_levels",
                   "node_scales", "register_representation", "representation_names",
                   "unregister_representation"],
    "gen_pyg.nn.conv": ["ElementConv", "InteractionConv", "SpatialDecoder", "SpatialEncoder"],
    "gen_pyg.nn.models": ["GEN", "ElementProcessor", "GlobalNeuralProcess", "ImageEmbedder",
                          "InteractionNetwork",
                          "MultilevelGEN", "NeuralProcess", "PairDecoder", "PairEncoder",
                          "PointDecoder", "PointEncoder", "PoseImageEncoder", "SceneRetrieval",
                          "SumReadout", "SymmetryAverage", "grid_levels"],
    "gen_pyg.mesh": ["AttachMesh", "CurveOrder", "DelaunayEdges", "LearnableMesh",
                     "PositionFit", "RadiusEdges", "build_mesh", "curve_order", "delaunay",
                     "delaunay_edges", "evaluate_positions", "fit_and_evaluate", "fit_positions",
                     "graph_diameter", "grid", "halton", "icosphere", "radius_edges",
                     "radius_mesh", "sphere_latlong", "spherical_delaunay_edges"],
    "gen_pyg.ops": ["euclidean", "geodesic", "get_metric", "knn", "radius", "radius_graph"],
    "gen_pyg.typing": ["Assignment"],
    # the engine: configs, the trainer, the task registry, objectives and augmentations by
    # name (their classes live in gen_pyg.training.objectives / .augment)
    "gen_pyg.training": ["AUGMENTATIONS", "OBJECTIVES", "TASKS", "DataConfig", "EveryLevel",
                         "ExperimentConfig", "MeshJitter", "ModelConfig", "Objective",
                         "RandomRounds",
                         "SquareSymmetry", "Task", "TrainConfig", "Trainer",
                         "TrainingInterrupted", "adapt_positions", "build_datasets",
                         "build_meshes", "build_model", "build_trainer", "cleanup_distributed",
                         "get_objective", "get_task", "init_distributed", "load_checkpoint",
                         "load_model_weights", "register_task"],
    "gen_pyg.tasks": ["POISSON_SPHERE", "POISSON_SQUARE", "PUSHING", "SCENES", "SPRING_MASS"],
    "gen_pyg.testing": ["FOLLOW_BATCH", "assert_batch_equivalence",
                        "assert_compiled_matches_eager", "assert_graph_breaks_at_most",
                        "assert_input_permutation_invariance", "assert_no_graph_breaks",
                        "assert_query_permutation_equivariance", "assignment_to_dense",
                        "count_host_syncs", "make_example"],
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_public_names_are_pinned(package: str) -> None:
    import importlib

    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(PUBLIC[package])
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.__all__ lists {name}, which it lacks"


def test_the_layer_does_not_share_pyg_s_gen_conv_name() -> None:
    import torch_geometric.nn

    import gen_pyg.nn

    assert hasattr(torch_geometric.nn, "GENConv")  # DeeperGCN's layer, another thing
    assert not hasattr(gen_pyg.nn, "GENConv")
    assert not set(gen_pyg.nn.__all__) & set(torch_geometric.nn.__all__)


def test_every_public_name_of_nn_has_a_section_of_the_api_page() -> None:
    """docs/conf.py groups gen_pyg.nn's page by stage; a name no section lists would land
    under "Other"."""
    import ast
    from pathlib import Path

    import gen_pyg.nn

    tree = ast.parse((Path(__file__).resolve().parents[1] / "docs" / "conf.py").read_text())
    sections = next(ast.literal_eval(node.value) for node in ast.walk(tree)
                    if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "")
                    == "SECTIONS")
    listed = [n for _, names in sections["nn"] for n in names]
    assert sorted(listed) == sorted(gen_pyg.nn.__all__)
