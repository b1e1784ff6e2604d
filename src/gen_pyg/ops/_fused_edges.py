"""A fused, chunked ``sum_j w_ij relu(a_i + b_j + W e_ij + c)`` over the edges of a graph."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from gen_pyg.ops._autocast import same_dtype

#: Edges per chunk: small enough for a chunk's ``[chunk, H]`` temporaries to stay in cache.
EDGE_CHUNK = 2**14


def _activations(dst_term: Tensor | None, src_term: Tensor, edge_attr: Tensor, wt: Tensor,
                 bias: Tensor, i: Tensor, j: Tensor) -> Tensor:
    pre = torch.addmm(bias, edge_attr, wt)
    if dst_term is not None:
        pre += dst_term.index_select(0, i)
    pre += src_term.index_select(0, j)
    return pre.clamp_(min=0)


class _EdgeReluSum(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        dst_term: Tensor | None,
        src_term: Tensor,
        edge_attr: Tensor,
        weight: Tensor,
        bias: Tensor,
        edge_weight: Tensor | None,
        src: Tensor,
        dst: Tensor,
        num_dst: int,
        chunk: int,
    ) -> Tensor:
        out = src_term.new_zeros(num_dst, src_term.size(1))
        wt = weight.t()
        act = None
        for s in range(0, src.numel(), chunk):
            i, j = dst[s : s + chunk], src[s : s + chunk]
            pre = _activations(dst_term, src_term, edge_attr[s : s + chunk], wt, bias, i, j)
            if src.numel() <= chunk:
                # a single chunk: keep its activations ([E, H]) instead of recomputing them
                act = pre
            if edge_weight is not None:
                pre = pre * edge_weight[s : s + chunk].unsqueeze(-1)
            out.index_add_(0, i, pre)
        ctx.save_for_backward(dst_term, src_term, edge_attr, weight, bias, edge_weight, src,
                              dst, act)
        ctx.chunk = chunk
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        dst_term, src_term, edge_attr, weight, bias, edge_weight, src, dst, act = (
            ctx.saved_tensors)
        chunk = ctx.chunk
        need = ctx.needs_input_grad
        g_dst = torch.zeros_like(dst_term) if need[0] else None
        g_src = torch.zeros_like(src_term) if need[1] else None
        g_edge = torch.empty_like(edge_attr) if need[2] else None
        g_weight = torch.zeros_like(weight) if need[3] else None
        g_bias = torch.zeros_like(bias) if need[4] else None
        g_edge_weight = torch.empty_like(edge_weight) if need[5] else None
        wt = weight.t()
        for s in range(0, src.numel(), chunk):
            i, j = dst[s : s + chunk], src[s : s + chunk]
            ea = edge_attr[s : s + chunk]
            chunk_act = (act if act is not None
                         else _activations(dst_term, src_term, ea, wt, bias, i, j))
            g = grad_out.index_select(0, i)
            if g_edge_weight is not None:
                g_edge_weight[s : s + chunk] = (g * chunk_act).sum(1)
            if edge_weight is not None:
                g.mul_(edge_weight[s : s + chunk].unsqueeze(-1))
            # the ReLU's derivative: the activations are >= 0, so their sign is the 0/1 mask
            # (one multiply; a boolean masked_fill or torch.where is several times slower)
            g.mul_(chunk_act.sign())
            if g_dst is not None:
                g_dst.index_add_(0, i, g)
            if g_src is not None:
                g_src.index_add_(0, j, g)
            if g_edge is not None:
                g_edge[s : s + chunk] = g @ weight
            if g_weight is not None:
                # [D, E] @ [E, H] is several times faster than [H, E] @ [E, D] here
                g_weight += (ea.t() @ g).t()
            if g_bias is not None:
                g_bias += g.sum(0)
        return (g_dst, g_src, g_edge, g_weight, g_bias, g_edge_weight, None, None, None, None)


def edge_relu_sum(
    dst_term: Tensor | None,
    src_term: Tensor,
    edge_attr: Tensor,
    weight: Tensor,
    bias: Tensor,
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_dst: int | None = None,
    chunk_size: int | None = None,
) -> Tensor:
    r"""For every node :math:`i`, the (weighted) sum over its incoming edges :math:`j \to i` of

    .. math::
        w_{ij}\,\mathrm{ReLU}\left(\mathbf{a}_i + \mathbf{b}_j + W \mathbf{e}_{ij} +
        \mathbf{c}\right),

    the hidden layer of an edge MLP whose first layer acts on
    :math:`[\mathbf{h}_i, \mathbf{h}_j, \mathbf{e}_{ij}]` (with :math:`\mathbf{a}, \mathbf{b}`
    that layer's node terms), summed. Edges are processed in chunks of :data:`EDGE_CHUNK`, in
    forward and again in backward, so no ``[E, H]`` tensor is materialised for a large graph:
    memory is :math:`O(N H + E D)` and the per-edge work stays in cache. When all edges fit in
    one chunk (small meshes, such as the paper's), that chunk's activations are kept for the
    backward pass instead of being recomputed. Differentiable once with respect to every tensor
    but :obj:`edge_index`; differentiating the gradient again raises an error (compose the
    formula from torch operations, as ``ElementConv(backend="propagate")`` does, for that).

    Args:
        dst_term (Tensor, optional): :math:`\mathbf{a}`, :obj:`[N, H]`; :obj:`None`: zero
            (then :obj:`num_dst` gives :math:`N`).
        src_term (Tensor): :math:`\mathbf{b}`, :obj:`[M, H]`.
        edge_attr (Tensor): :math:`\mathbf{e}`, :obj:`[E, D]`.
        weight (Tensor): :math:`W`, :obj:`[H, D]`.
        bias (Tensor): :math:`\mathbf{c}`, :obj:`[H]`.
        edge_index (Tensor): :obj:`[2, E]` (source :math:`j`, target :math:`i`).
        edge_weight (Tensor, optional): :math:`w`, :obj:`[E]`; :obj:`None`: all one.
        num_dst (int, optional): :math:`N` where :obj:`dst_term` is :obj:`None`.
        chunk_size (int, optional): edges per chunk. (default: :data:`EDGE_CHUNK`)

    Returns:
        :obj:`[N, H]`.

    Example:
        >>> a, b = torch.tensor([[1.0], [0.0]]), torch.tensor([[0.0], [-2.0]])
        >>> e, w, c = torch.tensor([[1.0], [1.0]]), torch.tensor([[1.0]]), torch.tensor([0.0])
        >>> edge_relu_sum(a, b, e, w, c, torch.tensor([[0, 1], [1, 0]])).tolist()
        [[0.0], [1.0]]
        >>> edge_relu_sum(None, b, e, w, c, torch.tensor([[0, 1], [1, 1]]),
        ...               edge_weight=torch.tensor([0.5, 2.0]), num_dst=3).tolist()
        [[0.0], [0.5], [0.0]]
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_attr.size(0) != edge_index.size(1):
        raise ValueError(
            f"edge_attr has {edge_attr.size(0)} rows but edge_index has {edge_index.size(1)} edges"
        )
    if edge_weight is not None and edge_weight.shape != (edge_index.size(1),):
        raise ValueError(f"edge_weight must have shape [{edge_index.size(1)}] (one per edge), "
                         f"got {tuple(edge_weight.shape)}")
    if dst_term is None:
        if num_dst is None:
            raise ValueError("num_dst is needed where dst_term is None (the number of targets)")
    elif num_dst is not None and num_dst != dst_term.size(0):
        raise ValueError(f"num_dst={num_dst} but dst_term has {dst_term.size(0)} rows")
    chunk = EDGE_CHUNK if chunk_size is None else chunk_size
    if chunk < 1:
        raise ValueError(f"chunk_size must be a positive number of edges, got {chunk}")
    # one dtype for the tensors given (the optional ones may be None)
    optional = [t for t in (dst_term, edge_weight) if t is not None]
    src_term, edge_attr, weight, bias, *rest = same_dtype(src_term, edge_attr, weight, bias,
                                                          *optional)
    if dst_term is not None:
        dst_term = rest.pop(0)
    if edge_weight is not None:
        edge_weight = rest.pop(0)
    n = dst_term.size(0) if dst_term is not None else int(num_dst)  # type: ignore[arg-type]
    with torch.autocast(edge_index.device.type, enabled=False):
        out: Tensor = _EdgeReluSum.apply(  # type: ignore[no-untyped-call]
            dst_term, src_term, edge_attr, weight, bias, edge_weight, edge_index[0],
            edge_index[1], n, chunk
        )
    return out
