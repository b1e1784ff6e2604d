"""Assertions and small example builders for testing GEN layers (yours and ours).

Each assertion raises :class:`AssertionError` with a message saying what differed, so a test
built on them is a few lines long.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_undirected

from gen_pyg.typing import Assignment

FOLLOW_BATCH = ["input_pos", "query_pos"]


def make_example(
    num_nodes: int = 6,
    num_inputs: int = 10,
    num_queries: int = 7,
    pos_dim: int = 2,
    in_channels: Sequence[int] = (1,),
    num_outputs: int = 1,
    k_edges: int = 3,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> Data:
    """A random GEN example in :math:`[0, 1]^D`: nodes joined to their :obj:`k_edges` nearest
    nodes (both directions), input samples (with :obj:`input_fn` when there are several input
    functions) and queries (with :obj:`query_fn` when :obj:`num_outputs > 1`).

    Example:
        >>> data = make_example(num_nodes=4, num_inputs=5, num_queries=3)
        >>> data.pos.shape, data.input_x.shape, data.query_pos.shape
        (torch.Size([4, 2]), torch.Size([5, 1]), torch.Size([3, 2]))
    """
    g = generator

    def rand(*shape: int) -> Tensor:
        return torch.rand(*shape, generator=g, dtype=dtype)

    pos = rand(num_nodes, pos_dim)
    # exact distances: the matrix-product form's round-off depends on the BLAS kernel and
    # would let the k nearest (and so the example's edges) differ between machines
    dist = torch.cdist(pos, pos, compute_mode="donot_use_mm_for_euclid_dist")
    dist = dist + torch.eye(num_nodes, dtype=dtype) * 1e9
    k = min(k_edges, num_nodes - 1)
    if k > 0:
        nbr = dist.topk(k, largest=False).indices
        src = nbr.reshape(-1)
        dst = torch.arange(num_nodes).repeat_interleave(k)
        edge_index = to_undirected(torch.stack([src, dst]), num_nodes=num_nodes)
    else:
        edge_index = torch.empty(2, 0, dtype=torch.long)
    data = Data(
        pos=pos,
        edge_index=edge_index,
        input_pos=rand(num_inputs, pos_dim),
        input_x=rand(num_inputs, max(in_channels)),
        query_pos=rand(num_queries, pos_dim),
        num_nodes=num_nodes,
    )
    if len(in_channels) > 1:
        data.input_fn = torch.randint(0, len(in_channels), (num_inputs,), generator=g)
    if num_outputs > 1:
        data.query_fn = torch.randint(0, num_outputs, (num_queries,), generator=g)
    return data


def assignment_to_dense(assignment: Assignment, num_points: int, num_nodes: int) -> Tensor:
    """The sparse assignment ``(point_index, node_index, weight)`` as a dense ``[P, N]`` matrix
    (duplicate pairs are summed).

    Example:
        >>> a = (torch.tensor([0, 0]), torch.tensor([1, 1]), torch.tensor([0.25, 0.5]))
        >>> assignment_to_dense(a, 1, 2)
        tensor([[0.0000, 0.7500]])
    """
    row, col, weight = assignment
    dense = weight.new_zeros(num_points, num_nodes)
    return dense.index_put((row, col), weight, accumulate=True)


def _close(a: Tensor, b: Tensor, atol: float, rtol: float, what: str) -> None:
    if a.shape != b.shape:
        raise AssertionError(f"{what}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")
    if not torch.allclose(a, b, atol=atol, rtol=rtol):
        err = (a - b).abs().max().item()
        raise AssertionError(f"{what}: max abs difference {err:.3g} > atol={atol}, rtol={rtol}")


def assert_batch_equivalence(
    model: Callable[[Data], Tensor],
    data_list: Sequence[Data],
    atol: float = 1e-5,
    rtol: float = 1e-4,
    per_example_output: bool = False,
) -> None:
    """A batch of examples gives the same outputs as the examples run one by one, and the
    outputs have the promised granularity: one row per query (the queries of all examples, in
    order), or one row per example with :obj:`per_example_output=True`.

    Args:
        model: maps a :class:`Data`/:class:`Batch` to per-query outputs (or per-example outputs
            with :obj:`per_example_output=True`).
        data_list: the examples (each with :obj:`query_pos` unless
            :obj:`per_example_output=True`).
        per_example_output: expect one output row per example (e.g. a GEN with
            :obj:`readout="sum"`) instead of one per query.

    Example:
        >>> data = make_example(num_queries=3)
        >>> per_query = lambda d: d.query_pos.sum(-1, keepdim=True)
        >>> assert_batch_equivalence(per_query, [data, data.clone()])
        >>> assert_batch_equivalence(per_query, [data], per_example_output=True)
        Traceback (most recent call last):
        ...
        AssertionError: output of example 0: expected 1 row (one per example), got 3
    """
    if per_example_output:
        rows, unit = [1] * len(data_list), "example"
    else:
        if any(getattr(d, "query_pos", None) is None for d in data_list):
            raise ValueError(
                "per-query outputs need data.query_pos in every example; pass "
                "per_example_output=True for a model with one output per example"
            )
        rows, unit = [int(d.query_pos.size(0)) for d in data_list], "query"
    singles_list = [model(d) for d in data_list]
    for i, (out, n) in enumerate(zip(singles_list, rows, strict=True)):
        _check_rows(out, n, unit, f"output of example {i}")
    singles = torch.cat(singles_list, dim=0)
    batch = Batch.from_data_list(list(data_list), follow_batch=FOLLOW_BATCH)
    batched = model(batch)
    _check_rows(batched, sum(rows), unit, "batched output")
    _close(batched, singles, atol, rtol, "batched vs one-by-one outputs")


def _check_rows(out: Tensor, expected: int, unit: str, what: str) -> None:
    if out.dim() == 0 or out.size(0) != expected:
        got = "a scalar" if out.dim() == 0 else out.size(0)
        plural = "" if expected == 1 else "s"
        raise AssertionError(
            f"{what}: expected {expected} row{plural} (one per {unit}), got {got}"
        )


def assert_input_permutation_invariance(
    model: Callable[[Data], Tensor],
    data: Data,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    generator: torch.Generator | None = None,
) -> None:
    """Permuting the input samples of an example leaves the outputs unchanged."""
    perm = torch.randperm(data.input_pos.size(0), generator=generator)
    permuted = data.clone()
    for key in ("input_pos", "input_x", "input_fn"):
        if getattr(data, key, None) is not None:
            permuted[key] = data[key][perm]
    _close(model(permuted), model(data), atol, rtol, "outputs after permuting inputs")


def assert_query_permutation_equivariance(
    model: Callable[[Data], Tensor],
    data: Data,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    generator: torch.Generator | None = None,
) -> None:
    """Permuting the queries permutes the outputs the same way."""
    perm = torch.randperm(data.query_pos.size(0), generator=generator)
    permuted = data.clone()
    for key in ("query_pos", "query_fn", "y"):
        if getattr(data, key, None) is not None:
            permuted[key] = data[key][perm]
    _close(model(permuted), model(data)[perm], atol, rtol, "outputs after permuting queries")


def assert_no_graph_breaks(module: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """``torch.compile`` traces ``module(*args, **kwargs)`` as a single graph."""
    import torch._dynamo

    torch._dynamo.reset()
    explanation = torch._dynamo.explain(module)(*args, **kwargs)
    if explanation.graph_break_count != 0:
        reasons = "; ".join(str(r.reason) for r in explanation.break_reasons)
        raise AssertionError(
            f"{explanation.graph_break_count} graph break(s) under torch.compile: {reasons}"
        )


def assert_graph_breaks_at_most(
    limit: int, module: Callable[..., Any], *args: Any, **kwargs: Any
) -> int:
    """``torch.compile`` traces ``module(*args, **kwargs)`` with at most ``limit`` graph
    breaks; returns their number."""
    import torch._dynamo

    torch._dynamo.reset()
    explanation = torch._dynamo.explain(module)(*args, **kwargs)
    count = int(explanation.graph_break_count)
    if count > limit:
        reasons = "; ".join(str(r.reason) for r in explanation.break_reasons)
        raise AssertionError(f"{count} graph break(s) under torch.compile, more than {limit}: "
                             f"{reasons}")
    return count


#: Tensor methods that read values back to Python (a device-to-host sync on an accelerator).
_SYNC_METHODS = ("item", "tolist", "__bool__", "__int__", "__float__", "__index__", "nonzero")


@contextmanager
def count_host_syncs() -> Iterator[list[str]]:
    """Record every read of tensor values back to Python inside the block (``.item()``,
    ``bool(t)``, ``int(t)``, ``.tolist()``, ``.nonzero()``, :func:`torch.equal`): each is a
    device-to-host sync on an accelerator. Yields the list of the names read, in order.

    Example:
        >>> with count_host_syncs() as syncs:
        ...     _ = torch.ones(3).sum() * 2
        ...     _ = bool(torch.ones(1) > 0)
        >>> syncs
        ['__bool__']
    """
    found: list[str] = []
    saved = {name: getattr(torch.Tensor, name) for name in _SYNC_METHODS}
    saved_equal = torch.equal

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found.append(name)
            return original(*args, **kwargs)

        return wrapper

    try:
        for name, original in saved.items():
            setattr(torch.Tensor, name, spy(name, original))
        torch.equal = spy("equal", saved_equal)
        yield found
    finally:
        for name, original in saved.items():
            setattr(torch.Tensor, name, original)
        torch.equal = saved_equal


def assert_compiled_matches_eager(
    module: torch.nn.Module,
    *args: Any,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    dynamic: bool = True,
    backend: str = "inductor",
    **kwargs: Any,
) -> None:
    """``torch.compile(module, dynamic=..., backend=...)`` returns what the eager module
    returns (``backend="aot_eager"`` traces the same graphs without code generation: faster
    to test)."""
    import torch._dynamo

    torch._dynamo.reset()
    eager = module(*args, **kwargs)
    compiled = torch.compile(module, dynamic=dynamic, backend=backend)(*args, **kwargs)
    _close(compiled, eager, atol, rtol, "compiled vs eager outputs")


__all__ = [
    "FOLLOW_BATCH",
    "assert_batch_equivalence",
    "assert_compiled_matches_eager",
    "assert_graph_breaks_at_most",
    "assert_input_permutation_invariance",
    "assert_no_graph_breaks",
    "assert_query_permutation_equivariance",
    "assignment_to_dense",
    "count_host_syncs",
    "make_example",
]
