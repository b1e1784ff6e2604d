"""ElementConv is PyG's message/aggregate/update pipeline with every aggregation honoured (checked
against an explicit loop over nodes); the fused backend equals it forward and backward, and
double backward is either exact (propagate) or refused (fused)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from gen_pyg.nn import GEN, ElementConv, ElementProcessor
from gen_pyg.testing import make_example

EDGES = torch.tensor([[0, 1, 2, 3, 4, 1, 2, 0, 3], [1, 0, 3, 2, 1, 2, 0, 2, 0]])
N = 6  # node 5 has no incoming edge; node 4 none either (only outgoing)

REDUCE: dict[str, Callable[[Tensor], Tensor]] = {
    "sum": lambda m: m.sum(0),
    "mean": lambda m: m.mean(0),
    "max": lambda m: m.max(0).values,
    "min": lambda m: m.min(0).values,
    "mul": lambda m: m.prod(0),
}


def loop_reference(conv: ElementConv, x: Tensor, pos: Tensor, reduce: Callable[[Tensor], Tensor]
                   ) -> Tensor:
    """The formula, node by node: messages over incoming edges, reduced, node update."""
    out = []
    for i in range(x.size(0)):
        msgs = []
        for e in range(EDGES.size(1)):
            j, t = int(EDGES[0, e]), int(EDGES[1, e])
            if t != i:
                continue
            d = pos[j] - pos[i]
            msgs.append(conv.edge_mlp(torch.cat([x[i], x[j], d, d.norm().view(1)])))
        # an empty sum, mean, max or min is 0 in PyG; an empty product is 1
        empty = x.new_full((conv.message_channels,), float(conv.aggr == "mul"))
        agg = reduce(torch.stack(msgs)) if msgs else empty
        h = conv.node_mlp(torch.cat([x[i], agg]))
        out.append(conv.norm(x[i] + h))
    return torch.stack(out)


@pytest.mark.parametrize(
    ("aggr", "backend"),
    # sum and mean have two paths (fused, propagate); the others only propagate
    [(a, b) for a in sorted(REDUCE) for b in (("auto", "propagate") if a in ("sum", "mean")
                                              else ("auto",))],
)
def test_every_aggregation_matches_an_explicit_loop(aggr: str, backend: str) -> None:
    torch.manual_seed(0)
    conv = ElementConv(4, message_channels=3, aggr=aggr, backend=backend).double()
    x, pos = torch.randn(N, 4, dtype=torch.double), torch.rand(N, 2, dtype=torch.double)
    got = conv(x, EDGES, pos=pos)
    torch.testing.assert_close(got, loop_reference(conv, x, pos, REDUCE[aggr]))
    assert conv.fused == (backend == "auto" and aggr in ("sum", "mean"))


def test_two_aggregations_are_concatenated() -> None:
    torch.manual_seed(0)
    conv = ElementConv(4, message_channels=3, aggr=["sum", "max"]).double()
    x, pos = torch.randn(N, 4, dtype=torch.double), torch.rand(N, 2, dtype=torch.double)

    def both(m: Tensor) -> Tensor:
        return torch.cat([m.sum(0), m.max(0).values])

    # the zero message of an isolated node must be 2 * 3 wide here
    conv.message_channels = 6
    expected = loop_reference(conv, x, pos, both)
    conv.message_channels = 3
    torch.testing.assert_close(conv(x, EDGES, pos=pos), expected)


@pytest.mark.parametrize("aggr", ["sum", "mean"])
def test_fused_backend_equals_propagate_forward_and_backward(aggr: str) -> None:
    torch.manual_seed(0)
    fused = ElementConv(5, aggr=aggr, backend="fused").double()
    plain = ElementConv(5, aggr=aggr, backend="propagate").double()
    plain.load_state_dict(fused.state_dict())
    grads = []
    for conv in (fused, plain):
        x = torch.randn(N, 5, dtype=torch.double, generator=torch.Generator().manual_seed(1))
        pos = torch.rand(N, 2, dtype=torch.double, generator=torch.Generator().manual_seed(2))
        x.requires_grad_(True)
        pos.requires_grad_(True)
        out = conv(x, EDGES, pos=pos)
        (out * torch.arange(out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
        grads.append([out.detach(), x.grad, pos.grad,
                      *(p.grad for p in conv.parameters())])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("backend", ["fused", "propagate"])
def test_user_edge_features_enter_the_edge_module_after_the_geometry(backend: str) -> None:
    """m_e([h_i, h_j, x_j - x_i, |x_j - x_i|, e_ij]) summed over incoming edges, node by node;
    both backends, values and the gradient reaching edge_attr."""
    torch.manual_seed(0)
    conv = ElementConv(4, message_channels=3, edge_dim=2, backend=backend).double()
    assert conv.edge_mlp[0].in_features == 2 * 4 + 3 + 2
    x, pos = torch.randn(N, 4, dtype=torch.double), torch.rand(N, 2, dtype=torch.double)
    edge_attr = torch.randn(EDGES.size(1), 2, dtype=torch.double, requires_grad=True)
    got = conv(x, EDGES, pos, edge_attr=edge_attr)
    out = []
    for i in range(N):
        msgs = [conv.edge_mlp(torch.cat([x[i], x[j], pos[j] - pos[i],
                                         (pos[j] - pos[i]).norm().view(1), edge_attr[e]]))
                for e, (j, t) in enumerate(EDGES.t().tolist()) if t == i]
        agg = torch.stack(msgs).sum(0) if msgs else x.new_zeros(3)
        out.append(conv.norm(x[i] + conv.node_mlp(torch.cat([x[i], agg]))))
    expected = torch.stack(out)
    torch.testing.assert_close(got, expected)
    (g_got,) = torch.autograd.grad(got.sum(), edge_attr)
    (g_ref,) = torch.autograd.grad(expected.sum(), edge_attr)
    torch.testing.assert_close(g_got, g_ref)
    assert str(conv).startswith("ElementConv(4, message_channels=3, pos_dim=2, edge_dim=2,")


def test_without_edge_dim_the_parameters_are_those_of_the_paper_layer() -> None:
    # a state dict saved before edge features existed loads: same names and shapes
    conv = ElementConv(32)
    shapes = {k: tuple(v.shape) for k, v in conv.state_dict().items()}
    assert shapes["edge_mlp.0.weight"] == (48, 2 * 32 + 3)
    assert shapes["node_mlp.0.weight"] == (64, 32 + 16)
    assert sorted(shapes) == ["edge_mlp.0.bias", "edge_mlp.0.weight", "edge_mlp.2.bias",
                              "edge_mlp.2.weight", "node_mlp.0.bias", "node_mlp.0.weight",
                              "node_mlp.2.bias", "node_mlp.2.weight", "norm.bias", "norm.weight"]


def test_double_backward_exact_with_propagate_refused_with_fused() -> None:
    torch.manual_seed(0)
    x = torch.randn(N, 3, dtype=torch.double, requires_grad=True)
    pos = torch.rand(N, 2, dtype=torch.double)
    plain = ElementConv(3, message_channels=2, edge_hidden_channels=4, node_hidden_channels=4,
                    backend="propagate").double()
    assert torch.autograd.gradgradcheck(lambda v: plain(v, EDGES, pos=pos), (x,))
    fused = ElementConv(3, backend="fused").double()
    (g,) = torch.autograd.grad(fused(x, EDGES, pos=pos).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match=r"once_differentiable|differentiate twice"):
        g.sum().backward()


def test_precomputed_edge_features_and_degrees_change_nothing() -> None:
    torch.manual_seed(0)
    conv = ElementConv(4).double()
    x, pos = torch.randn(N, 4, dtype=torch.double), torch.rand(N, 2, dtype=torch.double)
    deg = torch.zeros(N, dtype=torch.double).index_add_(
        0, EDGES[1], torch.ones(EDGES.size(1), dtype=torch.double))
    torch.testing.assert_close(
        conv(x, EDGES, geometry=ElementConv.edge_geometry(pos, EDGES), in_degree=deg),
        conv(x, EDGES, pos=pos))


def test_gen_with_either_backend_gives_the_same_predictions() -> None:
    data = make_example(generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    a = GEN(processor=ElementProcessor(backend="auto"))
    b = GEN(processor=ElementProcessor(backend="propagate"))
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a(data), b(data), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"backend": "cuda"}, "backend must be one of"),
        ({"backend": "fused", "aggr": "max"}, "backend='fused' needs aggr"),
        ({"aggr": "bogus"}, "aggr='bogus'"),
        ({"channels": 0}, "channels must be at least 1"),
        ({"norm": "middle"}, "norm must be one of .*'post', 'pre', 'none'.*got 'middle'"),
        ({"norm": True}, "norm must be one of"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs: dict[str, object], match: str) -> None:
    args = {"channels": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        ElementConv(**args)  # type: ignore[arg-type]


def test_bad_forward_inputs_are_named() -> None:
    conv = ElementConv(4)
    pos = torch.rand(N, 2)
    with pytest.raises(ValueError, match=r"x must have shape \[N, 4\]"):
        conv(torch.randn(N, 5), EDGES, pos=pos)
    with pytest.raises(ValueError, match="pos must have shape"):
        conv(torch.randn(N, 4), EDGES, pos=torch.rand(N, 3))
    with pytest.raises(ValueError, match="geometry must have shape"):
        conv(torch.randn(N, 4), EDGES, geometry=torch.rand(2, 3))
    with pytest.raises(ValueError, match="needs the node positions 'pos'"):
        conv(torch.randn(N, 4), EDGES)
    with_edges = ElementConv(4, edge_dim=2)
    with pytest.raises(ValueError, match=r"edge_attr must have shape \[9, 2\] \(E, edge_dim\)"):
        with_edges(torch.randn(N, 4), EDGES, pos)
    with pytest.raises(ValueError, match=r"edge_attr must have shape \[9, 2\]"):
        with_edges(torch.randn(N, 4), EDGES, pos, edge_attr=torch.rand(9, 3))


@pytest.mark.parametrize("aggr", ["sum", "mean", "max", "min"])
def test_csr_pointer_path_equals_scatter_and_the_loop(aggr: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """From CSR_MIN_NODES nodes on, sorted edges aggregate over their CSR pointer
    (torch_scatter.segment_csr through PyG) for max and min; values and gradients are those
    of PyG's scatter and of the explicit loop. Sum and mean, unsorted edges, too-small graphs
    and a missing torch_scatter keep the scatter path."""
    import torch_geometric.typing

    import gen_pyg.nn.conv.element_conv as element_conv

    torch.manual_seed(0)
    order = torch.argsort(EDGES[1], stable=True)
    edges = EDGES[:, order]
    conv = ElementConv(4, aggr=aggr, backend="propagate")
    pos = torch.rand(N, 2)

    took_pointer: list[bool] = []
    aggregate = conv.aggr_module.forward

    def spy(x: Tensor, index: Tensor | None = None, ptr: Tensor | None = None,
            dim_size: int | None = None, dim: int = -2) -> Tensor:
        took_pointer.append(ptr is not None and index is None)
        return aggregate(x, index, ptr=ptr, dim_size=dim_size, dim=dim)

    monkeypatch.setattr(conv.aggr_module, "forward", spy)

    def run(threshold: int) -> tuple[Tensor, Tensor]:
        monkeypatch.setattr(element_conv, "CSR_MIN_NODES", threshold)
        x = torch.randn(N, 4, generator=torch.Generator().manual_seed(1)).requires_grad_()
        out = conv(x, edges, pos=pos)
        out.pow(2).sum().backward()
        assert x.grad is not None
        return out.detach(), x.grad

    assert conv._csr_pointer(edges, N) is None  # 6 nodes: far below the default threshold
    scatter_out, scatter_grad = run(10**9)
    monkeypatch.setattr(element_conv, "CSR_MIN_NODES", 0)
    ptr = conv._csr_pointer(edges, N)
    uses_pointer = torch_geometric.typing.WITH_TORCH_SCATTER and aggr in ("max", "min")
    assert (ptr is not None) == uses_pointer
    if uses_pointer:
        # sorted targets 0,0,0,1,1,2,2,2,3 and none for nodes 4, 5
        assert ptr is not None and ptr.tolist() == [0, 3, 5, 8, 9, 9, 9]
    assert conv._csr_pointer(EDGES, N) is None  # not sorted by target
    took_pointer.clear()
    csr_out, csr_grad = run(0)
    assert took_pointer == [uses_pointer]
    torch.testing.assert_close(csr_out, scatter_out, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(csr_grad, scatter_grad, rtol=1e-6, atol=1e-6)
    x = torch.randn(N, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference = loop_reference(conv, x, pos, REDUCE[aggr])
    torch.testing.assert_close(csr_out, reference, rtol=1e-5, atol=1e-5)

    monkeypatch.setattr(torch_geometric.typing, "WITH_TORCH_SCATTER", False)
    assert conv._csr_pointer(edges, N) is None  # the pure-PyG fallback
    took_pointer.clear()
    torch.testing.assert_close(run(0)[0], scatter_out, rtol=1e-6, atol=1e-6)
    assert took_pointer == [False]


def pre_norm_loop_reference(conv: ElementConv, x: Tensor, pos: Tensor) -> Tensor:
    """The pre-norm formula node by node: messages and node module on LayerNorm(h), the
    residual on h itself, no normalisation after the sum."""
    h = conv.norm(x)
    out = []
    for i in range(x.size(0)):
        msgs = []
        for e in range(EDGES.size(1)):
            j, t = int(EDGES[0, e]), int(EDGES[1, e])
            if t == i:
                d = pos[j] - pos[i]
                msgs.append(conv.edge_mlp(torch.cat([h[i], h[j], d, d.norm().view(1)])))
        agg = torch.stack(msgs).sum(0) if msgs else x.new_zeros(conv.message_channels)
        out.append(x[i] + conv.node_mlp(torch.cat([h[i], agg])))
    return torch.stack(out)


@pytest.mark.parametrize("backend", ["auto", "propagate"])
def test_pre_norm_matches_its_formula_on_both_backends(backend: str) -> None:
    torch.manual_seed(0)
    conv = ElementConv(4, message_channels=3, norm="pre", backend=backend).double()
    with torch.no_grad():  # a LayerNorm that is not the identity affine map
        conv.norm.weight.uniform_(0.5, 1.5)
        conv.norm.bias.uniform_(-0.5, 0.5)
    x = 3 * torch.randn(N, 4, dtype=torch.double) + 1
    pos = torch.rand(N, 2, dtype=torch.double)
    torch.testing.assert_close(conv(x, EDGES, pos=pos), pre_norm_loop_reference(conv, x, pos))
    # "post" and True are the paper's step; False has no normalisation at all
    post = ElementConv(4, message_channels=3, norm="post").double()
    assert post.norm_position == "post" and isinstance(post.norm, torch.nn.LayerNorm)
    bare = ElementConv(4, message_channels=3, norm="none").double()
    bare.load_state_dict({k: v for k, v in conv.state_dict().items()
                          if not k.startswith("norm.")})
    torch.testing.assert_close(bare(x, EDGES, pos=pos),
                               x + bare.node_mlp(torch.cat([x, _sum_messages(bare, x, pos)], 1)))
    assert "norm='pre'" in repr(conv) and "norm=" not in repr(post)


def _sum_messages(conv: ElementConv, x: Tensor, pos: Tensor) -> Tensor:
    src, dst = EDGES
    d = pos[src] - pos[dst]
    m = conv.edge_mlp(torch.cat([x[dst], x[src], d, d.norm(dim=1, keepdim=True)], 1))
    return x.new_zeros(x.size(0), m.size(1)).index_add_(0, dst, m)


def test_pre_norm_gradcheck() -> None:
    torch.manual_seed(1)
    conv = ElementConv(3, message_channels=2, edge_hidden_channels=5, node_hidden_channels=5,
                   norm="pre", backend="propagate").double()
    x = torch.randn(N, 3, dtype=torch.double, requires_grad=True)
    pos = torch.rand(N, 2, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: conv(a, EDGES, pos=b), (x, pos))
