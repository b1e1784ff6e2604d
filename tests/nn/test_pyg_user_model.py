"""GEN layers inside a model written the way a PyG user writes one: a ``torch.nn.Module``
whose forward calls :class:`ElementConv` with the user's own edge features and a :class:`GEN`
through its tensor forward, trained one step in float32, under ``torch.autocast`` (bfloat16 on
the CPU, float16 with a ``GradScaler`` on CUDA) and under ``torch.compile``."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.nn import MessagePassing, global_mean_pool

from gen_pyg._validation import checked_inputs
from gen_pyg.nn import (
    GEN,
    ElementConv,
    ElementProcessor,
    GaussianKernel,
    NeuralProcess,
    PairDecoder,
    PairEncoder,
    PointDecoder,
    PointEncoder,
    RadiusGraph,
    SoftNearest,
    SpatialDecoder,
    SpatialEncoder,
)
from gen_pyg.nn.representation import dense_sizes
from gen_pyg.testing import (
    assert_batch_equivalence,
    assert_graph_breaks_at_most,
    count_host_syncs,
    make_example,
)


class UserModel(torch.nn.Module):
    """Node features -> ElementConv with edge features -> a per-graph score, plus a GEN
    sub-module predicting a field at query points from samples, on the same mesh."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Linear(1, 8)
        self.conv = ElementConv(8, message_channels=4, edge_hidden_channels=8,
                                node_hidden_channels=8, edge_dim=3)
        self.head = torch.nn.Linear(8, 1)
        rep = SoftNearest()
        self.gen = GEN(PointEncoder(1, 8, rep, hidden_channels=8),
                       ElementProcessor(8, num_steps=2, message_channels=4,
                                        edge_hidden_channels=8, node_hidden_channels=8),
                       PointDecoder(8, 1, rep, hidden_channels=8))

    def forward(self, x: Tensor, pos: Tensor, edge_index: Tensor, edge_attr: Tensor,
                input_x: Tensor, input_pos: Tensor, query_pos: Tensor) -> Tensor:
        h = self.conv(self.embed(x), edge_index, pos, edge_attr=edge_attr)
        field = self.gen(input_x, input_pos, pos, edge_index, query_pos)
        return field + self.head(h).mean()


def _inputs(seed: int = 0) -> tuple[Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    data = make_example(num_nodes=9, num_inputs=12, num_queries=5, generator=g)
    edge_attr = torch.rand(data.edge_index.size(1), 3, generator=g)
    x = torch.rand(9, 1, generator=g)
    return (x, data.pos, data.edge_index, edge_attr, data.input_x, data.input_pos,
            data.query_pos)


def _step(model: torch.nn.Module, inputs: tuple[Tensor, ...]) -> tuple[Tensor, list[Tensor]]:
    model.zero_grad()
    out = model(*inputs)
    out.float().pow(2).mean().backward()
    return out, [p.grad for p in model.parameters() if p.grad is not None]


def test_user_model_trains_and_its_edge_features_matter() -> None:
    torch.manual_seed(0)
    model, inputs = UserModel(), _inputs()
    out, grads = _step(model, inputs)
    assert out.shape == (5, 1)
    assert len(grads) == sum(1 for _ in model.parameters())
    assert all(bool(torch.isfinite(g).all()) for g in grads)
    other = list(inputs)
    other[3] = inputs[3] + 1.0  # other edge features, same mesh
    assert not torch.allclose(model(*other), out)


def test_gen_tensor_forward_equals_its_data_forward_batched() -> None:
    g = torch.Generator().manual_seed(1)
    model = GEN.paper(latent_channels=8, num_steps=3, representation=SoftNearest(k=3))
    examples = [make_example(num_nodes=n, num_inputs=p, num_queries=q, generator=g)
                for n, p, q in [(5, 4, 3), (8, 6, 2)]]
    batch = Batch.from_data_list(examples, follow_batch=["input_pos", "query_pos"])
    via_data = model(batch)
    via_tensors = model(batch.input_x, batch.input_pos, batch.pos, batch.edge_index,
                        batch.query_pos, input_batch=batch.input_pos_batch, batch=batch.batch,
                        query_batch=batch.query_pos_batch)
    torch.testing.assert_close(via_tensors, via_data)
    # and each example alone gives its rows of the batch
    first = examples[0]
    torch.testing.assert_close(
        model(first.input_x, first.input_pos, first.pos, first.edge_index, first.query_pos),
        via_data[:3])


def test_neural_process_tensor_forward_equals_its_data_forward() -> None:
    g = torch.Generator().manual_seed(2)
    model = NeuralProcess(latent_channels=8)
    examples = [make_example(num_inputs=p, num_queries=q, generator=g) for p, q in [(4, 3), (6, 2)]]
    batch = Batch.from_data_list(examples, follow_batch=["input_pos", "query_pos"])
    torch.testing.assert_close(
        model(batch.input_x, batch.input_pos, batch.query_pos, input_batch=batch.input_pos_batch,
              query_batch=batch.query_pos_batch),
        model(batch))
    one = examples[1]
    torch.testing.assert_close(model(one.input_x, one.input_pos, one.query_pos), model(batch)[3:])


def test_spatial_decoder_takes_positions_of_x_first_like_knn_interpolate() -> None:
    # knn_interpolate(x, pos_x, pos_y) with k=1 copies each query's nearest node: so does soft
    # nearest interpolation with k=1, called with the same arguments in the same order
    nodes = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    queries = torch.tensor([[0.1, 0.2], [0.9, 0.1], [0.2, 0.7], [0.6, 0.0]])
    z = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    ours = SpatialDecoder(SoftNearest(k=1))(z, nodes, queries)
    assert ours.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [3.0, 4.0]]
    # the encoder is the transpose: every point's feature lands on its nearest node
    enc = SpatialEncoder(SoftNearest(k=1))(torch.ones(4, 1), queries, nodes)
    assert enc.view(-1).tolist() == [1.0, 2.0, 1.0]


def test_no_host_syncs_in_layer_forwards_or_inside_the_gen() -> None:
    """After the entry point's checks nothing reads tensor values back to the host: not the
    conv, not the spatial layers, not the GEN's stages (dense soft nearest, one example and a
    batch with the block sizes given)."""
    model, inputs = UserModel(), _inputs()
    x, pos, edge_index, edge_attr, input_x, input_pos, query_pos = inputs
    h = model.embed(x)
    gen = model.gen
    with count_host_syncs() as syncs, checked_inputs():
        model.conv(h, edge_index, pos, edge_attr=edge_attr)
        SpatialEncoder()(input_x, input_pos, pos)
        SpatialDecoder()(h, pos, query_pos)
        z = gen.processor(gen.encoder(input_x, input_pos, pos), pos, edge_index, num_steps=2)
        gen.decoder(z, pos, query_pos)
    assert syncs == []
    g = torch.Generator().manual_seed(3)
    batch = Batch.from_data_list(
        [make_example(num_nodes=n, num_inputs=p, generator=g) for n, p in [(5, 4), (8, 6)]],
        follow_batch=["input_pos", "query_pos"])
    sizes = (dense_sizes(batch.input_pos_batch, batch.batch, 2),
             dense_sizes(batch.query_pos_batch, batch.batch, 2))
    with count_host_syncs() as syncs, checked_inputs():
        z = gen.encoder(batch.input_x, batch.input_pos, batch.pos, batch.input_pos_batch,
                        batch.batch, sizes=sizes[0])
        z = gen.processor(z, batch.pos, batch.edge_index, batch.batch, num_steps=2)
        batched = gen.decoder(z, batch.pos, batch.query_pos, batch.batch,
                              batch.query_pos_batch, sizes=sizes[1])
    assert syncs == []
    torch.testing.assert_close(batched, model.gen(batch))
    # the entry point is where the checks read values
    with count_host_syncs() as syncs:
        model.gen(input_x, input_pos, pos, edge_index, query_pos)
    assert syncs


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA sync detection needs CUDA")
def test_no_cuda_syncs_in_the_conv() -> None:
    model, inputs = UserModel().cuda(), [t.cuda() for t in _inputs()]
    h = model.embed(inputs[0])
    torch.cuda.set_sync_debug_mode("error")
    try:
        model.conv(h, inputs[2], inputs[1], edge_attr=inputs[3])
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_autocast_bfloat16_forward_and_backward_on_cpu() -> None:
    torch.manual_seed(0)
    model, inputs = UserModel(), _inputs()
    reference, _ = _step(model, inputs)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, grads = _step(model, inputs)
    assert all(bool(torch.isfinite(g).all()) for g in grads)
    assert all(g.dtype == torch.float32 for g in grads)  # parameters stay float32
    # bfloat16 keeps 8 bits of mantissa: the same prediction to about 1e-2
    torch.testing.assert_close(out.float(), reference, atol=5e-2, rtol=5e-2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="float16 autocast needs CUDA")
def test_autocast_float16_with_grad_scaler_on_cuda() -> None:
    torch.manual_seed(0)
    model, inputs = UserModel().cuda(), [t.cuda() for t in _inputs()]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda")
    for _ in range(3):
        optimizer.zero_grad()
        with torch.autocast("cuda", dtype=torch.float16):
            loss = model(*inputs).float().pow(2).mean()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        assert bool(torch.isfinite(loss))
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


@pytest.mark.slow  # torch.compile
def test_conv_compiles_as_one_graph_with_edge_features() -> None:
    model, inputs = UserModel(), _inputs()
    x, pos, edge_index, edge_attr = inputs[:4]
    h = model.embed(x).detach()
    compiled = torch.compile(model.conv, fullgraph=True, dynamic=False, backend="aot_eager")
    torch.testing.assert_close(compiled(h, edge_index, pos, edge_attr=edge_attr),
                               model.conv(h, edge_index, pos, edge_attr=edge_attr))


@pytest.mark.slow  # torch.compile
def test_user_model_compiles_with_few_graph_breaks_and_trains() -> None:
    torch.manual_seed(0)
    model, inputs = UserModel(), _inputs()
    assert assert_graph_breaks_at_most(2, model, *inputs) == 0
    # a batch of meshes of different sizes: the entry point reads the padded block sizes of
    # the dense representation once; nothing after it breaks the graph
    g = torch.Generator().manual_seed(3)
    batch = Batch.from_data_list(
        [make_example(num_nodes=n, num_inputs=p, generator=g) for n, p in [(5, 4), (8, 6)]],
        follow_batch=["input_pos", "query_pos"])
    assert_graph_breaks_at_most(
        2, model.gen, batch.input_x, batch.input_pos, batch.pos, batch.edge_index,
        batch.query_pos, input_batch=batch.input_pos_batch, batch=batch.batch,
        query_batch=batch.query_pos_batch, batch_size=2)
    eager_out, eager_grads = _step(model, inputs)
    compiled = torch.compile(model, dynamic=False, backend="aot_eager")
    out, grads = _step(compiled, inputs)
    torch.testing.assert_close(out, eager_out, atol=1e-5, rtol=1e-4)
    for a, b in zip(grads, eager_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out16, grads16 = _step(compiled, inputs)
    assert all(bool(torch.isfinite(g).all()) for g in grads16)
    torch.testing.assert_close(out16.float(), eager_out, atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("given_sizes", [False, True])
def test_padded_dense_blocks_equal_per_pair_messages(given_sizes: bool) -> None:
    # examples of different sizes pad the dense blocks; rows go to their slots by index
    g = torch.Generator().manual_seed(4)
    nodes, points = torch.rand(9, 2, generator=g), torch.rand(7, 2, generator=g)
    node_batch, point_batch = torch.tensor([0, 0, 1, 1, 1, 1, 2, 2, 2]), torch.tensor(
        [0, 1, 1, 1, 2, 2, 2])
    h, z = torch.randn(7, 3, generator=g), torch.randn(9, 3, generator=g)
    sizes = dense_sizes(point_batch, node_batch, 3) if given_sizes else None
    assert dense_sizes(point_batch, node_batch, 3) == (3, 3, 4)
    for backend_out, reference in (
        (SpatialEncoder(backend="fused")(h, points, nodes, point_batch, node_batch, sizes=sizes),
         SpatialEncoder(backend="propagate")(h, points, nodes, point_batch, node_batch)),
        (SpatialDecoder(backend="fused")(z, nodes, points, node_batch, point_batch, sizes=sizes),
         SpatialDecoder(backend="propagate")(z, nodes, points, node_batch, point_batch)),
    ):
        torch.testing.assert_close(backend_out, reference)


# ------------------------------------------------------- the GEN's stages in a user's model
class MeanOfNeighbours(MessagePassing):
    """A processor written the way a PyG user writes a layer: each round, a node takes the
    mean of its neighbours' states through a linear map (no geometry)."""

    def __init__(self, channels: int, num_steps: int) -> None:
        super().__init__(aggr="mean")
        self.lin = torch.nn.Linear(channels, channels)
        self.num_steps = num_steps

    def forward(self, z: Tensor, pos: Tensor, edge_index: Tensor, batch: Tensor | None = None,
                num_steps: int | None = None) -> Tensor:
        for _ in range(self.num_steps if num_steps is None else num_steps):
            z = z + self.propagate(edge_index, x=self.lin(z))
        return z


def test_mesh_independent_encoder_feeds_a_user_written_processor() -> None:
    """GEN(PairEncoder(GaussianKernel), the user's processor, PairDecoder): the composed model
    is the three modules called by hand, batches like its examples one by one, and the kernel
    encoding of grid(4)'s nodes is the same inside grid(7)."""
    from gen_pyg.mesh import grid

    torch.manual_seed(0)
    encoder = PairEncoder(1, 8, GaussianKernel(0.2), hidden_channels=8)
    processor = MeanOfNeighbours(8, num_steps=3)
    decoder = PairDecoder(8, 1, GaussianKernel(0.2, normalize=True), hidden_channels=8)
    model = GEN(encoder, processor, decoder)
    assert model.num_steps == 3
    g = torch.Generator().manual_seed(1)
    examples = []
    for k in (4, 7):
        data = make_example(num_inputs=12, num_queries=5, generator=g)
        for key, value in grid(k):
            data[key] = value
        data.num_nodes = k * k
        examples.append(data)
    data = examples[1]
    z0 = encoder(data.input_x, data.input_pos, data.pos)
    by_hand = decoder(processor(z0, data.pos, data.edge_index), data.pos, data.query_pos)
    torch.testing.assert_close(model(data), by_hand)
    assert_batch_equivalence(model, examples)
    coarse, fine = examples[0].clone(), examples[0].clone()
    for key, value in grid(7):
        fine[key] = value
    fine.num_nodes = 49
    shared = torch.tensor([7 * (2 * i) + 2 * j for i in range(4) for j in range(4)])
    torch.testing.assert_close(model.encode(fine)[shared], model.encode(coarse))


class RadiusModel(torch.nn.Module):
    """A plain PyG model: embed node features, run the GEN's radius processor over the node
    positions (no mesh edges at all), pool per graph."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Linear(3, 8)
        self.processor = ElementProcessor(8, num_steps=2, graph=RadiusGraph(0.4), aggr="mean")
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x: Tensor, pos: Tensor, batch: Tensor | None = None) -> Tensor:
        h = self.processor(self.embed(x), pos, batch=batch)
        return self.head(global_mean_pool(h, batch))


def test_radius_processor_inside_a_plain_pyg_model() -> None:
    """The processor builds its own graph: the same as ElementConv rounds over radius_graph's
    edges, per graph of a PyG batch (no edge between graphs), and it trains."""
    from torch_geometric.data import Data

    from gen_pyg.ops import radius_graph

    torch.manual_seed(0)
    model = RadiusModel()
    graphs = [Data(x=torch.randn(n, 3), pos=torch.rand(n, 2)) for n in (6, 9, 4)]
    batch = Batch.from_data_list(graphs)
    out = model(batch.x, batch.pos, batch.batch)
    assert out.shape == (3, 1)
    one_by_one = torch.cat([model(d.x, d.pos) for d in graphs])
    torch.testing.assert_close(out, one_by_one, atol=1e-5, rtol=1e-5)
    # by hand: two rounds of the conv on the radius graph of the first graph
    d = graphs[0]
    edges = radius_graph(d.pos, 0.4)
    h = model.embed(d.x)
    conv = model.processor.conv
    for _ in range(2):
        h = conv(h, edges, d.pos)
    torch.testing.assert_close(model.head(h.mean(0, keepdim=True)), model(d.x, d.pos))
    loss = (out - 1).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match="needs the mesh's edge_index"):
        ElementProcessor(8, num_steps=1)(torch.randn(3, 8), torch.rand(3, 2))
