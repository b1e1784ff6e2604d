"""ElementConv, SpatialEncoder/Decoder, GEN and NeuralProcess."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from gen_pyg.mesh import graph_diameter
from gen_pyg.nn import (
    GEN,
    Barycentric,
    Bilinear,
    ElementConv,
    ElementProcessor,
    GaussianKernel,
    NeuralProcess,
    PairDecoder,
    PairEncoder,
    PointDecoder,
    PointEncoder,
    RadiusGraph,
    Representation,
    SoftNearest,
    SpatialDecoder,
    SpatialEncoder,
    SumReadout,
    get_representation,
    node_scales,
)
from gen_pyg.testing import (
    FOLLOW_BATCH,
    assert_batch_equivalence,
    assert_compiled_matches_eager,
    assert_input_permutation_invariance,
    assert_no_graph_breaks,
    assert_query_permutation_equivariance,
    make_example,
)


def gen_small(in_channels: int | list[int] = 1, out_channels: int | list[int] = 1,
              representation: Representation | str = "soft_nearest", num_steps: int | None = 3,
              readout: str = "interpolate", pairs: bool = False,
              encoder_rep: Representation | None = None,
              decoder_rep: Representation | None = None, encoder_aggr: str = "sum",
              encode_pos: bool = True, decode_pos: bool = True, pair_channels: int = 64,
              graph: torch.nn.Module | None = None, **processor: object) -> GEN:
    """A GEN of latent size 8 composed of its stages: point (or, with ``pairs``, pair) encoder
    and decoder sharing ``representation`` unless ``encoder_rep``/``decoder_rep`` replace it,
    an ElementProcessor with ``processor``'s options."""
    rep = get_representation(representation)
    encoder = (PairEncoder if pairs else PointEncoder)(
        in_channels, 8, encoder_rep or rep, hidden_channels=8, encode_pos=encode_pos,
        aggr=encoder_aggr)
    proc = ElementProcessor(8, num_steps=num_steps, graph=graph, message_channels=4,
                            edge_hidden_channels=8, node_hidden_channels=8,
                            **processor)  # type: ignore[arg-type]
    decoder: torch.nn.Module
    if readout == "sum":
        assert isinstance(out_channels, int)
        decoder = SumReadout(8, out_channels, hidden_channels=8)
    elif pairs:
        decoder = PairDecoder(8, out_channels, decoder_rep or rep, hidden_channels=8,
                              decode_pos=decode_pos, pair_channels=pair_channels)
    else:
        decoder = PointDecoder(8, out_channels, decoder_rep or rep, hidden_channels=8,
                               decode_pos=decode_pos)
    return GEN(encoder, proc, decoder)


# ------------------------------------------------------------- spatial layers
def test_spatial_encoder_and_decoder_hand_case() -> None:
    nodes = torch.tensor([[0.0], [1.0]])
    points = torch.tensor([[0.0], [1.0], [0.5]])
    h = torch.tensor([[1.0], [10.0], [100.0]])
    enc = SpatialEncoder(SoftNearest())
    # weights: point 0 -> (1, e^-1)/(1+e^-1); point 1 -> (e^-1, 1)/(1+e^-1); point 2 -> (1/2, 1/2)
    a, b = 1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1))
    expected = torch.tensor([[a * 1 + b * 10 + 50], [b * 1 + a * 10 + 50]])
    assert torch.allclose(enc(h, points, nodes), expected)
    dec = SpatialDecoder(SoftNearest())
    z = torch.tensor([[2.0], [4.0]])
    assert torch.allclose(
        dec(z, nodes, points), torch.tensor([[2 * a + 4 * b], [2 * b + 4 * a], [3.0]])
    )
    assert str(enc) == (
        "SpatialEncoder(SoftNearest(k=None, metric=euclidean), aggr=sum, backend='auto')"
    )
    assert str(dec) == "SpatialDecoder(SoftNearest(k=None, metric=euclidean), backend='auto')"
    # mean aggregation goes through propagate: each node averages its weighted samples
    mean = SpatialEncoder(SoftNearest(), aggr="mean")
    assert not mean.fused
    expected_mean = torch.tensor([[a * 1 + b * 10 + 50], [b * 1 + a * 10 + 50]]) / 3
    assert torch.allclose(mean(h, points, nodes), expected_mean)
    with pytest.raises(ValueError, match="backend='fused' needs aggr='sum'"):
        SpatialEncoder(SoftNearest(), aggr="mean", backend="fused")
    with pytest.raises(ValueError, match="backend must be one of"):
        SpatialDecoder(SoftNearest(), backend="scatter")


# -------------------------------------------------------------------- ElementConv
# ElementConv computes sum and mean two ways: fused (edge_relu_sum; what backend="auto" picks) and
# PyG's propagate (backend="propagate"). Max has only the propagate path, so it is checked
# once; each case also checks which path ran, so no case silently repeats another.
@pytest.mark.parametrize(
    ("aggr", "backend", "fused"),
    [
        ("sum", "auto", True),
        ("sum", "propagate", False),
        ("mean", "auto", True),
        ("mean", "propagate", False),
        ("max", "auto", False),
    ],
    ids=["sum-fused", "sum-propagate", "mean-fused", "mean-propagate", "max"],
)
def test_gen_conv_matches_explicit_loop(aggr: str, backend: str, fused: bool) -> None:
    conv = ElementConv(4, message_channels=3, edge_hidden_channels=5, node_hidden_channels=6,
                   aggr=aggr, backend=backend)
    propagate_calls: list[int] = []
    conv.register_propagate_forward_hook(lambda *args: propagate_calls.append(1))
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [5.0, 5.0]])
    # node 0 receives 2 messages, node 1 receives 3 (so sum, mean and max all differ there),
    # nodes 2 and 3 one each, node 4 is isolated
    edge_index = torch.tensor([[0, 1, 0, 2, 1, 3, 2], [1, 0, 2, 0, 3, 1, 1]])
    x = torch.randn(5, 4)
    reduce = {"sum": torch.sum, "mean": torch.mean, "max": lambda m, dim: m.max(dim).values}[aggr]
    expected = []
    for i in range(5):
        msgs: list[torch.Tensor] = []
        for e in range(edge_index.size(1)):
            j, t = edge_index[:, e].tolist()
            if t == i:
                d = pos[j] - pos[i]
                msgs.append(conv.edge_mlp(torch.cat([x[i], x[j], d, d.norm().view(1)])))
        # a node without messages aggregates to zero
        agg = reduce(torch.stack(msgs), dim=0) if msgs else torch.zeros(3)
        expected.append(conv.norm(x[i] + conv.node_mlp(torch.cat([x[i], agg]))))
    out = conv(x, edge_index, pos=pos)
    torch.testing.assert_close(out, torch.stack(expected), atol=1e-5, rtol=1e-5)
    # the path that ran: PyG's propagate exactly when not fused
    assert conv.fused is fused
    assert len(propagate_calls) == (0 if fused else 1)


def test_gen_conv_repr_and_errors() -> None:
    conv = ElementConv(32)
    assert str(conv) == ("ElementConv(32, message_channels=16, pos_dim=2, aggr=sum, "
                         "backend='auto')")
    with pytest.raises(ValueError, match="needs the node positions 'pos'"):
        conv(torch.randn(2, 32), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match=r"geometry must have shape \[1, 3\]"):
        conv(torch.randn(2, 32), torch.tensor([[0], [1]]), geometry=torch.randn(1, 5))
    with pytest.raises(ValueError, match=r"edge_attr was given but the layer has no edge"):
        conv(torch.randn(2, 32), torch.tensor([[0], [1]]), torch.rand(2, 2),
             edge_attr=torch.randn(1, 5))
    with pytest.raises(ValueError, match="channels must be at least 1"):
        ElementConv(0)


@pytest.mark.slow  # torch.compile
def test_gen_conv_no_graph_breaks_and_compiled_matches_eager() -> None:
    conv = ElementConv(8, message_channels=4, edge_hidden_channels=8, node_hidden_channels=8)
    data = make_example(num_nodes=9)
    assert_no_graph_breaks(conv, torch.randn(9, 8), data.edge_index, pos=data.pos)
    assert_compiled_matches_eager(conv, torch.randn(9, 8), data.edge_index, pos=data.pos,
                                  backend="aot_eager")


# ------------------------------------------------------------------------ GEN
def test_gen_invariance_equivariance_and_batching() -> None:
    g = torch.Generator().manual_seed(0)
    model = gen_small(representation=SoftNearest(k=3))
    data = make_example(num_nodes=8, generator=g)
    assert_input_permutation_invariance(model, data, generator=g)
    assert_query_permutation_equivariance(model, data, generator=g)
    examples = [
        make_example(num_nodes=n, num_inputs=p, num_queries=q, generator=g)
        for n, p, q in [(4, 3, 5), (9, 12, 2), (6, 1, 7)]
    ]
    assert_batch_equivalence(model, examples)
    # with num_steps=None a batch runs the largest diameter of its meshes for every example
    auto = gen_small(num_steps=None)
    steps = int(
        graph_diameter(
            Batch.from_data_list(examples).edge_index, 19, Batch.from_data_list(examples).batch
        ).max()
    )
    fixed = gen_small(num_steps=steps)
    fixed.load_state_dict(auto.state_dict())
    batch = Batch.from_data_list(examples, follow_batch=FOLLOW_BATCH)
    assert torch.allclose(auto(batch), torch.cat([fixed(d) for d in examples]), atol=1e-5)


def test_gen_batch_from_pyg_dataloader() -> None:
    g = torch.Generator().manual_seed(1)
    examples = [make_example(num_nodes=5 + i, generator=g) for i in range(5)]
    loader = DataLoader(examples, batch_size=5, follow_batch=FOLLOW_BATCH)
    batch = next(iter(loader))
    model = gen_small()
    assert torch.allclose(model(batch), torch.cat([model(d) for d in examples]), atol=1e-5)
    # without follow_batch the batch vectors are derived from the Batch's slices
    plain = Batch.from_data_list(examples)
    assert torch.allclose(model(plain), model(batch), atol=1e-6)


def test_gen_default_steps_is_mesh_diameter() -> None:
    data = make_example(num_nodes=2, k_edges=1)  # two nodes joined: diameter 1
    path = Data(
        pos=torch.tensor([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 0.5]]),
        edge_index=torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]),
        input_pos=torch.rand(3, 2),
        input_x=torch.rand(3, 1),
        query_pos=torch.rand(2, 2),
        num_nodes=4,
    )
    model = gen_small(num_steps=None)
    calls: list[int] = []
    model.processor.conv.register_forward_hook(lambda *args: calls.append(1))
    model(data)
    assert len(calls) == 1
    calls.clear()
    model(Batch.from_data_list([data, path], follow_batch=FOLLOW_BATCH))
    assert len(calls) == 3  # max of diameters 1 and 3
    calls.clear()
    path.diameter = torch.tensor([5])
    model(path)
    assert len(calls) == 5


def test_gen_multiple_input_and_output_functions() -> None:
    g = torch.Generator().manual_seed(2)
    model = gen_small(in_channels=[1, 3], out_channels=[2, 1])
    data = make_example(in_channels=(1, 3), num_outputs=2, num_queries=9, generator=g)
    out = model(data)
    assert out.shape == (9, 2)
    # function-1 queries have one output column; the padding column is exactly zero
    assert (out[data.query_fn == 1, 1] == 0).all()
    # an input of function 0 ignores the padding columns of input_x
    changed = data.clone()
    changed.input_x[changed.input_fn == 0, 1:] = 123.0
    assert torch.allclose(model(changed), out)
    assert_batch_equivalence(
        model, [data, make_example(in_channels=(1, 3), num_outputs=2, generator=g)]
    )


def test_gen_sum_readout_is_per_example() -> None:
    g = torch.Generator().manual_seed(3)
    model = gen_small(readout="sum", out_channels=2)
    examples = [make_example(num_nodes=n, generator=g) for n in (3, 6)]
    assert model(examples[0]).shape == (1, 2)
    assert_batch_equivalence(model, examples, per_example_output=True)


def test_gen_with_bilinear_on_a_grid() -> None:
    axes = torch.linspace(0, 1, 3)
    pos = torch.stack(torch.meshgrid(axes, axes, indexing="ij"), -1).reshape(-1, 2)
    lattice = [(i, i + 1) for i in range(9) if i % 3 != 2] + [(i, i + 3) for i in range(6)]
    ei = torch.tensor(lattice).t()
    data = Data(
        pos=pos,
        edge_index=torch.cat([ei, ei.flip(0)], 1),
        grid_shape=torch.tensor([[3, 3]]),
        grid_lo=torch.zeros(1, 2),
        grid_hi=torch.ones(1, 2),
        input_pos=torch.rand(5, 2),
        input_x=torch.rand(5, 1),
        query_pos=torch.rand(4, 2),
    )
    model = gen_small(representation=Bilinear())
    assert_batch_equivalence(model, [data, data.clone()])
    bad = data.clone()
    bad.pos = torch.rand(9, 2)
    with pytest.raises(ValueError, match="do not form the regular grid"):
        model(bad)


@pytest.mark.parametrize("encoder_aggr", ["sum", "mean", "max"])
def test_encoder_aggregation_of_repeated_samples(encoder_aggr: str) -> None:
    """Every input sample given twice: a mean or max over each node's samples is unchanged,
    a sum doubles the node states (and so changes the predictions)."""
    torch.manual_seed(0)
    data = make_example(num_nodes=8, num_inputs=6, num_queries=5)
    twice = data.clone()
    twice.input_pos = torch.cat([data.input_pos, data.input_pos])
    twice.input_x = torch.cat([data.input_x, data.input_x])
    model = gen_small(encoder_aggr=encoder_aggr).eval()
    assert model.encoder.spatial.aggr == encoder_aggr
    with torch.no_grad():
        same = torch.allclose(model(data), model(twice), rtol=1e-5, atol=1e-6)
    assert same == (encoder_aggr != "sum")


def test_gen_gradients_reach_node_positions_and_temperature() -> None:
    data = make_example(num_nodes=6)
    data.pos.requires_grad_(True)
    model = gen_small()
    model(data).pow(2).sum().backward()
    assert data.pos.grad is not None and data.pos.grad.abs().sum() > 0
    assert model.encoder.representation.log_temperature.grad is not None


def test_gen_state_dict_round_trip_and_repr() -> None:
    model = gen_small()
    other = gen_small()
    other.load_state_dict(model.state_dict())
    data = make_example()
    assert torch.equal(model(data), other(data))
    assert str(GEN()) == (
        "GEN(PointEncoder([1], 32, representation=SoftNearest(k=None, metric=euclidean)), "
        "ElementProcessor(32, num_steps=None), "
        "PointDecoder(32, [1], representation=SoftNearest(k=None, metric=euclidean)))"
    )


@pytest.mark.slow  # torch.compile
def test_gen_compiled_matches_eager() -> None:
    model = gen_small(representation=SoftNearest(k=3))
    assert_compiled_matches_eager(model, make_example(num_nodes=7), backend="aot_eager",
                                  dynamic=False)


def _bad(**changes: object) -> Data:
    data = make_example()
    for key, value in changes.items():
        data[key] = value
    return data


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_bad(pos=torch.tensor([[float("nan"), 0.0]] * 6)), "data.pos contains NaN"),
        (_bad(input_pos=torch.full((10, 2), float("inf"))), "data.input_pos contains NaN or inf"),
        (_bad(query_pos=torch.rand(7, 3)), "data.query_pos must have 2 coordinates"),
        (_bad(input_x=torch.rand(10, 2)), "input_x has 2 channels but the encoders expect 1"),
        (_bad(input_x=torch.rand(9, 1)), r"input_x must have shape \[10, channels\]"),
        (_bad(edge_index=torch.tensor([[0], [99]])), "edge_index refers to nodes outside"),
        (_bad(input_pos=torch.rand(0, 2), input_x=torch.rand(0, 1)), "at least one of its inputs"),
        (_bad(query_pos=None), "missing 'data.query_pos'"),
    ],
)
def test_gen_bad_input_names_argument(data: Data, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gen_small()(data)


def test_gen_rejects_example_without_nodes_and_bad_config() -> None:
    empty = make_example()
    empty.pos, empty.edge_index = torch.rand(0, 2), torch.empty(2, 0, dtype=torch.long)
    empty.num_nodes = 0
    with pytest.raises(ValueError, match="at least one of its nodes"):
        gen_small()(Batch.from_data_list([make_example(), empty], follow_batch=FOLLOW_BATCH))
    with pytest.raises(ValueError, match="input_fn is required with 2 functions"):
        gen_small(in_channels=[1, 1])(make_example())
    with pytest.raises(ValueError, match="readout must be one of"):
        GEN.paper(readout="mean")
    with pytest.raises(ValueError, match="aggr must be one of"):
        PointEncoder(aggr="median")
    with pytest.raises(ValueError, match="in_channels must be a positive int or a non-empty list"):
        GEN.paper(in_channels=[])


# ------------------------------------------------------------ NeuralProcess
def test_neural_process_equals_one_node_gen_without_message_passing() -> None:
    g = torch.Generator().manual_seed(4)
    model = gen_small(num_steps=0, in_channels=[1, 2], out_channels=[1, 3])
    np_model = NeuralProcess(
        in_channels=[1, 2],
        out_channels=[1, 3],
        latent_channels=8,
        encoder_hidden_channels=8,
        decoder_hidden_channels=8,
        aggr="sum",
    )
    np_model.encoders.load_state_dict(model.encoder.heads.state_dict())
    np_model.decoders.load_state_dict(model.decoder.heads.state_dict())
    examples = []
    for _ in range(3):
        data = make_example(num_nodes=1, in_channels=(1, 2), num_outputs=2, generator=g)
        examples.append(data)
        assert torch.allclose(model(data), np_model(data), atol=1e-6)
    batch = Batch.from_data_list(examples, follow_batch=FOLLOW_BATCH)
    assert torch.allclose(model(batch), np_model(batch), atol=1e-6)


def test_neural_process_mean_is_permutation_invariant() -> None:
    model = NeuralProcess()
    assert (
        str(model)
        == "NeuralProcess(in_channels=[1], out_channels=[1], pos_dim=2, latent_channels=32, "
        "aggr=mean)"
    )
    assert_input_permutation_invariance(model, make_example())
    assert_batch_equivalence(model, [make_example(), make_example(num_inputs=3)])


@pytest.mark.parametrize("rep", [SoftNearest(), SoftNearest(k=3), Bilinear()])
def test_fused_spatial_layers_match_message_passing(rep: object) -> None:
    axes = torch.linspace(0, 1, 4)
    nodes = torch.stack(torch.meshgrid(axes, axes, indexing="ij"), -1).reshape(-1, 2)
    mesh = Data(pos=nodes, grid_shape=torch.tensor([[4, 4]]), grid_lo=torch.zeros(1, 2),
                grid_hi=torch.ones(1, 2))
    points = torch.rand(30, 2)
    h = torch.randn(30, 5, requires_grad=True)
    for layer_cls in (SpatialEncoder, SpatialDecoder):
        fused = layer_cls(rep, backend="fused")  # type: ignore[arg-type]
        reference = layer_cls(rep, backend="propagate")  # type: ignore[arg-type]
        assert fused.fused and not reference.fused
        feats = h if layer_cls is SpatialEncoder else torch.randn(16, 5, requires_grad=True)
        # positions of the features first, as in knn_interpolate
        src, dst = (points, nodes) if layer_cls is SpatialEncoder else (nodes, points)
        a = fused(feats, src, dst, mesh=mesh)
        b = reference(feats, src, dst, mesh=mesh)
        assert torch.allclose(a, b, atol=1e-6)
        ga = torch.autograd.grad(a.sum(), feats)[0]
        gb = torch.autograd.grad(b.sum(), feats)[0]
        assert torch.allclose(ga, gb, atol=1e-6)


def test_neural_process_checks_function_ids() -> None:
    model = NeuralProcess(in_channels=[1, 1])
    data = make_example()
    with pytest.raises(ValueError, match="input_fn is required with 2 functions"):
        model(data)
    data.input_fn = torch.full((10,), 2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"function ids in \[0, 1\]"):
        model(data)


def test_paper_gen_shares_its_representation_through_a_state_dict() -> None:
    torch.manual_seed(0)
    model = GEN.paper(latent_channels=8)
    assert model.encoder.representation is model.decoder.representation
    keys = sorted(k for k in model.state_dict() if "log_temperature" in k)
    assert keys == ["decoder.spatial.representation.log_temperature",
                    "encoder.spatial.representation.log_temperature"]
    # one parameter, counted once
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for _, p in model.named_parameters())
    with torch.no_grad():
        model.encoder.representation.log_temperature.fill_(1.25)
    fresh = GEN.paper(latent_channels=8)
    fresh.load_state_dict(model.state_dict())  # strict
    assert fresh.encoder.representation is fresh.decoder.representation
    assert float(fresh.decoder.representation.log_temperature.detach()) == 1.25
    data = make_example()
    assert torch.equal(model(data), fresh(data))


def test_gen_refuses_stages_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match=r"encoder.latent_channels=8, processor.channels=32"):
        GEN(PointEncoder(latent_channels=8), ElementProcessor(32), PointDecoder(32))
    with pytest.raises(TypeError, match=r"processor must be a torch\.nn\.Module"):
        GEN(PointEncoder(), "rounds", PointDecoder())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs the attribute"):
        GEN(torch.nn.Linear(1, 1), ElementProcessor(), PointDecoder())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs num_steps"):
        ElementProcessor(graph=RadiusGraph(0.3))
    with pytest.raises(ValueError, match="readout='sum' answers one function"):
        GEN.paper(out_channels=[1, 2], readout="sum")


# ------------------------------------------------------------- relative positions
@pytest.mark.parametrize("rep", [SoftNearest(), SoftNearest(k=3)])
def test_relative_pos_batching_and_permutations(rep: object) -> None:
    g = torch.Generator().manual_seed(3)
    model = gen_small(representation=rep, pairs=True, in_channels=[1, 2])
    data = make_example(num_nodes=8, in_channels=(1, 2), generator=g)
    assert_input_permutation_invariance(model, data, generator=g)
    assert_query_permutation_equivariance(model, data, generator=g)
    examples = [make_example(num_nodes=n, num_inputs=p, num_queries=q, in_channels=(1, 2),
                             generator=g) for n, p, q in [(5, 4, 6), (9, 12, 2), (6, 1, 7)]]
    assert_batch_equivalence(model, examples)


@pytest.mark.parametrize("rep", [Bilinear(), Barycentric()])
def test_relative_pos_batching_on_grids(rep: object) -> None:
    from gen_pyg.mesh import grid

    g = torch.Generator().manual_seed(4)
    examples = []
    for k in (2, 3, 5):
        data = make_example(num_inputs=3 * k, num_queries=k + 2, generator=g)
        for key, value in grid(k):
            data[key] = value
        data.num_nodes = k * k
        examples.append(data)
    assert_batch_equivalence(gen_small(representation=rep, pairs=True), examples)


def test_relative_pos_encode_and_decode_by_hand() -> None:
    """A 2x2 grid of spacing 2 and Bilinear weights: every pair worked out explicitly."""
    torch.manual_seed(0)
    pos = torch.tensor([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 2.0]])
    ei = torch.tensor([[0, 1, 0, 2, 1, 3, 2, 3], [1, 0, 2, 0, 3, 1, 3, 2]])
    data = Data(pos=pos, edge_index=ei, grid_shape=torch.tensor([[2, 2]]),
                grid_lo=torch.zeros(1, 2), grid_hi=torch.full((1, 2), 2.0),
                input_pos=torch.tensor([[0.5, 1.0], [2.0, 1.5]]),
                input_x=torch.tensor([[1.0], [-2.0]]), query_pos=torch.tensor([[1.5, 0.5]]))
    model = gen_small(representation=Bilinear(), pairs=True, num_steps=0).eval()
    assert node_scales(pos, ei).tolist() == [2.0, 2.0, 2.0, 2.0]

    def bilinear(x: Tensor) -> Tensor:  # weights of nodes 0..3 (C order of (i, j))
        u, v = x[0] / 2, x[1] / 2
        return torch.stack([(1 - u) * (1 - v), (1 - u) * v, u * (1 - v), u * v])

    z0 = torch.zeros(4, 8)
    for x, s in zip(data.input_pos, data.input_x, strict=True):
        for n, w in enumerate(bilinear(x)):
            extra = torch.cat([x, (x - pos[n]) / 2.0]).unsqueeze(0)
            z0[n] += w * model.encoder.heads(s.unsqueeze(0), extra)[0]
    with torch.no_grad():
        assert torch.allclose(model.encode(data), z0, atol=1e-6)
        q = data.query_pos[0]
        pair = sum(w * model.decoder.pair(torch.cat([z0[n], (q - pos[n]) / 2.0]))
                   for n, w in enumerate(bilinear(q)))
        expected = model.decoder.heads(pair.unsqueeze(0), q.unsqueeze(0))
        assert torch.allclose(model(data), expected, atol=1e-6)


def test_relative_pos_sees_only_offsets_without_absolute_positions() -> None:
    """Without encode_pos/decode_pos a relative GEN is invariant to translating the whole
    problem, and still sees where samples lie relative to the nodes."""
    g = torch.Generator().manual_seed(1)
    model = gen_small(representation=SoftNearest(k=3), pairs=True, encode_pos=False,
                      decode_pos=False).eval()
    data = make_example(num_nodes=7, generator=g)
    moved = data.clone()
    shift = torch.tensor([3.0, -1.5])
    for key in ("pos", "input_pos", "query_pos"):
        moved[key] = data[key] + shift
    nudged = data.clone()
    nudged.input_pos = data.input_pos + 0.05
    with torch.no_grad():
        assert torch.allclose(model(data), model(moved), atol=1e-5)
        assert not torch.allclose(model(data), model(nudged), atol=1e-4)


def test_relative_pos_gradcheck_through_node_positions() -> None:
    g = torch.Generator().manual_seed(2)
    data = make_example(num_nodes=5, num_inputs=4, num_queries=3, generator=g,
                        dtype=torch.float64)
    model = gen_small(representation=SoftNearest(), pairs=True, num_steps=2).double()

    def f(pos: Tensor) -> Tensor:
        moved = data.clone()
        moved.pos = pos
        return model(moved)

    assert torch.autograd.gradcheck(f, (data.pos.clone().requires_grad_(True),))


def test_pair_stages_repr_and_readout() -> None:
    model = gen_small(pairs=True, pair_channels=16)
    assert model.decoder.heads.heads[0][0].in_features == 16 + 2
    assert str(model.decoder).endswith("pair_channels=16)")
    assert str(PairEncoder()).startswith("PairEncoder([1], 32")
    assert gen_small(pairs=True, readout="sum")(make_example()).shape == (1, 1)
    other = gen_small(pairs=True, pair_channels=16)
    other.load_state_dict(model.state_dict())
    data = make_example()
    assert torch.equal(model(data), other(data))
    with pytest.raises(TypeError, match="encode_pos must be a bool"):
        PairEncoder(encode_pos=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pair_channels"):
        PairDecoder(pair_channels=0)
    # a pair layer whose scale is the mesh's shortest edges needs the edges
    with pytest.raises(ValueError, match="pass the mesh's edge_index"):
        PairEncoder()(torch.rand(3, 1), torch.rand(3, 2), torch.rand(4, 2))


def test_pre_norm_gen_batching_process_and_state_dict() -> None:
    from gen_pyg.mesh import grid

    g = torch.Generator().manual_seed(5)
    examples = []
    for k in (2, 3, 5):
        data = make_example(num_inputs=3 * k, num_queries=k + 2, generator=g)
        for key, value in grid(k):
            data[key] = value
        data.num_nodes = k * k
        examples.append(data)
    model = gen_small(representation=Bilinear(), pairs=True, norm="pre")
    conv, final_norm = model.processor.conv, model.processor.final_norm
    assert conv.norm_position == "pre" and final_norm is not None
    assert_batch_equivalence(model, examples)
    # process = T pre-norm rounds, then the final LayerNorm; no rounds: the encoding as it is
    data = examples[2]
    z = model.encode(data)
    expected = z
    edge_attr = ElementConv.edge_geometry(data.pos, data.edge_index)
    for _ in range(3):
        expected = conv(expected, data.edge_index, geometry=edge_attr)
    torch.testing.assert_close(model.process(z, data, num_steps=3), final_norm(expected))
    torch.testing.assert_close(model.process(z, data, num_steps=0), z)
    assert "processor.final_norm.weight" in model.state_dict() and "norm='pre'" in repr(model)
    paper = gen_small(representation=Bilinear())
    assert paper.processor.final_norm is None
    assert "processor.final_norm.weight" not in paper.state_dict()
    assert "norm=" not in repr(paper)
    with pytest.raises(ValueError, match="norm must be one of"):
        gen_small(norm="yes")


def test_recall_and_local_geometry_by_hand_batching_and_state_dict() -> None:
    from gen_pyg.mesh import grid

    g = torch.Generator().manual_seed(6)
    examples = []
    for k in (2, 3, 4):
        data = make_example(num_inputs=3 * k, num_queries=k + 2, generator=g)
        for key, value in grid(k):
            data[key] = value
        data.num_nodes = k * k
        examples.append(data)
    model = gen_small(representation=Bilinear(), pairs=True, recall=True, geometry="local")
    assert_batch_equivalence(model, examples)
    # process by hand: z^{t+1} = conv(z^t + W z^0) on offsets divided by the node's shortest
    # edge (the grid spacing 1/3 on a 4x4 grid: sides become 1, the triangles' diagonals 2^0.5)
    data = examples[2]
    z0 = model.encode(data)
    geometry = ElementConv.edge_geometry(data.pos, data.edge_index) * 3.0
    assert sorted({round(v, 5) for v in geometry[:, -1].tolist()}) == [1.0, 1.41421]
    expected = z0
    recall, conv = model.processor.recall, model.processor.conv
    assert recall is not None
    for _ in range(3):
        expected = conv(expected + recall(z0), data.edge_index, geometry=geometry)
    torch.testing.assert_close(model.process(z0, data, num_steps=3), expected)
    # the local geometry makes the processor blind to the mesh's scale, the absolute one not
    scaled = data.clone()
    scaled.pos = data.pos * 0.1
    torch.testing.assert_close(model.process(z0, scaled, num_steps=3), expected)
    absolute = gen_small(representation=Bilinear())
    assert not torch.allclose(absolute.process(z0, scaled, num_steps=3),
                              absolute.process(z0, data, num_steps=3))
    assert "processor.recall.weight" in model.state_dict()
    assert "processor.recall.weight" not in absolute.state_dict()
    assert "recall=True" in repr(model) and "geometry='local'" in repr(model)
    assert "recall" not in repr(absolute) and "geometry" not in repr(absolute)
    with pytest.raises(ValueError, match="geometry must be one of"):
        gen_small(geometry="relative")
    with pytest.raises(TypeError, match="recall must be a bool"):
        gen_small(recall=1)  # type: ignore[arg-type]


# ------------------------------------------- mesh-independent encoder and processor
def _on_grid(k: int, data: Data) -> Data:
    from gen_pyg.mesh import grid

    out = data.clone()
    for key, value in grid(k):
        out[key] = value
    out.num_nodes = k * k
    return out


def test_gaussian_kernel_encoder_by_hand() -> None:
    """Two nodes on a line, sigma 0.5: the cutoff is 1.5, weights exp(-d^2 / 0.5)."""
    kernel = GaussianKernel(0.5)
    model = gen_small(encoder_rep=kernel)
    nodes = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    points = torch.tensor([[0.5, 0.0], [1.0, 0.0], [4.0, 0.0]])
    point, node, weight = kernel(points, nodes)
    got = sorted(zip(point.tolist(), node.tolist(), weight.tolist(), strict=True))
    # point 0 is 0.5 and 1.5 away (both within 1.5), point 1 is 1 from both, point 2 none
    want = [(0, 0, math.exp(-0.25 / 0.5)), (0, 1, math.exp(-2.25 / 0.5)),
            (1, 0, math.exp(-1.0 / 0.5)), (1, 1, math.exp(-1.0 / 0.5))]
    assert [(p, n) for p, n, _ in got] == [(p, n) for p, n, _ in want]
    torch.testing.assert_close(torch.tensor([w for *_, w in got]),
                               torch.tensor([w for *_, w in want]))
    assert not kernel.partition_of_unity and GaussianKernel(0.5, normalize=True).partition_of_unity
    # the encoding is the kernel-weighted sum of the encoded samples
    x = torch.tensor([[1.0], [2.0], [3.0]])
    h = model.encoder.heads(x, points, None)
    expected = torch.stack([want[0][2] * h[0] + want[2][2] * h[1],
                            want[1][2] * h[0] + want[3][2] * h[1]])
    data = Data(pos=nodes, edge_index=torch.tensor([[0, 1], [1, 0]]), input_pos=points,
                input_x=x, query_pos=points[:1])
    torch.testing.assert_close(model.encode(data), expected)
    assert str(kernel) == "GaussianKernel(sigma=0.5)"
    assert str(GaussianKernel(1, cutoff=2, normalize=True)) == (
        "GaussianKernel(sigma=1.0, cutoff=2.0, normalize=True)")
    assert get_representation("gaussian", sigma=0.5).sigma == 0.5


@pytest.mark.parametrize("pairs", [False, True])
def test_kernel_decoder_by_hand(pairs: bool) -> None:
    """Nodes at 0 and 2 on a line, sigma 0.5: a query at 0.5 averages both (weights exp(-0.5)
    and exp(-4.5), normalised), one at 1.8 only the second node (1.8 > 1.5 from the first)."""
    model = gen_small(representation=Bilinear(), pairs=pairs,
                      decoder_rep=GaussianKernel(0.5, normalize=True))
    nodes = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    queries = torch.tensor([[0.5, 0.0], [1.8, 0.0]])
    z = torch.randn(2, 8)
    data = Data(pos=nodes, edge_index=torch.tensor([[0, 1], [1, 0]]),
                input_pos=queries, input_x=torch.ones(2, 1), query_pos=queries)
    # the decoder heads see the kernel average zq (and the query positions)
    zq = model.decoder.interpolate(z, nodes, queries)
    out = model.decode(z, data)
    w = torch.tensor([math.exp(-0.5), math.exp(-4.5)])
    w = w / w.sum()
    if pairs:
        pair = model.decoder.pair
        first = (w[0] * pair(torch.cat([z[0], torch.tensor([1.0, 0.0])]))
                 + w[1] * pair(torch.cat([z[1], torch.tensor([-3.0, 0.0])])))
        second = pair(torch.cat([z[1], torch.tensor([-0.4, 0.0])]))
    else:
        first, second = w[0] * z[0] + w[1] * z[1], z[1]
    torch.testing.assert_close(zq, torch.stack([first, second]))
    torch.testing.assert_close(out, model.decoder.heads(zq, queries, None))


@pytest.mark.parametrize("pairs", [False, True])
def test_kernel_encoder_is_the_same_at_a_node_on_every_mesh(pairs: bool) -> None:
    """grid(4)'s nodes are grid(7)'s every other node: their encodings are equal, while the
    representation's (bilinear weights, normalised over the nodes) are not."""
    g = torch.Generator().manual_seed(7)
    data = make_example(num_inputs=20, num_queries=3, generator=g)
    coarse, fine = _on_grid(4, data), _on_grid(7, data)
    shared = torch.tensor([7 * (2 * i) + 2 * j for i in range(4) for j in range(4)])
    torch.testing.assert_close(fine.pos[shared], coarse.pos)
    model = gen_small(representation=Bilinear(), encoder_rep=GaussianKernel(0.2), pairs=pairs)
    torch.testing.assert_close(model.encode(fine)[shared], model.encode(coarse))
    plain = gen_small(representation=Bilinear(), pairs=pairs)
    assert not torch.allclose(plain.encode(fine)[shared], plain.encode(coarse))


def test_radius_processor_is_the_radius_graph_and_batches() -> None:
    from gen_pyg.mesh import radius_edges

    g = torch.Generator().manual_seed(8)
    data = _on_grid(5, make_example(num_inputs=12, num_queries=4, generator=g))
    stages = {"representation": Bilinear(), "pairs": True, "aggr": "mean",
              "encoder_rep": GaussianKernel(0.2),
              "decoder_rep": GaussianKernel(0.2, normalize=True)}
    model = gen_small(graph=RadiusGraph(0.3), **stages)  # type: ignore[arg-type]
    # the same weights on a mesh whose edges are the radius graph, without the graph builder
    explicit = gen_small(**stages)  # type: ignore[arg-type]
    explicit.load_state_dict(model.state_dict())
    z0 = model.encode(data)
    radius_mesh = data.clone()
    radius_mesh.edge_index = radius_edges(data.pos, 0.3)
    # the spacing is 0.25: 4 neighbours at 0.25, none on the diagonals (0.354)
    assert radius_mesh.edge_index.size(1) == 2 * 2 * 5 * 4
    torch.testing.assert_close(model.process(z0, data), explicit.process(z0, radius_mesh))
    assert not torch.allclose(model.process(z0, data), explicit.process(z0, data))
    # batched meshes of several sizes give what they give one by one (no edge between examples)
    examples = [_on_grid(k, make_example(num_inputs=3 * k, num_queries=k + 2, generator=g))
                for k in (4, 5, 7)]
    assert_batch_equivalence(model, examples)
    assert "graph=RadiusGraph(r=0.3)" in repr(model) and "GaussianKernel(sigma=0.2)" in repr(model)
    assert "graph" not in repr(explicit)


def test_kernel_and_radius_bad_values() -> None:
    for make, name in ((GaussianKernel, "sigma"), (RadiusGraph, "r"),
                       (lambda v: GaussianKernel(0.1, cutoff=v), "cutoff")):
        for bad in (-1.0, float("inf"), True, "0.1", None):
            with pytest.raises(ValueError, match=f"{name} must be a positive finite number"):
                make(bad)  # type: ignore[operator]


def test_mesh_independent_preset_is_the_recipe() -> None:
    """GEN.mesh_independent() is the kernel_all recipe of the size-generalisation records."""
    from gen_pyg.training import ModelConfig

    preset = GEN.mesh_independent()
    config = ModelConfig(representation="bilinear", relative_pos=True, encoder_kernel=0.08,
                         processor_radius=0.36, num_steps=6, aggr="mean", decoder_kernel=0.08)
    built = config.build_gen()
    assert str(preset) == str(built)
    preset.load_state_dict(built.state_dict())  # strict: the same modules
    data = _on_grid(7, make_example(num_inputs=30, num_queries=5))
    torch.testing.assert_close(preset(data), built(data))


@pytest.mark.parametrize("representation", ["kernel", "bilinear"])
def test_pair_decoder_is_the_per_pair_mlp(representation: str) -> None:
    """PairDecoder never calls its pair MLP per pair (the node term once per node, the last
    layer after the sum); its answers and gradients (to the states, the node and query
    positions and the weights) are those of the MLP applied to every (query, node) pair and
    summed with the representation's weights, in float64."""
    from gen_pyg.mesh import grid
    from gen_pyg.nn import GaussianKernel

    g = torch.Generator().manual_seed(5)
    mesh = grid(4)
    rep = GaussianKernel(0.3, normalize=True) if representation == "kernel" else "bilinear"
    dec = PairDecoder(8, 2, rep, hidden_channels=8, pair_channels=6, chunk_size=5).double()
    z = torch.randn(16, 8, generator=g, dtype=torch.float64, requires_grad=True)
    pos = mesh.pos.double().requires_grad_(True)
    query = torch.rand(7, 2, generator=g, dtype=torch.float64).requires_grad_(True)

    def per_pair(z: torch.Tensor, pos: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        point, node, weight = dec.representation(query, pos, mesh=mesh)
        scale = dec.representation.node_scale(pos, mesh.edge_index)
        out = torch.zeros(7, 6, dtype=torch.float64)
        for p, n, w in zip(point.tolist(), node.tolist(), weight, strict=True):
            offset = (query[p] - pos[n]) / scale[n]
            answer = w * dec.pair(torch.cat([z[n], offset]))
            out = out.index_add(0, torch.tensor([p]), answer[None])
        return out

    fused = dec.interpolate(z, pos, query, edge_index=mesh.edge_index, mesh=mesh)
    expected = per_pair(z, pos, query)
    torch.testing.assert_close(fused, expected, rtol=1e-12, atol=1e-12)
    params = [z, pos, query, *dec.pair.parameters()]
    g_fused = torch.autograd.grad(fused.sin().sum(), params)
    g_expected = torch.autograd.grad(expected.sin().sum(), params)
    for a, b in zip(g_fused, g_expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("representation", "functions", "encode_pos"),
                         [("kernel", 2, True), ("kernel", 1, False), ("bilinear", 2, True)])
def test_pair_encoder_sum_is_the_per_pair_mlp(representation: str, functions: int,
                                             encode_pos: bool) -> None:
    """With sum aggregation PairEncoder never calls its heads per pair (the sample term once
    per sample, the last layer after the sum); its states and gradients (to the samples, their
    positions, the node positions and the weights) are those of each sample's function head
    applied to every (sample, node) pair and summed with the weights, in float64."""
    from gen_pyg.mesh import grid
    from gen_pyg.nn import GaussianKernel

    g = torch.Generator().manual_seed(9)
    mesh = grid(4)
    rep = GaussianKernel(0.3) if representation == "kernel" else "bilinear"
    enc = PairEncoder([1, 2][:functions], 6, rep, hidden_channels=5,
                      encode_pos=encode_pos).double()
    x = torch.randn(9, 2, generator=g, dtype=torch.float64, requires_grad=True)
    xpos = torch.rand(9, 2, generator=g, dtype=torch.float64).requires_grad_(True)
    pos = mesh.pos.double().requires_grad_(True)
    fn = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1, 1]) % functions

    def per_pair(x: Tensor, xpos: Tensor, pos: Tensor) -> Tensor:
        point, node, weight = enc.representation(xpos, pos, mesh=mesh)
        scale = enc.representation.node_scale(pos, mesh.edge_index)
        out = torch.zeros(16, 6, dtype=torch.float64)
        for p, n, w in zip(point.tolist(), node.tolist(), weight, strict=True):
            f = int(fn[p])
            feats = [x[p, : enc.in_channels[f]]] + ([xpos[p]] if encode_pos else [])
            feats.append((xpos[p] - pos[n]) / scale[n])
            out = out.index_add(0, torch.tensor([n]),
                                (w * enc.heads.heads[f](torch.cat(feats)))[None])
        return out

    fused = enc(x, xpos, pos, input_fn=fn, edge_index=mesh.edge_index, mesh=mesh)
    expected = per_pair(x, xpos, pos)
    torch.testing.assert_close(fused, expected, rtol=1e-12, atol=1e-12)
    params = [x, xpos, pos, *enc.parameters()]
    g_fused = torch.autograd.grad(fused.sin().sum(), params, allow_unused=True)
    g_expected = torch.autograd.grad(expected.sin().sum(), params, allow_unused=True)
    for a, b in zip(g_fused, g_expected, strict=True):
        if b is None:  # e.g. the second input channel of a one-channel function
            assert a is None or a.abs().max() == 0
        else:
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    if functions > 1:
        with pytest.raises(ValueError, match="input_fn"):
            enc(x, xpos, pos, edge_index=mesh.edge_index, mesh=mesh)


@pytest.mark.parametrize("normalize", [True, False])
def test_pair_decoder_chunks_equal_one_pass(normalize: bool) -> None:
    """Decoding the pairs in chunks is the one-pass weighted sum (float64: only the order of
    additions differs), in value and in gradient, for chunks that do and do not divide the
    pairs."""
    from gen_pyg.nn import GaussianKernel

    g = torch.Generator().manual_seed(3)
    z, pos = torch.randn(30, 8, generator=g), torch.rand(30, 2, generator=g)
    query = torch.rand(11, 2, generator=g)
    batch = torch.arange(2).repeat_interleave(15)
    query_batch = torch.tensor([0] * 5 + [1] * 6)
    rep = GaussianKernel(0.3, normalize=normalize)
    whole = PairDecoder(8, 2, rep, hidden_channels=8, pair_channels=6, chunk_size=None).double()
    pairs = rep(query, pos, query_batch, batch)[0].numel()
    assert pairs > 40  # several chunks below
    for chunk in (1, 7, pairs // 2, pairs):
        part = PairDecoder(8, 2, rep, hidden_channels=8, pair_channels=6,
                           chunk_size=chunk).double()
        part.load_state_dict(whole.state_dict())
        zs = [z.double().requires_grad_(True) for _ in range(2)]
        a = whole(zs[0], pos.double(), query.double(), batch, query_batch)
        b = part(zs[1], pos.double(), query.double(), batch, query_batch)
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)
        a.pow(2).sum().backward()
        b.pow(2).sum().backward()
        torch.testing.assert_close(zs[1].grad, zs[0].grad, rtol=1e-12, atol=1e-12)
        assert str(part).endswith(f"chunk_size={chunk})") or chunk == 4096
    with pytest.raises(ValueError, match="chunk_size"):
        PairDecoder(chunk_size=0)
