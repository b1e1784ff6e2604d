"""InteractionConv / InteractionNetwork: representation, exact small cases, invariances."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch_geometric.data import Batch

from gen_pyg.datasets import chain_edge_index, spring_chain_graph
from gen_pyg.nn import InteractionConv, InteractionNetwork
from gen_pyg.solvers import chain_accelerations


def hooke_model(stiffness: float = 1.0, mass: float = 1.0) -> InteractionNetwork:
    """An InteractionNetwork whose weights encode a = k * sum_j (x_j - x_i) / m exactly.

    relu(d) - relu(-d) = d lets two ReLU units carry a signed number through each MLP.
    """
    model = InteractionNetwork(in_channels=2, out_channels=1, hidden_channels=2)
    conv = model.convs[0]
    edge1, edge2 = conv.edge_mlp[0], conv.edge_mlp[2]
    node1, node2 = conv.node_mlp[0], conv.node_mlp[2]
    with torch.no_grad():
        for layer in (edge1, edge2, node1, node2):
            layer.weight.zero_()
            layer.bias.zero_()
        edge1.weight[:, 0] = torch.tensor([1.0, -1.0])  # [relu(dx), relu(-dx)]
        edge2.weight[0] = torch.tensor([stiffness, -stiffness])  # message = (k dx, 0)
        node1.weight[:, 1] = torch.tensor([1.0 / mass, -1.0 / mass])  # inputs: v, m0, m1
        node2.weight[0] = torch.tensor([1.0, -1.0])
    return model


def test_repr() -> None:
    conv = InteractionConv(2, 1)
    assert str(conv) == (
        "InteractionConv(2, 1, hidden_channels=32, edge_dim=0, node_channels=2, relative=True)"
    )
    assert str(InteractionConv(3, 4, hidden_channels=8, edge_dim=1, node_channels=0,
                               relative=False)) == (
        "InteractionConv(3, 4, hidden_channels=8, edge_dim=1, node_channels=0, relative=False)"
    )
    assert str(InteractionNetwork()) == (
        "InteractionNetwork(2, 1, hidden_channels=32, num_layers=1, position_channels=1, "
        "relative=True)"
    )


def test_message_and_update_by_hand() -> None:
    # With all weights of the hidden layers the identity (hidden = 1, positive inputs), the
    # layer sums neighbour differences: node 1 of a 3-chain receives (x0 - x1) + (x2 - x1).
    conv = InteractionConv(1, 1, hidden_channels=1, node_channels=0)
    with torch.no_grad():
        for layer in (*conv.edge_mlp[::2], *conv.node_mlp[::2]):
            layer.weight.fill_(1.0)
            layer.bias.zero_()
    x = torch.tensor([[3.0], [1.0], [2.0]])
    out = conv(x, chain_edge_index(3))
    # relu(x_j - x_i): node 0 gets relu(1 - 3) = 0, node 1 gets 2 + 1, node 2 gets relu(-1) = 0
    assert out[:, 0].tolist() == [0.0, 3.0, 0.0]


def test_hooke_weights_reproduce_the_physics_on_any_chain_length() -> None:
    for n in (2, 3, 10, 100):
        x = torch.randn(n)
        graph = spring_chain_graph(x, torch.randn(n))
        out = hooke_model(2.0, 0.5)(graph.x, graph.edge_index)[:, 0]
        torch.testing.assert_close(out, chain_accelerations(x, 2.0, 0.5))


def test_relative_model_is_translation_invariant() -> None:
    model = InteractionNetwork(in_channels=3, hidden_channels=16)
    x = torch.randn(6, 3)
    shifted = x.clone()
    shifted[:, 0] += 4.2
    edge_index = chain_edge_index(6)
    torch.testing.assert_close(model(x, edge_index), model(shifted, edge_index))
    absolute = InteractionNetwork(in_channels=3, position_channels=0, relative=False)
    assert not torch.allclose(absolute(x, edge_index), absolute(shifted, edge_index))


def test_batched_forward_equals_graph_by_graph() -> None:
    model = InteractionNetwork(in_channels=3, edge_dim=1, num_layers=2, hidden_channels=8)
    graphs = [
        spring_chain_graph(torch.randn(n), torch.randn(n), torch.rand(n - 1) + 0.5,
                           torch.rand(n) + 0.5, stiffness_feature=True, mass_feature=True)
        for n in (2, 5, 3)
    ]
    batch = Batch.from_data_list(graphs)
    out = model(batch.x, batch.edge_index, batch.edge_attr)
    expected = torch.cat([model(g.x, g.edge_index, g.edge_attr) for g in graphs])
    torch.testing.assert_close(out, expected)


def test_notebook_architecture_has_its_parameter_count() -> None:
    # 4 -> 32 -> 32 edge MLP and 34 -> 32 -> 1 node MLP, as in the teaching notebook.
    model = InteractionNetwork(position_channels=0, relative=False)
    assert sum(p.numel() for p in model.parameters()) == (4 * 32 + 32 + 32 * 32 + 32) + (
        34 * 32 + 32 + 32 + 1
    )


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


@pytest.mark.parametrize(
    "make",
    [
        lambda: InteractionConv(3, 2, hidden_channels=16, edge_dim=1, relative=False),
        lambda: InteractionNetwork(in_channels=3, edge_dim=1, num_layers=3, hidden_channels=16),
    ],
    ids=["conv", "network"],
)
def test_reset_parameters_reinitialises_every_parameter(
    make: Callable[[], torch.nn.Module],
) -> None:
    model = make()
    names = [n for n, _ in model.named_parameters()]
    # every Linear of every MLP (of every layer) has a weight and a bias
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(names) == 2 * len(linears) >= 4
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(7.0)  # far outside any initialisation
    torch.manual_seed(123)
    model.reset_parameters()
    first = _snapshot(model)
    # every element of every parameter was redrawn (not one tensor among many)
    for name, value in first.items():
        assert bool((value != 7.0).all()), f"{name} was not (fully) re-initialised"
    # the layer documents no init of its own, so it is torch.nn.Linear's: weight and bias
    # ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the spread checks this distribution, not a narrower one
    for layer in linears:
        bound = 1 / layer.in_features**0.5
        w = layer.weight.detach()
        assert float(w.abs().max()) <= bound and float(layer.bias.detach().abs().max()) <= bound
        if w.numel() >= 64:
            assert float(w.abs().max()) > 0.8 * bound
            assert float(w.std()) == pytest.approx(bound / 3**0.5, rel=0.3)
    # a second reset draws new values; the same seed draws the same values again
    model.reset_parameters()
    second = _snapshot(model)
    assert all(not torch.equal(first[n], second[n]) for n in names)
    torch.manual_seed(123)
    model.reset_parameters()
    for name, value in _snapshot(model).items():
        torch.testing.assert_close(value, first[name], rtol=0, atol=0)


def test_bad_input_is_rejected() -> None:
    conv = InteractionConv(2, 1, edge_dim=1)
    edge_index = chain_edge_index(3)
    with pytest.raises(ValueError, match="'x' must have shape"):
        conv(torch.zeros(3, 3), edge_index, torch.zeros(4, 1))
    with pytest.raises(ValueError, match="'edge_attr'"):
        conv(torch.zeros(3, 2), edge_index)
    with pytest.raises(ValueError, match="edge_dim=0"):
        InteractionConv(2, 1)(torch.zeros(3, 2), edge_index, torch.zeros(4, 1))
    with pytest.raises(ValueError, match="'u'"):
        InteractionConv(2, 1, node_channels=1)(torch.zeros(3, 2), edge_index)
    with pytest.raises(ValueError, match="hidden_channels"):
        InteractionConv(2, 1, hidden_channels=0)
    with pytest.raises(TypeError, match="in_channels"):
        InteractionConv(2.0, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="position_channels"):
        InteractionNetwork(in_channels=2, position_channels=3)
