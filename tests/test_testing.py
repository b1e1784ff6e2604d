"""The assertions of gen_pyg.testing fail when their property does not hold."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from gen_pyg.testing import (
    assert_batch_equivalence,
    assert_compiled_matches_eager,
    assert_graph_breaks_at_most,
    assert_input_permutation_invariance,
    assert_no_graph_breaks,
    assert_query_permutation_equivariance,
    count_host_syncs,
    make_example,
)


def first_input_only(data: Data) -> torch.Tensor:
    """Depends on the order of inputs and on the batch as a whole: breaks every property."""
    return data.query_pos.sum(-1, keepdim=True) * data.input_x[0]


def test_assertions_fail_on_a_model_without_the_properties() -> None:
    g = torch.Generator().manual_seed(0)
    data = make_example(generator=g)
    with pytest.raises(AssertionError, match="permuting inputs"):
        assert_input_permutation_invariance(first_input_only, data, generator=g)
    with pytest.raises(AssertionError, match="batched vs one-by-one"):
        assert_batch_equivalence(first_input_only, [data, make_example(generator=g)])

    def sorted_output(d: Data) -> torch.Tensor:
        return torch.sort(d.query_pos[:, :1], dim=0).values  # ignores the query order

    with pytest.raises(AssertionError, match="permuting queries"):
        assert_query_permutation_equivariance(sorted_output, data, generator=g)


def test_assertions_pass_on_a_model_with_the_properties() -> None:
    def mean_field(d: Data) -> torch.Tensor:
        return d.query_pos.sum(-1, keepdim=True) * d.input_x.mean()

    data = make_example()
    assert_input_permutation_invariance(mean_field, data)
    assert_query_permutation_equivariance(mean_field, data)


def test_no_graph_breaks_detects_a_break() -> None:
    def breaks(x: torch.Tensor) -> torch.Tensor:
        if x.sum().item() > 0:  # data-dependent Python control flow: a graph break
            return x + 1
        return x - 1

    with pytest.raises(AssertionError, match="graph break"):
        assert_no_graph_breaks(breaks, torch.ones(3))


def test_batch_equivalence_checks_the_output_granularity() -> None:
    g = torch.Generator().manual_seed(1)
    examples = [make_example(num_queries=q, generator=g) for q in (3, 5)]

    def per_query(d: Data) -> torch.Tensor:
        return d.query_pos.sum(-1, keepdim=True)

    def per_example(d: Data) -> torch.Tensor:
        return d.query_pos.new_ones(d.num_graphs if isinstance(d, Batch) else 1, 1)

    assert_batch_equivalence(per_query, examples)
    assert_batch_equivalence(per_example, examples, per_example_output=True)
    # batched and one-by-one agree, but the rows are not what was promised
    with pytest.raises(AssertionError, match=r"example 0: expected 3 rows \(one per query\)"):
        assert_batch_equivalence(per_example, examples)
    with pytest.raises(AssertionError, match=r"expected 1 row \(one per example\), got 3"):
        assert_batch_equivalence(per_query, examples, per_example_output=True)
    with pytest.raises(ValueError, match=r"need data\.query_pos"):
        assert_batch_equivalence(per_example, [Data(x=torch.ones(2, 1))])


class CompilesDifferently(torch.nn.Module):
    """Adds one only when traced by torch.compile: eager and compiled outputs differ."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.compiler.is_compiling():
            return x + 1
        return x


def test_compiled_matches_eager_detects_a_difference() -> None:
    x = torch.arange(4.0)
    with pytest.raises(AssertionError, match="compiled vs eager outputs: max abs difference 1"):
        assert_compiled_matches_eager(CompilesDifferently(), x)
    # (faithful modules pass it: see test_gen_compiled_matches_eager in tests/nn)


def test_graph_breaks_at_most_counts_and_refuses() -> None:
    def two_breaks(x: torch.Tensor) -> torch.Tensor:
        x = x + 1
        torch._dynamo.graph_break()
        x = x * 2
        torch._dynamo.graph_break()
        return x - 1

    x = torch.arange(3.0)
    assert assert_graph_breaks_at_most(2, two_breaks, x) == 2
    with pytest.raises(AssertionError, match="2 graph break"):
        assert_graph_breaks_at_most(1, two_breaks, x)


def test_count_host_syncs_sees_each_read_of_values_and_restores_torch() -> None:
    t = torch.tensor([1.0, 0.0, 2.0])
    with count_host_syncs() as syncs:
        _ = t * 2 + t.sum()  # stays on the device
        _ = t.max().item()
        _ = bool(t.any())
        _ = int(t[0])
        _ = t.nonzero()
        _ = torch.equal(t, t)
    assert syncs == ["item", "__bool__", "__int__", "nonzero", "equal"]
    with count_host_syncs() as again:
        pass
    assert again == [] and torch.equal(t, t) and t.max().item() == 2.0
