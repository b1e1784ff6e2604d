"""MultilevelGEN: the grid hierarchy, equality with the plain GEN on coarse grids, a two-level
pass worked by hand, batching, training through the engine and bad input."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from gen_pyg.mesh import grid
from gen_pyg.mesh.batching import collate_group, replicate_mesh
from gen_pyg.nn import (
    GEN,
    ElementProcessor,
    GaussianKernel,
    MultilevelGEN,
    PairDecoder,
    PairEncoder,
    PointDecoder,
    PointEncoder,
    RadiusGraph,
    Representation,
    get_representation,
    grid_levels,
    node_scales,
)
from gen_pyg.training import ModelConfig, build_model


def small(pairs: bool = False, num_steps: int | None = None, **processor: object) -> GEN:
    """A bilinear GEN of latent size 8, the processor with ``processor``'s options."""
    torch.manual_seed(0)
    rep: Representation = get_representation("bilinear")
    return GEN((PairEncoder if pairs else PointEncoder)(1, 8, rep, hidden_channels=8),
               ElementProcessor(8, num_steps=num_steps, message_channels=4,
                                edge_hidden_channels=8, node_hidden_channels=8,
                                **processor),  # type: ignore[arg-type]
               (PairDecoder if pairs else PointDecoder)(8, 1, rep, hidden_channels=8))


def examples(n: int = 3, seed: int = 0) -> list[Data]:
    g = torch.Generator().manual_seed(seed)
    return [Data(input_pos=torch.rand(6, 2, generator=g), input_x=torch.rand(6, 1, generator=g),
                 query_pos=torch.rand(4, 2, generator=g)) for _ in range(n)]


def on(mesh_k: int, exs: list[Data]) -> Data:
    return replicate_mesh(collate_group(exs, False), grid(mesh_k))


def test_grid_levels_halve_to_the_coarsest_and_nest() -> None:
    assert grid_levels(14) == [4, 7, 14]
    assert grid_levels(13) == [4, 7, 13]
    assert grid_levels(7) == [4, 7]
    assert grid_levels(5) == [3, 5]
    assert grid_levels(4) == [4] and grid_levels(2) == [2]
    assert grid_levels(20, coarsest=2) == [2, 3, 5, 10, 20]
    # a (2m - 1)-grid holds every node of the m-grid: exact distances (cdist's default mode
    # goes through a matrix product here, whose round-off depends on the BLAS kernel: 2.4e-4
    # for coincident nodes with some, enough to hide a coincidence)
    fine, coarse = grid(13).pos, grid(7).pos
    dist = torch.cdist(coarse, fine, compute_mode="donot_use_mm_for_euclid_dist")
    assert dist.min(dim=1).values.max() < 1e-6
    with pytest.raises(ValueError, match="k must be"):
        grid_levels(1)


def test_up_to_the_coarsest_grid_it_is_the_plain_gen() -> None:
    gen = small(pairs=True, recall=True, geometry="local")
    model = MultilevelGEN(gen, rounds=2)
    for k in (2, 3, 4):
        batch = on(k, examples())
        torch.testing.assert_close(model(batch), gen(batch))


def test_two_levels_by_hand_and_batching() -> None:
    gen = small(pairs=True, recall=True, geometry="local")
    model = MultilevelGEN(gen, rounds=3)
    exs = examples()
    fine = on(7, exs)
    coarse = on(4, exs)
    z = gen.process(gen.encode(coarse), coarse, num_steps=6)
    moved = gen.decoder.spatial(z, coarse.pos, fine.pos, coarse.batch, fine.batch, mesh=coarse)
    z0 = gen.encode(fine)
    z = z0 + model.prolong(moved)
    assert gen.processor.recall is not None
    for _ in range(3):  # the fine rounds recall the fine encoding
        z = z + gen.processor.recall(z0)
        z = gen.processor.conv(z, fine.edge_index, geometry=_local_geometry(gen, fine))
    expected = gen.decode(z, fine)
    torch.testing.assert_close(model(fine), expected)
    # a batch is its examples one by one, on every level count
    for k in (7, 14):
        one_by_one = torch.cat([model(on(k, [e])) for e in exs])
        torch.testing.assert_close(model(on(k, exs)), one_by_one, atol=1e-5, rtol=1e-5)
    # a single Data works like a batch of one
    single = exs[0].clone()
    for key, value in grid(7):
        single[key] = value
    torch.testing.assert_close(model(single), model(on(7, exs[:1])))


def _local_geometry(gen: GEN, data: Data) -> torch.Tensor:
    from gen_pyg.nn import ElementConv

    scale = node_scales(data.pos, data.edge_index)[data.edge_index[1]]
    return ElementConv.edge_geometry(data.pos, data.edge_index) / scale.unsqueeze(-1)


def test_gradients_reach_every_weight_and_model_config_builds_it() -> None:
    model = MultilevelGEN(small(pairs=True, recall=True, geometry="local"))
    model(on(7, examples())).pow(2).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []
    built = build_model(ModelConfig(representation="bilinear", multilevel_rounds=2),
                        "poisson_square")
    assert isinstance(built, MultilevelGEN) and built.rounds == 2
    assert "prolong.weight" in built.state_dict()
    with pytest.raises(ValueError, match="multilevel_rounds=2 needs kind='gen'"):
        ModelConfig(kind="neural_process", multilevel_rounds=2)
    with pytest.raises(ValueError, match="multilevel_rounds must be at least 1"):
        ModelConfig(multilevel_rounds=0)


def test_bad_input_is_named() -> None:
    gen = small()
    with pytest.raises(TypeError, match="gen must be a GEN"):
        MultilevelGEN(torch.nn.Linear(2, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_steps must be None"):
        MultilevelGEN(small(num_steps=3))
    with pytest.raises(ValueError, match="rounds must be"):
        MultilevelGEN(gen, rounds=-1)
    model = MultilevelGEN(gen)
    no_grid = on(5, examples())
    del no_grid.grid_shape
    with pytest.raises(ValueError, match="needs a square grid mesh"):
        model(no_grid)
    bad = on(7, examples())
    bad.input_x = bad.input_x.clone()
    bad.input_x[0, 0] = float("nan")  # checked once at the entry, named as GEN names it
    with pytest.raises(ValueError, match=r"data\.input_x"):
        model(bad)
    rect = replicate_mesh(collate_group(examples(), False), grid([5, 6]))
    with pytest.raises(ValueError, match="same k x k grid"):
        model(rect)


def test_a_larger_diameter_adds_rounds_on_every_level() -> None:
    gen = small(pairs=True, recall=True, geometry="local")
    model = MultilevelGEN(gen, rounds=3)
    fine = on(7, examples())
    more = fine.clone()
    more.diameter = fine.diameter + 2  # RandomRounds drew 2 extra rounds
    coarse = on(4, examples())
    z = gen.process(gen.encode(coarse), coarse, num_steps=6 + 2)
    moved = gen.decoder.spatial(z, coarse.pos, fine.pos, coarse.batch, fine.batch, mesh=coarse)
    z0 = gen.encode(fine)
    z = gen.process(z0 + model.prolong(moved), fine, num_steps=3 + 2, z0=z0)
    expected = gen.decode(z, fine)
    torch.testing.assert_close(model(more), expected)
    assert not torch.allclose(model(more), model(fine))


def test_encoding_on_the_coarsest_level_only_by_hand() -> None:
    gen = small(pairs=True, recall=True, geometry="local")
    model = MultilevelGEN(gen, rounds=3, coarsest=2, encode="coarsest")
    exs = examples()
    fine, middle, coarse = on(7, exs), on(4, exs), on(2, exs)
    z = gen.process(gen.encode(coarse), coarse, num_steps=2)
    for low, high in ((coarse, middle), (middle, fine)):
        start = model.prolong(gen.decoder.spatial(z, low.pos, high.pos, low.batch, high.batch,
                                                  mesh=low))
        z = start
        assert gen.processor.recall is not None
        for _ in range(3):  # a finer level recalls its start, not an encoding
            z = z + gen.processor.recall(start)
            z = gen.processor.conv(z, high.edge_index, geometry=_local_geometry(gen, high))
    expected = gen.decode(z, fine)
    torch.testing.assert_close(model(fine), expected)
    # the inputs reach the prediction through the coarsest level only, and still reach it
    moved = [e.clone() for e in exs]
    moved[0].input_x = moved[0].input_x + 1.0
    assert not torch.allclose(model(on(7, moved))[:4], model(fine)[:4])
    every = MultilevelGEN(gen, rounds=3, coarsest=2)
    every.prolong.load_state_dict(model.prolong.state_dict())
    assert not torch.allclose(every(fine), model(fine))
    assert "encode='coarsest'" in repr(model)
    built = build_model(ModelConfig(representation="bilinear", multilevel_rounds=2,
                                    multilevel_encode="coarsest"), "poisson_square")
    assert isinstance(built, MultilevelGEN) and built.encode == "coarsest"
    with pytest.raises(ValueError, match="encode must be one of"):
        MultilevelGEN(gen, encode="finest")


def test_a_refiner_of_its_own_runs_the_finer_levels() -> None:
    gen = small(pairs=True, recall=True, geometry="local")
    model = MultilevelGEN(gen, rounds=3, share_processor=False)
    assert model.refiner is not None and model.refiner.recall is not None
    with torch.no_grad():  # the refiner starts as a copy; make it differ
        for p in model.refiner.parameters():
            p.add_(0.1 * torch.randn_like(p))
    exs = examples()
    fine, coarse = on(7, exs), on(4, exs)
    # the coarsest level is the GEN's own processor
    for k in (2, 3, 4):
        torch.testing.assert_close(model(on(k, exs)), gen(on(k, exs)))
    z = gen.process(gen.encode(coarse), coarse, num_steps=6)
    moved = model.prolong(gen.decoder.spatial(z, coarse.pos, fine.pos, coarse.batch,
                                              fine.batch, mesh=coarse))
    z0 = gen.encode(fine)
    z = z0 + moved
    for _ in range(3):  # the fine rounds: the refiner and its recall
        z = z + model.refiner.recall(z0)
        z = model.refiner.conv(z, fine.edge_index, geometry=_local_geometry(gen, fine))
    expected = gen.decode(z, fine)
    torch.testing.assert_close(model(fine), expected)
    model(fine).pow(2).sum().backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []
    keys = set(model.state_dict())
    assert "refiner.recall.weight" in keys and "refiner.conv.edge_mlp.0.weight" in keys
    assert "share_processor=False" in repr(model)
    built = build_model(ModelConfig(representation="bilinear", multilevel_rounds=2,
                                    multilevel_share_processor=False), "poisson_square")
    assert isinstance(built, MultilevelGEN) and built.refiner is not None
    with pytest.raises(TypeError, match="multilevel_share_processor must be a bool"):
        ModelConfig(multilevel_rounds=2, multilevel_share_processor=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="share_processor must be a bool"):
        MultilevelGEN(gen, share_processor="no")  # type: ignore[arg-type]
    # sharing (the default) adds no parameters
    shared = MultilevelGEN(gen)
    assert shared.refiner is None
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in shared.parameters()) + sum(
        p.numel() for p in gen.processor.parameters())


def test_supervised_levels_each_predict_in_training() -> None:
    from gen_pyg.training import EveryLevel
    from gen_pyg.training.experiment import training_loss

    gen = small(pairs=True, recall=True, geometry="local")
    model = MultilevelGEN(gen, rounds=3, coarsest=2, supervise=True)
    exs = examples()
    fine = on(7, exs)
    model.train()
    outs = model(fine)
    assert isinstance(outs, list) and len(outs) == len(grid_levels(7, 2)) == 3
    # the coarsest level's prediction is the plain GEN's on that grid
    torch.testing.assert_close(outs[0], gen(on(2, exs)))
    model.eval()
    final = model(fine)
    assert isinstance(final, torch.Tensor)
    torch.testing.assert_close(outs[-1], final)
    # the middle one decodes the 4x4 states, as the finer level receives them
    middle = on(4, exs)
    z = gen.process(gen.encode(on(2, exs)), on(2, exs), num_steps=2)
    two = on(2, exs)
    moved = model.prolong(gen.decoder.spatial(z, two.pos, middle.pos, two.batch, middle.batch,
                                              mesh=two))
    z0 = gen.encode(middle)
    z = gen.process(z0 + moved, middle, num_steps=3, z0=z0)
    torch.testing.assert_close(outs[1], gen.decode(z, middle))
    # the loss is the mean over levels of the loss of each
    fine.y = torch.randn_like(final)
    loss = EveryLevel("mse")
    value, n = loss(outs, fine)
    by_hand = sum(((o - fine.y) ** 2).sum() for o in outs) / 3
    torch.testing.assert_close(value, by_hand)
    assert n == fine.y.numel()
    assert loss(final, fine) == loss.objective(final, fine)
    with pytest.raises(ValueError, match="at least one prediction"):
        loss([], fine)
    weighted, _ = EveryLevel("mse", finest=0.8)(outs, fine)
    parts = [((o - fine.y) ** 2).sum() for o in outs]
    torch.testing.assert_close(weighted, 0.8 * parts[2] + 0.2 * (parts[0] + parts[1]) / 2)
    torch.testing.assert_close(EveryLevel("mse", finest=0.8)(outs[-1:], fine)[0], parts[2])
    with pytest.raises(ValueError, match="finest must be a number in"):
        EveryLevel("mse", finest=0.0)
    # built from a ModelConfig, the experiment trains on every level
    cfg = ModelConfig(representation="bilinear", multilevel_rounds=2, multilevel_supervise=True)
    built = build_model(cfg, "poisson_square")
    assert isinstance(built, MultilevelGEN) and built.supervise
    assert isinstance(training_loss(cfg), EveryLevel) and training_loss(cfg).finest is None
    cfg_fine = ModelConfig(representation="bilinear", multilevel_rounds=2,
                           multilevel_supervise=True, multilevel_supervise_finest=0.75)
    assert training_loss(cfg_fine).finest == 0.75
    with pytest.raises(ValueError, match="multilevel_supervise_finest must be"):
        ModelConfig(multilevel_rounds=2, multilevel_supervise=True,
                    multilevel_supervise_finest=1.5)
    assert training_loss(ModelConfig(multilevel_supervise=True)) == "mse"  # no multilevel
    assert "supervise=True" in repr(model)
    with pytest.raises(TypeError, match="supervise must be a bool"):
        MultilevelGEN(gen, supervise=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="multilevel_supervise must be a bool"):
        ModelConfig(multilevel_rounds=2, multilevel_supervise="yes")  # type: ignore[arg-type]


def test_mesh_independent_options_from_a_config_and_their_limits() -> None:
    cfg = ModelConfig(representation="bilinear", relative_pos=True, encoder_kernel=0.12,
                      processor_radius=0.36, num_steps=6, aggr="mean", decoder_kernel=0.1)
    model = build_model(cfg, "poisson_square")
    assert isinstance(model, GEN)
    assert isinstance(model.encoder, PairEncoder) and isinstance(model.decoder, PairDecoder)
    assert isinstance(model.encoder.representation, GaussianKernel)
    assert isinstance(model.decoder.representation, GaussianKernel)
    assert (model.encoder.representation.sigma, model.decoder.representation.sigma) == (0.12, 0.1)
    assert model.decoder.representation.normalize
    assert isinstance(model.processor, ElementProcessor)
    assert isinstance(model.processor.graph, RadiusGraph) and model.processor.graph.r == 0.36
    assert model.num_steps == 6
    stencil = build_model(ModelConfig(representation="bilinear", processor_radius=0.3,
                                      processor_stencil=12, num_steps=4), "poisson_square")
    assert isinstance(stencil, GEN) and isinstance(stencil.processor, ElementProcessor)
    assert repr(stencil.processor.graph) == "StencilGraph(r=0.3, points=12)"
    with pytest.raises(ValueError, match="processor_stencil needs processor_radius"):
        ModelConfig(processor_stencil=12)
    with pytest.raises(ValueError, match="processor_stencil must be at least 1"):
        ModelConfig(processor_stencil=0, processor_radius=0.3, num_steps=4)
    with pytest.raises(ValueError, match="processor_radius needs num_steps"):
        ModelConfig(processor_radius=0.3)
    with pytest.raises(ValueError, match="do not go together"):
        ModelConfig(processor_radius=0.3, num_steps=4, multilevel_rounds=2)
    with pytest.raises(ValueError, match="encoder_kernel must be a positive finite number"):
        ModelConfig(encoder_kernel=0)
    with pytest.raises(ValueError, match=r"encoder_kernel=0\.1 needs kind='gen'"):
        ModelConfig(kind="neural_process", encoder_kernel=0.1)
    with pytest.raises(ValueError, match="an ElementProcessor on the mesh's edges"):
        MultilevelGEN(small(num_steps=2, graph=RadiusGraph(0.3)))
