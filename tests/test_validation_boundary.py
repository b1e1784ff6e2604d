"""Every bad input gets a clear error at the public boundary (issue #12): one test per class of
defect, each message naming the public argument, what was expected and what was received."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch_geometric.data import Batch, Data

import gen_pyg
from gen_pyg.datasets import PoissonSphere, PoissonSquare
from gen_pyg.mesh import LearnableMesh, grid, halton, icosphere, sphere_latlong
from gen_pyg.nn import (
    GEN,
    Barycentric,
    Bilinear,
    ElementConv,
    ElementProcessor,
    NeuralProcess,
    PointDecoder,
    PointEncoder,
    SoftNearest,
    SpatialDecoder,
    SpatialEncoder,
)
from gen_pyg.nn._checks import MAX_STEPS

SRC = Path(__file__).resolve().parents[1] / "src"


def _data(dtype: torch.dtype = torch.float32) -> Data:
    g = torch.Generator().manual_seed(0)
    mesh = grid(3, dtype=dtype)
    return Data(
        pos=mesh.pos, edge_index=mesh.edge_index, num_nodes=mesh.num_nodes,
        diameter=mesh.diameter,
        input_pos=torch.rand(6, 2, generator=g, dtype=dtype),
        input_x=torch.rand(6, 1, generator=g, dtype=dtype),
        query_pos=torch.rand(4, 2, generator=g, dtype=dtype),
    )


def _model(kind: str) -> torch.nn.Module:
    return GEN.paper(latent_channels=8) if kind == "gen" else NeuralProcess(latent_channels=8)


# ------------------------------------------------------------------ values
@pytest.mark.parametrize("kind", ["gen", "neural_process"])
@pytest.mark.parametrize("key", ["input_x", "input_pos", "query_pos", "pos"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("checks", [True, False])
def test_non_finite_values_are_named_unless_value_checks_are_off(
    kind: str, key: str, bad: float, checks: bool
) -> None:
    if kind == "neural_process" and key == "pos":
        pytest.skip("the Neural Process has no mesh")
    data, model = _data(), _model(kind)
    data[key][2, 0] = bad
    with gen_pyg.value_checks(checks):
        assert gen_pyg.value_checks_enabled() is checks
        if checks:
            with pytest.raises(ValueError, match=rf"data\.{key} contains NaN or infinite values, "
                                                 rf"first data\.{key}\[2, 0\] = {bad}"):
                model(data)
        else:
            out = model(data)  # no scan: the value flows through
            assert out.shape == (4, 1)
    assert gen_pyg.value_checks_enabled() is True


def test_value_check_switch() -> None:
    gen_pyg.set_value_checks(False)
    try:
        assert not gen_pyg.value_checks_enabled()
        with gen_pyg.value_checks(True):
            assert gen_pyg.value_checks_enabled()
        assert not gen_pyg.value_checks_enabled()
    finally:
        gen_pyg.set_value_checks(True)
    with pytest.raises(TypeError, match="enabled must be a bool"):
        gen_pyg.set_value_checks("no")  # type: ignore[arg-type]


# ------------------------------------------------------------------ dtype mixes
@pytest.mark.parametrize(
    ("kind", "model_dtype", "data_dtype", "hint"),
    [
        ("gen", torch.float32, torch.float64, r"model\.double\(\) or the data with \.float\(\)"),
        ("gen", torch.float64, torch.float32, r"model\.float\(\) or the data with \.double\(\)"),
        ("neural_process", torch.float32, torch.float64, r"model\.double\(\)"),
        ("neural_process", torch.float64, torch.float32, r"model\.float\(\)"),
        ("conv", torch.float32, torch.float64, r"model\.double\(\)"),
    ],
)
def test_dtype_mixes_name_the_tensor_and_the_fix(
    kind: str, model_dtype: torch.dtype, data_dtype: torch.dtype, hint: str
) -> None:
    if kind == "conv":
        conv = ElementConv(4).to(model_dtype)
        with pytest.raises(TypeError, match=rf"x has dtype {data_dtype} but the model's "
                                            rf"parameters are {model_dtype}; .*{hint}"):
            conv(torch.randn(3, 4, dtype=data_dtype), torch.tensor([[0, 1], [1, 2]]),
                 pos=torch.rand(3, 2, dtype=data_dtype))
        return
    model = _model(kind).to(model_dtype)
    with pytest.raises(TypeError, match=rf"data\.(pos|input_pos) has dtype {data_dtype} but "
                                        rf"the model's parameters are {model_dtype}; .*{hint}"):
        model(_data(data_dtype))
    # one tensor of another dtype is named too
    data = _data(model_dtype)
    data.input_x = data.input_x.to(data_dtype)
    with pytest.raises(TypeError, match=r"data\.input_x has dtype"):
        model(data)


# ------------------------------------------------------------------ layers used alone
P, N = 3, 4
POINTS = torch.tensor([[0.1, 0.1], [0.5, 0.5], [0.9, 0.2]])
NODES = grid(2).pos
EDGES = torch.tensor([[0, 1, 2], [1, 2, 3]])
TRIANGLE = Data(pos=torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
                face=torch.tensor([[0], [1], [2]]))
FLAT = Data(pos=torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]),
            face=torch.tensor([[0], [1], [2]]))
LAYER_CASES: dict[str, tuple[Callable[[], Any], type[Exception], str]] = {
    "encoder extra rows of x": (
        lambda: SpatialEncoder()(torch.randn(P + 1, 2), POINTS, NODES),
        ValueError, r"x must have shape \[3, F\] \(one row per point of point_pos\), got \(4, 2\)"),
    "decoder extra rows of x": (
        lambda: SpatialDecoder()(torch.randn(N + 2, 2), NODES, POINTS),
        ValueError, r"x must have shape \[4, F\] \(one row per node of node_pos\), got \(6, 2\)"),
    "encoder x of another dtype": (
        lambda: SpatialEncoder()(torch.randn(P, 2, dtype=torch.float64), POINTS, NODES),
        TypeError, r"x has dtype torch\.float64 but point_pos has torch\.float32"),
    "decoder names query_batch": (
        lambda: SpatialDecoder()(torch.randn(N, 2), NODES, POINTS, None, torch.tensor([0, 0])),
        ValueError, r"query_batch must have shape \[3\], got shape \(2,\)"),
    "ElementConv channels": (
        lambda: ElementConv(4)(torch.randn(N, 5), EDGES, pos=NODES),
        ValueError, r"x must have shape \[N, 4\] \(4 channels, as constructed\), got \(4, 5\)"),
    # the conv trusts its indices, as PyG's layers do: the model's entry point checks them
    "GEN edge_index past the last node": (
        lambda: GEN.paper(latent_channels=8)(torch.randn(P, 1), POINTS, NODES,
                                       torch.tensor([[0, 1, 4], [1, 2, 0]]), POINTS),
        ValueError, r"edge_index refers to nodes outside 0\.\.3 \(pos has 4 rows\), first "
                    r"edge_index\[:, 2\] = \[4, 0\]"),
    "GEN negative edge_index": (
        lambda: GEN.paper(latent_channels=8)(torch.randn(P, 1), POINTS, NODES,
                                       torch.tensor([[0, -1], [1, 2]]), POINTS),
        ValueError, r"first edge_index\[:, 1\] = \[-1, 2\]"),
    "GEN NaN query_pos": (
        lambda: GEN.paper(latent_channels=8)(torch.randn(P, 1), POINTS, NODES, EDGES,
                                       POINTS.clone().fill_(math.nan)),
        ValueError, r"query_pos contains NaN or infinite values, first query_pos\[0, 0\]"),
    "GEN unsorted batch": (
        lambda: GEN.paper(latent_channels=8)(torch.randn(P, 1), POINTS, NODES, EDGES, POINTS,
                                       input_batch=torch.tensor([0, 0, 1]),
                                       batch=torch.tensor([0, 1, 0, 1])),
        ValueError, r"batch must be sorted"),
    "ElementConv pos of another dtype": (
        lambda: ElementConv(4)(torch.randn(N, 4), EDGES, pos=NODES.double()),
        TypeError, r"pos has dtype torch\.float64 but x has torch\.float32"),
    "sparse soft nearest names node_pos, not y": (
        lambda: SoftNearest(k=2)(POINTS, torch.rand(N, 3)),
        ValueError, r"node_pos must have 2 coordinates per point, got 3"),
    "sparse soft nearest names point_pos, not y": (
        lambda: SoftNearest(k=2)(POINTS.clone().fill_(math.nan), NODES),
        ValueError, r"point_pos contains NaN or infinite values, first point_pos\[0, 0\]"),
    "unsorted point_batch": (
        lambda: SoftNearest(k=2)(POINTS, NODES, torch.tensor([1, 0, 0])),
        ValueError, r"point_batch must be sorted"),
    "an example without nodes": (
        lambda: SoftNearest()(POINTS, NODES, torch.tensor([0, 0, 1]), torch.zeros(N).long()),
        ValueError, r"example 1 has points in point_pos but no nodes in node_pos"),
    "no nodes at all": (
        lambda: SoftNearest(k=3)(POINTS, torch.zeros(0, 2)),
        ValueError, r"node_pos has no nodes but point_pos has 3 point\(s\)"),
    "barycentric on an example without nodes": (
        lambda: Barycentric()(POINTS, TRIANGLE.pos, torch.tensor([0, 1, 1]), mesh=TRIANGLE),
        ValueError, r"example 1 has points in point_pos but no nodes"),
    "degenerate triangle": (
        lambda: Barycentric()(POINTS, FLAT.pos, mesh=FLAT),
        ValueError, r"mesh\.face\[:, 0\] = \[0, 1, 2\] is a degenerate simplex \(zero volume"),
    "repeated vertex": (
        lambda: Barycentric()(POINTS, TRIANGLE.pos,
                              mesh=Data(pos=TRIANGLE.pos, face=torch.tensor([[0], [1], [1]]))),
        ValueError, r"degenerate simplex"),
    "face past the last node": (
        lambda: Barycentric()(POINTS, TRIANGLE.pos,
                              mesh=Data(pos=TRIANGLE.pos, face=torch.tensor([[0], [1], [3]]))),
        ValueError, r"mesh\.face refers to nodes outside 0\.\.2 .*first mesh\.face\[:, 0\]"),
    "float faces": (
        lambda: Barycentric()(POINTS, TRIANGLE.pos,
                              mesh=Data(pos=TRIANGLE.pos, face=TRIANGLE.face.float())),
        TypeError, r"mesh\.face must hold integer node indices"),
    "bilinear grid_lo shape": (
        lambda: Bilinear()(POINTS, NODES, mesh=Data(pos=NODES, grid_shape=torch.tensor([[2, 2]]),
                                                    grid_lo=torch.zeros(1, 3),
                                                    grid_hi=torch.ones(1, 2))),
        ValueError, r"mesh\.grid_lo must have shape \[num_examples, 2\], got \(1, 3\)"),
    "geodesic zero vector": (
        lambda: SoftNearest(metric="geodesic")(torch.zeros(1, 3), icosphere(0).pos),
        ValueError, r"point_pos\[0\] has norm 0, not on the unit sphere"),
    "geodesic point off the sphere": (
        lambda: SoftNearest(metric="geodesic")(torch.tensor([[0.0, 0.0, 2.0]]), icosphere(0).pos),
        ValueError, r"point_pos\[0\] has norm 2, not on the unit sphere"),
}


@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_layers_used_alone_name_their_arguments(case: str) -> None:
    call, error, match = LAYER_CASES[case]
    with pytest.raises(error, match=match) as info:
        call()
    assert not type(info.value).__module__.startswith("torch")
    assert not re.search(r"\by\b|batch_y", str(info.value)), "names an internal variable"


# ------------------------------------------------------------------ constructor arguments
CONSTRUCTOR_CASES: list[tuple[Callable[[], Any], str]] = [
    (lambda: ElementConv(4, aggr="foo"),
     r"aggr must be one of PyG's aggregations .*got aggr='foo'"),
    (lambda: ElementConv(0), r"channels must be at least 1, got 0"),
    (lambda: ElementConv(4, message_channels=-2), r"message_channels must be at least 1"),
    (lambda: ElementConv(4, backend="cuda"), r"backend must be one of"),
    (lambda: ElementProcessor(aggr="foo"), r"aggr must be one of PyG's aggregations"),
    (lambda: GEN.paper(latent_channels=0), r"latent_channels must be at least 1, got 0"),
    (lambda: ElementProcessor(message_channels=-1),
     r"message_channels must be at least 1, got -1"),
    (lambda: PointEncoder(hidden_channels=0), r"hidden_channels must be at least 1"),

    (lambda: GEN.paper(in_channels=0), r"in_channels must be at least 1, got 0"),
    (lambda: ElementProcessor(backend="fast"), r"backend must be one of"),
    (lambda: ElementProcessor(backend="fused", aggr="max"), r"backend='fused' needs aggr"),
    (lambda: GEN.paper(num_steps=-1), r"num_steps must be in \[0, 10000\]"),
    (lambda: GEN.paper(num_steps=MAX_STEPS + 1), r"num_steps must be in \[0, 10000\].*got 10001"),
    (lambda: GEN.paper(representation="nope"), r"representation must be one of"),
    (lambda: ElementProcessor(norm="yes"),
     r"norm must be one of \('post', 'pre', 'none'\), got 'yes'"),
    (lambda: NeuralProcess(latent_channels=0), r"latent_channels must be at least 1"),
    (lambda: NeuralProcess(pos_dim=0), r"pos_dim must be at least 1"),
    (lambda: NeuralProcess(aggr="max"), r"aggr must be one of \('mean', 'sum'\)"),
    (lambda: SpatialEncoder(aggr="foo"), r"aggr must be one of PyG's aggregations"),
    (lambda: SpatialEncoder(representation="nope"), r"representation must be one of"),
    (lambda: SpatialDecoder(backend="gpu"), r"backend must be one of"),
    (lambda: SoftNearest(k=0), r"k must be at least 1, got 0"),
]


@pytest.mark.parametrize(("build", "match"), CONSTRUCTOR_CASES)
def test_constructor_arguments_in_public_terms(build: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: PointDecoder(hidden_channels=2.5), r"hidden_channels must be an int, "
                                                   r"got float"),
        (lambda: GEN.paper(latent_channels=True), r"latent_channels must be an int, got bool"),
        (lambda: ElementConv(4, edge_dim=1.0), r"edge_dim must be an int, got float"),
        (lambda: SoftNearest(k=True), r"k must be an int, got bool"),
        (lambda: GEN.paper(in_channels=[1, 2.0]), r"in_channels\[1\] must be an int, got float"),
    ],
)
def test_one_integer_rule_everywhere(build: Callable[[], Any], match: str) -> None:
    # one checker (gen_pyg._validation.check_int): TypeError for another type, bools included
    with pytest.raises(TypeError, match=match):
        build()


# ------------------------------------------------------------------ LearnableMesh checkpoints
def _outside(pos: torch.Tensor) -> torch.Tensor:
    pos = pos.clone()
    pos[1, 0] = 1.5
    return pos


def _nan(pos: torch.Tensor) -> torch.Tensor:
    pos = pos.clone()
    pos[2, 1] = math.nan
    return pos


@pytest.mark.parametrize(
    ("domain", "corrupt", "error", "match"),
    [
        ("box", _outside, ValueError, r"state_dict\['pos'\]: pos has 1 node\(s\) outside the "
                                      r"domain box.*the mesh is unchanged"),
        ("box", _nan, ValueError, r"state_dict\['pos'\] contains NaN or infinite values, first "
                                  r"state_dict\['pos'\]\[2, 1\] = nan"),
        ("sphere", lambda p: p * 2, ValueError, r"off the unit sphere"),
        ("box", lambda p: p[:-1], ValueError, r"state_dict\['pos'\] has shape \(3, 2\) but "
                                              r"this mesh's positions have shape \(4, 2\)"),
        ("box", lambda p: p.long(), TypeError, r"must be a floating-point tensor"),
    ],
)
def test_learnable_mesh_rejects_bad_checkpoints_and_is_unchanged(
    domain: str, corrupt: Callable[[torch.Tensor], torch.Tensor], error: type[Exception],
    match: str,
) -> None:
    mesh = LearnableMesh(grid(2).pos if domain == "box" else icosphere(0).pos, domain=domain)
    before = mesh.data()
    pos, edges = mesh.pos.detach().clone(), before.edge_index.clone()
    with pytest.raises(error, match=match):
        mesh.load_state_dict({"pos": corrupt(mesh.pos.detach())})
    assert torch.equal(mesh.pos.detach(), pos)
    assert torch.equal(mesh.data().edge_index, edges)
    # a good checkpoint still loads
    mesh.load_state_dict({"pos": pos})


# ------------------------------------------------------------------ silent empties, runaways
def _gen_with(**attrs: Any) -> Callable[[], Any]:
    def call() -> Any:
        data = _data()
        for key, value in attrs.items():
            data[key] = value
        return GEN.paper(latent_channels=8)(data)

    return call


EMPTY_CASES: dict[str, tuple[Callable[[Path], Any], str]] = {
    "houses=[]": (lambda root: PoissonSquare(root, split="all", houses=[], num_houses=3),
                  r"'houses' must select at least one house"),
    "test split of all houses leaves no train house": (
        lambda root: PoissonSquare(root, split="train", num_houses=3, num_test_houses=3),
        r"split='train' would select no house: 'num_test_houses' \+ 'num_val_houses' = 3 "
        r"takes all 'num_houses' = 3"),
    "empty test split": (
        lambda root: PoissonSquare(root, split="test", num_houses=4),
        r"split='test' would select no house: 'num_test_houses' is 0 \(None: a fifth"),
    "empty val split": (lambda root: PoissonSphere(root, split="val", num_houses=4),
                        r"split='val' would select no house: 'num_val_houses' is 0"),
    "negative diameter": (lambda root: _gen_with(diameter=torch.tensor([-3]))(),
                          r"data\.diameter gives -3 message-passing rounds, outside \[0, 10000\]"),
    "absurd diameter": (lambda root: _gen_with(diameter=torch.tensor([10**9]))(),
                        r"data\.diameter gives 1000000000 message-passing rounds"),
    "fractional diameter": (lambda root: _gen_with(diameter=torch.tensor([2.5]))(),
                            r"data\.diameter must hold whole numbers"),
    "process num_steps": (lambda root: GEN().process(torch.zeros(9, 32), _data(), num_steps=-1),
                          r"num_steps must be in \[0, 10000\]"),
    "an example without inputs": (
        lambda root: GEN.paper(latent_channels=8)(Batch.from_data_list([
            _data(), Data(**{**_data().to_dict(), "input_pos": torch.zeros(0, 2),
                             "input_x": torch.zeros(0, 1)})])),
        r"every example needs at least one of its inputs \(data\.input_pos\); example 1 has "
        r"none"),
    "batch vector past the examples": (
        lambda root: _gen_with(input_pos_batch=torch.tensor([0, 0, 0, 1, 1, 1]))(),
        r"data\.input_pos_batch refers to example 1 but the data holds 1 example\(s\)"),
    "grid too large": (lambda root: grid(10**5, dim=3), r"gives 1000000000000000 nodes, more "
                                                        r"than the limit"),
    "icosphere too fine": (lambda root: icosphere(30), r"level=30 gives .* nodes, more than"),
    "latlong too fine": (lambda root: sphere_latlong(10**6), r"k=1000000 gives .* nodes"),
    "halton too many": (lambda root: halton(10**9), r"n=1000000000 gives"),
    "bounds overflow float32": (lambda root: grid(2, bounds=(0.0, 1e300)),
                                r"bounds \(0\.0, 1e\+300\) overflow dtype torch\.float32"),
}


@pytest.mark.parametrize("case", list(EMPTY_CASES))
def test_silent_empties_and_runaways_are_refused(case: str, tmp_path: Path) -> None:
    call, match = EMPTY_CASES[case]
    root = tmp_path / "data"
    with pytest.raises(ValueError, match=match):
        call(root)
    assert not root.exists() or not any(root.iterdir()), "data was generated before the error"


# ------------------------------------------------------------------ the command line
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "gen_pyg.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300)


#: (arguments, what the message names, run as a subprocess: otherwise through main(), faster)
CLI_CASES: list[tuple[list[str], str, bool]] = [
    (["--epochs", "-1"], "--epochs", True),
    (["--mesh-sizes", "0"], "--mesh-sizes", True),
    (["--steps", "20000"], "--steps", True),
    (["--instances", "3", "--test-instances", "3"], "num_test_instances", True),
    (["--epochs", "0"], "--epochs", False),
    (["--lr", "nan"], "--lr", False),
    (["--log-temperature", "inf"], "--log-temperature", False),
    (["--patience", "2"], "--val-instances", False),
    (["--schedule", "plateau"], "--val-instances", False),
    (["--schedule", "plateau", "--val-instances", "1", "--warmup-steps", "3"], "--warmup-steps",
     False),
    (["--device", "cuda:99"], "--device", False),
    (["--device", "tpu"], "--device", False),
    (["--k", "0"], "--k", False),
]


@pytest.mark.parametrize(("extra", "needle", "subprocess_run"), CLI_CASES)
def test_cli_rejects_bad_values_before_any_work(
    extra: list[str], needle: str, subprocess_run: bool, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gen_pyg.cli import main

    run = tmp_path / "run"
    args = ["train", "--out", str(run), "--quiet", *extra]
    if subprocess_run:
        proc = _cli(*args)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    else:
        try:
            code = main(args)
        except SystemExit as exc:  # argparse's own exit
            code = exc.code  # type: ignore[assignment]
        out, err = capsys.readouterr()
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error" in lines[0] and needle in lines[0], lines[0]
    assert "Traceback" not in err
    assert out == ""
    assert not run.exists(), "the command started working before rejecting its arguments"


def test_the_default_gen_on_two_function_data_names_in_channels() -> None:
    """The package's Poisson data has two input functions; a GEN built for one says which
    argument to set."""
    from torch_geometric.data import Data

    from gen_pyg.mesh import grid
    from gen_pyg.nn import GEN

    mesh = grid(2)
    data = Data(pos=mesh.pos, edge_index=mesh.edge_index, input_pos=torch.rand(4, 2),
                input_x=torch.rand(4, 1), input_fn=torch.tensor([0, 0, 1, 1]),
                query_pos=torch.rand(3, 2))
    with pytest.raises(ValueError, match=r"in_channels=\[1, 1\]"):
        GEN()(data)
    assert GEN.paper(in_channels=[1, 1])(data).shape == (3, 1)
