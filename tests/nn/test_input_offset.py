"""InputOffset adds the exact per-example mean of one input function's samples: worked by hand
on a model that predicts zero, batched equals one by one, bad input is named."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gen_pyg.nn import GEN, InputOffset
from gen_pyg.testing import make_example
from gen_pyg.training import ModelConfig, build_model


class Zero(torch.nn.Module):
    def forward(self, data: Data) -> Tensor:
        return data.query_pos.new_zeros(data.query_pos.size(0), 1)


def example(values: list[float], fns: list[int], queries: int) -> Data:
    return Data(input_pos=torch.rand(len(values), 2), input_x=torch.tensor(values).view(-1, 1),
                input_fn=torch.tensor(fns), query_pos=torch.rand(queries, 2))


def test_offset_is_the_mean_of_the_chosen_function_per_example() -> None:
    a = example([5.0, 1.0, 3.0, -7.0], [0, 1, 1, 0], queries=2)  # walls 1, 3: mean 2
    b = example([0.5, 0.25, 9.0], [1, 1, 0], queries=3)  # walls 0.5, 0.25: mean 0.375
    batch = Batch.from_data_list([a, b], follow_batch=["input_pos", "query_pos"])
    out = InputOffset(Zero(), function=1)(batch)
    assert out.view(-1).tolist() == [2.0, 2.0, 0.375, 0.375, 0.375]
    # function 0 (heaters): (5 - 7) / 2 = -1 and 9
    assert InputOffset(Zero(), function=0)(batch).view(-1).tolist() == [-1.0] * 2 + [9.0] * 3
    # a plain Data and a batch without follow_batch give the same
    assert InputOffset(Zero())(a).view(-1).tolist() == [2.0, 2.0]
    plain = Batch.from_data_list([a, b])
    assert InputOffset(Zero())(plain).view(-1).tolist() == out.view(-1).tolist()


def test_wrapped_gen_batched_equals_one_by_one_and_gradients_reach_the_gen() -> None:
    torch.manual_seed(0)
    model = InputOffset(GEN(in_channels=[1, 1], out_channels=1))
    g = torch.Generator().manual_seed(1)
    examples = [make_example(num_inputs=8, num_queries=4, in_channels=[1, 1], generator=g)
                for _ in range(3)]
    for e in examples:
        e.input_fn[0], e.input_fn[1] = 0, 1  # both functions present in every example
    batch = Batch.from_data_list(examples, follow_batch=["input_pos", "query_pos"])
    together = model(batch)
    apart = torch.cat([model(e) for e in examples])
    torch.testing.assert_close(together, apart, rtol=1e-5, atol=1e-6)
    gen_only = torch.cat([model.model(e) for e in examples])
    offsets = torch.cat([e.input_x[e.input_fn == 1].mean().expand(4, 1) for e in examples])
    torch.testing.assert_close(apart, gen_only + offsets)
    together.sum().backward()
    assert all(p.grad is not None for p in model.model.parameters() if p.requires_grad)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="function must be at least 0"):
        InputOffset(Zero(), function=-1)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        InputOffset(lambda d: d, function=1)  # type: ignore[arg-type]
    a = example([5.0, 1.0], [0, 1], queries=2)
    b = example([0.5], [0], queries=1)  # no wall sample
    batch = Batch.from_data_list([a, b], follow_batch=["input_pos", "query_pos"])
    with pytest.raises(ValueError, match="example 1 has no sample with input_fn == 1"):
        InputOffset(Zero())(batch)
    two = Data(input_pos=torch.rand(2, 2), input_x=torch.ones(2, 2),
               input_fn=torch.tensor([1, 1]), query_pos=torch.rand(3, 2))
    with pytest.raises(ValueError, match="have 2 channels but the model predicts 1"):
        InputOffset(Zero())(two)
    with pytest.raises(ValueError, match=r"needs data\.input_fn"):
        InputOffset(Zero())(Data(input_x=torch.ones(2, 1), query_pos=torch.rand(3, 2)))


def test_model_config_wraps_and_checks_the_function() -> None:
    model = build_model(ModelConfig("gen", representation="bilinear", offset_function=1))
    assert isinstance(model, InputOffset) and isinstance(model.model, GEN)
    assert not isinstance(build_model(ModelConfig("gen")), InputOffset)
    with pytest.raises(ValueError, match="offset_function must name an input function"):
        build_model(ModelConfig("gen", offset_function=2))


def test_model_config_relative_pos_and_widths() -> None:
    model = build_model(ModelConfig("gen", representation="bilinear", relative_pos=True,
                                    encoder_hidden_channels=16, decoder_hidden_channels=8))
    assert isinstance(model, GEN) and model.relative_pos and model.pair_decoder is not None
    assert model.encoders.heads[0][0].out_features == 16
    assert model.decoders.heads[0][0].out_features == 8
    with pytest.raises(ValueError, match="relative_pos must be a bool"):
        ModelConfig("gen", relative_pos="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decoder_hidden_channels must be a positive integer"):
        ModelConfig("gen", decoder_hidden_channels=0)
    with pytest.raises(ValueError, match="relative_pos=True needs kind='gen'"):
        ModelConfig("neural_process", relative_pos=True)
    # the widths reach the Neural Process too (its encoder's first layer, its decoder's)
    baseline = build_model(ModelConfig("neural_process", encoder_hidden_channels=16,
                                       decoder_hidden_channels=8))
    widths = [m.out_features for m in baseline.modules() if isinstance(m, torch.nn.Linear)]
    assert 16 in widths and 8 in widths


def test_model_config_norm_reaches_the_gen() -> None:
    pre = build_model(ModelConfig("gen", representation="bilinear", norm="pre"))
    assert isinstance(pre, GEN) and pre.conv.norm_position == "pre"
    assert pre.final_norm is not None
    bare = build_model(ModelConfig("gen", norm="none"))
    assert isinstance(bare, GEN) and bare.conv.norm_position == "none"
    assert isinstance(bare.conv.norm, torch.nn.Identity) and bare.final_norm is None
    assert build_model(ModelConfig("gen")).conv.norm_position == "post"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="norm must be one of"):
        ModelConfig("gen", norm="pre_ln")
    with pytest.raises(ValueError, match="norm='pre' needs kind='gen'"):
        ModelConfig("neural_process", norm="pre")
