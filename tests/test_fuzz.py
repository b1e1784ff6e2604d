"""Fuzzing the public boundary with hypothesis: random shapes, dtypes, sizes (0 and 1 included),
values (NaN, inf, huge, denormal) and index tensors for GEN, NeuralProcess, the spatial layers,
ElementConv, the representation functions and the mesh builders.

The property, for every input: either a ``ValueError``/``TypeError`` whose message names a
public argument, or a result of the documented shape, finite whenever the inputs are finite and
moderate (:data:`BOUND`); never an error from inside torch (``RuntimeError``, ``IndexError``),
never a hang (the profile's deadline). Inputs with huge finite values (``1e30``, which a
network may legitimately overflow) must give an error or any output, without crashing.

Profiles (``tests/conftest.py``): ``ci`` by default, ``--hypothesis-profile=long`` for many more
inputs; :data:`FUZZ_INPUTS` counts the inputs tried per target (reported at the end of the run).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data

import gen_pyg
from gen_pyg.mesh import (
    build_mesh,
    delaunay,
    grid,
    halton,
    icosphere,
    radius_mesh,
    sphere_latlong,
    spherical_delaunay_edges,
)
from gen_pyg.nn import (
    GEN,
    Barycentric,
    Bilinear,
    ElementConv,
    NeuralProcess,
    SoftNearest,
    SpatialDecoder,
    SpatialEncoder,
)
from gen_pyg.nn.representation import check_assignment_inputs

#: Inputs tried per target in this run.
FUZZ_INPUTS: Counter[str] = Counter()

#: Finite inputs at most this large must give finite outputs.
BOUND = 1e6
HUGE = 1e30
SPECIALS = [math.nan, math.inf, -math.inf, HUGE, -HUGE, 1e-40, -1e-45, 0.0, -0.0]
FLOAT_DTYPES = [torch.float32, torch.float64]

moderate = st.floats(-BOUND, BOUND, allow_nan=False, allow_infinity=False, width=32)
unit = st.floats(0.0, 1.0, allow_nan=False, width=32)


def _count(target: str) -> None:
    FUZZ_INPUTS[target] += 1


class Tracker:
    """Builds tensors from hypothesis draws and remembers whether any value is non-finite or
    huge (so the property knows what to expect)."""

    def __init__(self, draw: Callable[..., Any]) -> None:
        self.draw = draw
        self.bad = False  # NaN or inf somewhere
        self.huge = False  # |v| > BOUND somewhere

    def floats(
        self,
        shape: Sequence[int],
        dtype: torch.dtype,
        values: st.SearchStrategy[float] = moderate,
        special: bool = True,
    ) -> torch.Tensor:
        n = math.prod(shape)
        strategy = st.one_of(values, st.sampled_from(SPECIALS)) if special else values
        # mostly clean tensors: a special value in one of four draws
        use_special = special and self.draw(st.integers(0, 3)) == 0
        data = self.draw(st.lists(strategy if use_special else values, min_size=n, max_size=n))
        if dtype.is_floating_point:
            t = torch.tensor(data, dtype=torch.float64).to(dtype).reshape(*shape)
            if t.numel():
                self.bad |= not bool(torch.isfinite(t).all())
                self.huge |= bool((t.abs() > BOUND).any())
        else:
            clean = [0 if not math.isfinite(v) else int(max(-1e6, min(1e6, v))) for v in data]
            t = torch.tensor(clean, dtype=dtype).reshape(*shape)
        return t

    def assess(self, tensors: Any) -> None:
        """Recompute :attr:`bad` and :attr:`huge` from the tensors actually used."""
        self.bad = self.huge = False
        for t in tensors:
            if isinstance(t, torch.Tensor) and t.is_floating_point() and t.numel():
                self.bad |= not bool(torch.isfinite(t).all())
                self.huge |= bool((t.abs() > BOUND).any())

    def index(self, rows: int, cols: int, high: int) -> torch.Tensor:
        """An index tensor, mostly in ``[0, high)``, sometimes out of range or of the wrong
        dtype or shape."""
        kind = self.draw(st.sampled_from(["ok"] * 6 + ["range", "dtype", "shape"]))
        lo, hi = (0, max(high - 1, 0)) if kind != "range" else (-2, high + 2)
        data = self.draw(st.lists(st.integers(lo, hi), min_size=rows * cols,
                                  max_size=rows * cols))
        t = torch.tensor(data, dtype=torch.long).reshape(rows, cols)
        if high == 0 and kind != "range":
            t = t[:, :0]
        if kind == "dtype":
            t = t.to(self.draw(st.sampled_from([torch.int32, torch.float32])))
        if kind == "shape":
            t = t.reshape(-1)
        return t


def _assert_named(exc: Exception, names: Sequence[str]) -> None:
    message = str(exc)
    assert any(name in message for name in names), f"{type(exc).__name__} names no public " \
        f"argument ({names}): {message}"


def _run_model(model: torch.nn.Module, data: Data, t: Tracker, q: int, checks: bool) -> None:
    """A whole model on ``data``: a named error, or ``[q, 1]`` finite output (and no output
    at all from NaN/inf inputs while the value checks are on)."""
    with gen_pyg.value_checks(checks), torch.no_grad():
        out = _run(lambda: model(data), DATA_NAMES)
    if out is not None:
        if checks:
            assert not t.bad, "NaN/inf input accepted with value checks on"
        _check_output(out, (q, 1), t)


def _check_output(out: torch.Tensor, shape: tuple[int, ...], tracker: Tracker) -> None:
    assert isinstance(out, torch.Tensor)
    assert tuple(out.shape) == shape, (tuple(out.shape), shape)
    if not tracker.bad and not tracker.huge:
        assert bool(torch.isfinite(out).all()), "non-finite output from finite inputs"


def _run(call: Callable[[], Any], names: Sequence[str]) -> Any:
    """``call()``, or ``None`` when it raised a ValueError/TypeError naming one of ``names``;
    any other exception fails the property."""
    try:
        return call()
    except (ValueError, TypeError) as exc:
        if type(exc).__module__.startswith("torch"):  # e.g. torch.linalg.LinAlgError
            raise
        _assert_named(exc, names)
        return None


def _dtype(draw: Callable[..., Any], main: torch.dtype) -> torch.dtype:
    """Mostly ``main``; sometimes another float dtype or an integer one."""
    return draw(st.sampled_from([main] * 6 + [torch.float32, torch.float64, torch.int64]))


# ------------------------------------------------------------------- the models
DATA_NAMES = ("data.", "GEN input", "NeuralProcess input")


@st.composite
def model_inputs(draw: Callable[..., Any], mesh: bool) -> tuple[Data, Tracker, int, torch.dtype]:
    """A GEN/NeuralProcess input (plain Data or a Batch of two), its tracker, the number of
    queries and the model's dtype."""
    t = Tracker(draw)
    model_dtype = draw(st.sampled_from(FLOAT_DTYPES))
    pos_dim = draw(st.sampled_from([2, 2, 2, 1, 3]))  # the models are built with pos_dim=2
    channels = draw(st.sampled_from([1, 1, 1, 2]))
    examples = []
    for _ in range(draw(st.integers(1, 2))):
        n = draw(st.integers(0, 5))
        p = draw(st.integers(0, 5))
        q = draw(st.integers(0, 4))
        d = Data(
            input_pos=t.floats([p, pos_dim], _dtype(draw, model_dtype)),
            input_x=t.floats([p, channels], _dtype(draw, model_dtype)),
            query_pos=t.floats([q, pos_dim], _dtype(draw, model_dtype)),
        )
        if mesh:
            d.pos = t.floats([n, pos_dim], _dtype(draw, model_dtype))
            d.edge_index = t.index(2, draw(st.integers(0, 8)), n)
            d.num_nodes = n
        for key in ("input_pos", "input_x", "query_pos", "pos", "edge_index"):
            if key in d and draw(st.integers(0, 30)) == 0:
                del d[key]
        examples.append(d)
    if len(examples) == 1:
        data: Data = examples[0]
    else:
        try:
            data = Batch.from_data_list(examples)
        except Exception:  # PyG cannot batch inconsistent examples: fuzz the first alone
            data = examples[0]
    t.assess(data[key] for key in data.keys())  # what reached the model
    return data, t, int(data.query_pos.size(0)) if "query_pos" in data else 0, model_dtype


@given(
    inputs=model_inputs(mesh=True),
    representation=st.sampled_from(["soft_nearest", "soft_nearest_k2"]),
    num_steps=st.sampled_from([None, 0, 1, 3]),
    checks=st.booleans(),
)
def test_fuzz_gen(
    inputs: tuple[Data, Tracker, int, torch.dtype],
    representation: str,
    num_steps: int | None,
    checks: bool,
) -> None:
    _count("GEN")
    data, t, q, dtype = inputs
    rep = SoftNearest(k=2) if representation.endswith("k2") else SoftNearest()
    model = GEN.paper(latent_channels=8, num_steps=num_steps, representation=rep).to(dtype)
    _run_model(model, data, t, q, checks)


@given(
    sizes=st.lists(st.integers(2, 4), min_size=1, max_size=3),
    representation=st.sampled_from(["bilinear", "barycentric", "soft_nearest"]),
    corrupt=st.sampled_from([None] * 6 + ["face", "grid_shape", "diameter", "batch", "fn"]),
    data=st.data(),
)
def test_fuzz_gen_on_grid_meshes(
    sizes: list[int], representation: str, corrupt: str | None, data: st.DataObject
) -> None:
    """GEN on batches of grid meshes with every representation, some mesh attribute corrupted:
    the representation runs inside the model's checked region, so what it relies on must have
    been checked at the model's boundary."""
    _count("GEN on grids")
    t = Tracker(data.draw)
    examples = []
    for k in sizes:
        mesh = grid(k)
        p, q = data.draw(st.integers(1, 4)), data.draw(st.integers(0, 4))
        examples.append(Data(
            pos=mesh.pos, edge_index=mesh.edge_index, num_nodes=mesh.num_nodes,
            face=mesh.face, grid_shape=mesh.grid_shape, grid_lo=mesh.grid_lo,
            grid_hi=mesh.grid_hi, diameter=mesh.diameter,
            input_pos=t.floats([p, 2], torch.float32, values=st.floats(-0.5, 1.5, width=32)),
            input_x=t.floats([p, 2], torch.float32),
            input_fn=torch.tensor(data.draw(st.lists(st.integers(0, 1), min_size=p,
                                                     max_size=p))),
            query_pos=t.floats([q, 2], torch.float32, values=st.floats(-0.5, 1.5, width=32)),
        ))
    batch = Batch.from_data_list(examples, follow_batch=["input_pos", "query_pos"])
    if corrupt == "face":
        batch.face = batch.face.flip(0)[:, :1].repeat(1, 2) if data.draw(st.booleans()) else (
            batch.face + data.draw(st.sampled_from([1, -1, 100])))
    elif corrupt == "grid_shape":
        batch.grid_shape = batch.grid_shape + data.draw(st.sampled_from([1, -1]))
    elif corrupt == "diameter":
        batch.diameter = batch.diameter * data.draw(st.sampled_from([-1, 10**6]))
    elif corrupt == "batch":
        batch.input_pos_batch = batch.input_pos_batch.flip(0) + data.draw(st.integers(0, 3))
    elif corrupt == "fn":
        batch.input_fn = batch.input_fn + data.draw(st.sampled_from([2, -1]))
    model = GEN.paper(in_channels=[1, 2], latent_channels=8, representation=representation)
    with torch.no_grad():
        out = _run(lambda: model(batch), (*DATA_NAMES, "mesh.", "num_steps"))
    if out is not None:
        assert not t.bad
        _check_output(out, (batch.query_pos.size(0), 1), t)


@given(inputs=model_inputs(mesh=False), aggr=st.sampled_from(["mean", "sum"]),
       checks=st.booleans())
def test_fuzz_neural_process(
    inputs: tuple[Data, Tracker, int, torch.dtype], aggr: str, checks: bool
) -> None:
    _count("NeuralProcess")
    data, t, q, dtype = inputs
    model = NeuralProcess(latent_channels=8, encoder_hidden_channels=8,
                          decoder_hidden_channels=8, aggr=aggr).to(dtype)
    _run_model(model, data, t, q, checks)


# ------------------------------------------------------------------- layers
def _batch(draw: Callable[..., Any], n: int) -> torch.Tensor | None:
    """An example-index vector of length ``n`` (sorted, sometimes not, sometimes wrong)."""
    kind = draw(st.sampled_from(["none", "none", "sorted", "sorted", "unsorted", "short"]))
    if kind == "none":
        return None
    values = sorted(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    if kind == "unsorted":
        values = values[::-1]
    if kind == "short":
        values = values[:-1] if values else [0]
    return torch.tensor(values, dtype=torch.long)


@st.composite
def spatial_inputs(draw: Callable[..., Any]) -> dict[str, Any]:
    t = Tracker(draw)
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    d = draw(st.integers(1, 3))
    p, n, f = draw(st.integers(0, 6)), draw(st.integers(0, 6)), draw(st.integers(1, 3))
    to_nodes = draw(st.booleans())
    rows = p if to_nodes else n
    rows += draw(st.sampled_from([0] * 8 + [1, -1]))  # sometimes a row too many or too few
    return {
        "tracker": t,
        "to_nodes": to_nodes,
        "x": t.floats([max(rows, 0), f], _dtype(draw, dtype)),
        "point_pos": t.floats([p, d], _dtype(draw, dtype)),
        "node_pos": t.floats([n, draw(st.sampled_from([d] * 8 + [d + 1]))], _dtype(draw, dtype)),
        "point_batch": _batch(draw, p),
        "node_batch": _batch(draw, n),
        "k": draw(st.sampled_from([None, 1, 3])),
        "backend": draw(st.sampled_from(["auto", "propagate"])),
    }


@given(inputs=spatial_inputs())
def test_fuzz_spatial_layers(inputs: dict[str, Any]) -> None:
    _count("SpatialEncoder/Decoder")
    t: Tracker = inputs["tracker"]
    rep = SoftNearest(k=inputs["k"])
    x, points, nodes = inputs["x"], inputs["point_pos"], inputs["node_pos"]
    pb, nb = inputs["point_batch"], inputs["node_batch"]
    if inputs["to_nodes"]:
        layer: torch.nn.Module = SpatialEncoder(rep, backend=inputs["backend"])
        names = ("x", "point_pos", "node_pos", "point_batch", "node_batch")
        expected = (nodes.size(0), x.size(-1))
    else:
        layer = SpatialDecoder(rep, backend=inputs["backend"])
        names = ("x", "query_pos", "node_pos", "query_batch", "node_batch")
        expected = (points.size(0), x.size(-1))
    with torch.no_grad():
        # the layer trusts values (as PyG's layers do); the representation function called
        # alone is the entry point that scans them, naming the argument
        point_name = "point_pos" if inputs["to_nodes"] else "query_pos"
        checked = _run(lambda: check_assignment_inputs(points, nodes, pb, nb, point_name), names)
        if checked is None or t.bad:
            return
        if inputs["to_nodes"]:
            out = _run(lambda: layer(x, points, nodes, pb, nb), names)
        else:
            out = _run(lambda: layer(x, nodes, points, nb, pb), names)
    if out is not None:
        _check_output(out, expected, t)


@st.composite
def conv_inputs(draw: Callable[..., Any]) -> dict[str, Any]:
    t = Tracker(draw)
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    n = draw(st.integers(0, 6))
    channels = draw(st.sampled_from([3] * 6 + [2, 4]))  # the layer is built with 3 channels
    edges = t.index(2, draw(st.integers(0, 10)), n)
    precomputed = draw(st.booleans())
    out: dict[str, Any] = {
        "tracker": t,
        "dtype": dtype,
        "x": t.floats([n, channels], _dtype(draw, dtype)),
        "edge_index": edges,
        "pos": None,
        "geometry": None,
        "aggr": draw(st.sampled_from(["sum", "mean", "max"])),
        "backend": draw(st.sampled_from(["auto", "propagate"])),
    }
    if precomputed:
        e = edges.size(-1) if edges.dim() else 0
        out["geometry"] = t.floats([e, draw(st.sampled_from([3] * 6 + [2]))],
                                   _dtype(draw, dtype))
    else:
        out["pos"] = t.floats([n + draw(st.sampled_from([0] * 8 + [1])), 2],
                              _dtype(draw, dtype))
    return out


@given(inputs=conv_inputs())
def test_fuzz_gen_conv(inputs: dict[str, Any]) -> None:
    _count("ElementConv")
    t: Tracker = inputs["tracker"]
    conv = ElementConv(3, message_channels=4, edge_hidden_channels=8, node_hidden_channels=8,
                       aggr=inputs["aggr"], backend=inputs["backend"]).to(inputs["dtype"])
    x, edge_index = inputs["x"], inputs["edge_index"]
    if (edge_index.dtype == torch.long and edge_index.dim() == 2 and edge_index.numel()
            and (int(edge_index.min()) < 0 or int(edge_index.max()) >= x.size(0))):
        return  # the layer trusts its indices, as PyG's do: the models check them
    with torch.no_grad():
        out = _run(lambda: conv(x, edge_index, pos=inputs["pos"], geometry=inputs["geometry"]),
                   ("x", "edge_index", "pos", "geometry", "in_degree"))
    if out is not None and not t.bad:
        _check_output(out, (x.size(0), 3), t)


# ------------------------------------------------------------------- representations
REP_NAMES = ("point_pos", "node_pos", "point_batch", "node_batch", "mesh.")


def _check_assignment(result: Any, p: int, n: int, t: Tracker, unity: bool) -> None:
    row, col, w = result
    assert row.shape == col.shape == w.shape and row.dim() == 1
    assert row.dtype == col.dtype == torch.long
    if row.numel():
        assert 0 <= int(row.min()) and int(row.max()) < p
        assert 0 <= int(col.min()) and int(col.max()) < n
    if t.bad or t.huge:
        return
    assert bool(torch.isfinite(w).all()), "non-finite weights from finite positions"
    if unity and p:
        sums = torch.zeros(p, dtype=torch.float64).index_add_(0, row, w.double())
        assert torch.allclose(sums, torch.ones_like(sums), atol=1e-3), sums


@st.composite
def soft_nearest_inputs(draw: Callable[..., Any]) -> dict[str, Any]:
    t = Tracker(draw)
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    d = draw(st.integers(1, 3))
    p, n = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    return {
        "tracker": t,
        "point_pos": t.floats([p, d], _dtype(draw, dtype)),
        "node_pos": t.floats([n, draw(st.sampled_from([d] * 8 + [d + 1]))], _dtype(draw, dtype)),
        "point_batch": _batch(draw, p),
        "node_batch": _batch(draw, n),
        "k": draw(st.sampled_from([None, 1, 2, 8])),
        "metric": draw(st.sampled_from(["euclidean", "euclidean", "geodesic"])),
        "dense": draw(st.booleans()),
    }


@given(inputs=soft_nearest_inputs())
def test_fuzz_soft_nearest(inputs: dict[str, Any]) -> None:
    _count("SoftNearest")
    t: Tracker = inputs["tracker"]
    rep = SoftNearest(k=inputs["k"], metric=inputs["metric"])
    args = (inputs["point_pos"], inputs["node_pos"], inputs["point_batch"], inputs["node_batch"])
    with torch.no_grad():
        if inputs["dense"]:
            out = _run(lambda: rep.dense(*args), REP_NAMES)
            if out is not None and rep.k is None:
                assert not t.bad
                weight, point_mask, node_mask = out
                assert weight.shape == point_mask.shape + node_mask.shape[1:]
                if not t.huge:
                    assert bool(torch.isfinite(weight).all())
            return
        out = _run(lambda: rep(*args), REP_NAMES)
    if out is not None:
        assert not t.bad, "NaN/inf input accepted with value checks on"
        _check_assignment(out, args[0].size(0), args[1].size(0), t, unity=True)


@given(
    shapes=st.lists(st.lists(st.integers(2, 4), min_size=1, max_size=3), min_size=1,
                    max_size=2),
    data=st.data(),
)
def test_fuzz_bilinear(shapes: list[list[int]], data: st.DataObject) -> None:
    _count("Bilinear")
    t = Tracker(data.draw)
    dims = {len(s) for s in shapes}
    if len(dims) > 1:  # one dimension per batch
        shapes = [shapes[0]]
    dim = len(shapes[0])
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES))
    meshes = [grid(s, dtype=dtype) for s in shapes]
    mesh = Batch.from_data_list(meshes) if len(meshes) > 1 else meshes[0]
    counts = [data.draw(st.integers(0, 4)) for _ in meshes]
    points = t.floats([sum(counts), dim], _dtype(data.draw, dtype),
                      values=st.floats(-1.0, 2.0, width=32))
    point_batch = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    node_batch = getattr(mesh, "batch", None)
    if data.draw(st.integers(0, 5)) == 0:  # a corrupted grid description
        mesh.grid_shape = mesh.grid_shape + data.draw(st.sampled_from([1, -1]))
    with torch.no_grad():
        out = _run(lambda: Bilinear()(points, mesh.pos, point_batch, node_batch, mesh=mesh),
                   REP_NAMES)
    if out is not None:
        assert not t.bad
        _check_assignment(out, points.size(0), mesh.pos.size(0), t, unity=True)


@st.composite
def barycentric_inputs(draw: Callable[..., Any]) -> dict[str, Any]:
    t = Tracker(draw)
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    d = draw(st.sampled_from([2, 2, 1, 3]))
    n = draw(st.integers(d + 1, 7))
    nodes = t.floats([n, d], dtype, values=unit, special=draw(st.integers(0, 4)) == 0)
    if draw(st.booleans()) and not t.bad:
        face = delaunay(nodes).face
        face = face if face is not None else torch.zeros(d + 1, 0, dtype=torch.long)
    else:
        face = t.index(d + 1, draw(st.integers(0, 4)), n)
    p = draw(st.integers(0, 6))
    return {
        "tracker": t,
        "point_pos": t.floats([p, d], _dtype(draw, dtype), values=st.floats(-0.5, 1.5, width=32)),
        "node_pos": nodes,
        "face": face,
    }


@given(inputs=barycentric_inputs())
def test_fuzz_barycentric(inputs: dict[str, Any]) -> None:
    _count("Barycentric")
    t: Tracker = inputs["tracker"]
    points, nodes = inputs["point_pos"], inputs["node_pos"]
    mesh = Data(pos=nodes, face=inputs["face"])
    with torch.no_grad():
        out = _run(lambda: Barycentric()(points, nodes, mesh=mesh), REP_NAMES)
    if out is not None:
        assert not t.bad
        _check_assignment(out, points.size(0), nodes.size(0), t, unity=True)


# ------------------------------------------------------------------- mesh builders
def _check_mesh(mesh: Data, dim: int | None = None) -> None:
    assert isinstance(mesh, Data)
    n = mesh.pos.size(0)
    assert mesh.pos.dim() == 2 and n >= 1 and (dim is None or mesh.pos.size(1) == dim)
    assert bool(torch.isfinite(mesh.pos).all())
    ei = mesh.edge_index
    assert ei.dtype == torch.long and ei.dim() == 2 and ei.size(0) == 2
    if ei.numel():
        assert 0 <= int(ei.min()) and int(ei.max()) < n
        assert not bool((ei[0] == ei[1]).any()), "self loop"
    assert mesh.diameter.numel() == 1 and int(mesh.diameter) >= 0
    if "face" in mesh and mesh.face is not None and mesh.face.numel():
        assert 0 <= int(mesh.face.min()) and int(mesh.face.max()) < n


MESH_NAMES = ("k", "dim", "bounds", "edges", "dtype", "n", "seed", "pos", "r", "metric",
              "level")


@given(
    k=st.one_of(st.integers(-1, 6), st.lists(st.integers(0, 5), max_size=3),
                st.just(10**5), st.floats(2.0, 3.0)),
    dim=st.sampled_from([None, 1, 2, 3, 0, -1, 3]),
    bounds=st.sampled_from([(0.0, 1.0), (-1.0, 1.0), (1.0, 0.0), (0.0, math.inf),
                            (0.0, [1.0, 2.0]), (-1e308, 1e308), (0.0, 1e300), "box"]),
    edges=st.sampled_from(["delaunay", "lattice", "kuhn"]),
    dtype=st.sampled_from([None, torch.float32, torch.float64, torch.int64]),
)
def test_fuzz_grid(k: Any, dim: Any, bounds: Any, edges: str, dtype: Any) -> None:
    _count("grid")
    mesh = _run(lambda: grid(k, dim, bounds, edges, dtype=dtype), MESH_NAMES)
    if mesh is not None:
        _check_mesh(mesh)


@given(
    n=st.one_of(st.integers(-1, 12), st.just(10**9)),
    dim=st.integers(0, 3),
    seed=st.integers(-1, 3),
    bounds=st.sampled_from([(0.0, 1.0), (-2.0, 3.0), (1.0, 1.0), (0.0, math.nan)]),
    edges=st.sampled_from(["delaunay", "none", "radius"]),
)
def test_fuzz_halton(n: int, dim: int, seed: int, bounds: Any, edges: str) -> None:
    _count("halton")
    mesh = _run(lambda: halton(n, dim, seed, bounds, edges), MESH_NAMES)
    if mesh is not None:
        _check_mesh(mesh, dim)


@given(data=st.data(), builder=st.sampled_from(["delaunay", "build_mesh", "radius",
                                                 "spherical"]))
def test_fuzz_mesh_from_positions(data: st.DataObject, builder: str) -> None:
    _count("delaunay/build_mesh/radius_mesh/spherical_delaunay_edges")
    t = Tracker(data.draw)
    d = 3 if builder == "spherical" else data.draw(st.integers(0, 3))
    n = data.draw(st.integers(0, 9))
    # few distinct values: duplicates, collinear and coplanar sets are common
    values = st.sampled_from([0.0, 0.5, 1.0, -1.0, 0.25]) if data.draw(st.booleans()) else unit
    pos = t.floats([n, d], data.draw(st.sampled_from([torch.float32, torch.float64,
                                                      torch.int64])), values=values)
    calls: dict[str, Callable[[], Any]] = {
        "delaunay": lambda: delaunay(pos),
        "build_mesh": lambda: build_mesh(pos, data.draw(st.sampled_from(["delaunay", "none",
                                                                         "nope"]))),
        "radius": lambda: radius_mesh(pos, data.draw(st.sampled_from([0.3, 1.0, 0.0, -1.0])),
                                      data.draw(st.sampled_from(["euclidean", "geodesic"]))),
        "spherical": lambda: spherical_delaunay_edges(pos),
    }
    out = _run(calls[builder], MESH_NAMES)
    if out is None:
        return
    assert not t.bad
    if builder == "spherical":
        edge_index, _face = out
        assert edge_index.dim() == 2 and edge_index.size(0) == 2
        if edge_index.numel():
            assert 0 <= int(edge_index.min()) and int(edge_index.max()) < n
    else:
        _check_mesh(out, d)


@given(k=st.integers(-1, 12), level=st.one_of(st.integers(-1, 2), st.just(40)),
       dtype=st.sampled_from([None, torch.float32, torch.float64, torch.int32]))
def test_fuzz_sphere_meshes(k: int, level: int, dtype: Any) -> None:
    _count("sphere_latlong/icosphere")
    for call in (lambda: sphere_latlong(k, dtype=dtype), lambda: icosphere(level, dtype=dtype)):
        mesh = _run(call, MESH_NAMES)
        if mesh is not None:
            _check_mesh(mesh, 3)

