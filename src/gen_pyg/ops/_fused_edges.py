"""A fused, chunked ``sum_j relu(a_i + b_j + W e_ij + c)`` over the edges of a graph."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from gen_pyg.ops._autocast import same_dtype

#: Edges per chunk: small enough for a chunk's ``[chunk, H]`` temporaries to stay in cache.
EDGE_CHUNK = 2**14


class _EdgeReluSum(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        dst_term: Tensor,
        src_term: Tensor,
        edge_attr: Tensor,
        weight: Tensor,
        bias: Tensor,
        src: Tensor,
        dst: Tensor,
    ) -> Tensor:
        out = dst_term.new_zeros(dst_term.shape)
        wt = weight.t()
        act = None
        for s in range(0, src.numel(), EDGE_CHUNK):
            i, j = dst[s : s + EDGE_CHUNK], src[s : s + EDGE_CHUNK]
            pre = torch.addmm(bias, edge_attr[s : s + EDGE_CHUNK], wt)
            pre += dst_term.index_select(0, i)
            pre += src_term.index_select(0, j)
            pre.clamp_(min=0)
            if src.numel() <= EDGE_CHUNK:
                # a single chunk: keep its activations ([E, H]) instead of recomputing them
                act = pre
            out.index_add_(0, i, pre)
        ctx.save_for_backward(dst_term, src_term, edge_attr, weight, bias, src, dst, act)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        dst_term, src_term, edge_attr, weight, bias, src, dst, act = ctx.saved_tensors
        need = ctx.needs_input_grad
        g_dst = torch.zeros_like(dst_term) if need[0] else None
        g_src = torch.zeros_like(src_term) if need[1] else None
        g_edge = torch.empty_like(edge_attr) if need[2] else None
        g_weight = torch.zeros_like(weight) if need[3] else None
        g_bias = torch.zeros_like(bias) if need[4] else None
        wt = weight.t()
        for s in range(0, src.numel(), EDGE_CHUNK):
            i, j = dst[s : s + EDGE_CHUNK], src[s : s + EDGE_CHUNK]
            ea = edge_attr[s : s + EDGE_CHUNK]
            if act is None:
                chunk_act = torch.addmm(bias, ea, wt)
                chunk_act += dst_term.index_select(0, i)
                chunk_act += src_term.index_select(0, j)
                chunk_act.clamp_(min=0)
            else:
                chunk_act = act
            # the ReLU's derivative: the activations are >= 0, so their sign is the 0/1 mask
            # (one multiply; a boolean masked_fill or torch.where is several times slower)
            g = grad_out.index_select(0, i).mul_(chunk_act.sign())
            if g_dst is not None:
                g_dst.index_add_(0, i, g)
            if g_src is not None:
                g_src.index_add_(0, j, g)
            if g_edge is not None:
                g_edge[s : s + EDGE_CHUNK] = g @ weight
            if g_weight is not None:
                # [D, E] @ [E, H] is several times faster than [H, E] @ [E, D] here
                g_weight += (ea.t() @ g).t()
            if g_bias is not None:
                g_bias += g.sum(0)
        return g_dst, g_src, g_edge, g_weight, g_bias, None, None


def edge_relu_sum(
    dst_term: Tensor,
    src_term: Tensor,
    edge_attr: Tensor,
    weight: Tensor,
    bias: Tensor,
    edge_index: Tensor,
) -> Tensor:
    r"""For every node :math:`i`, the sum over its incoming edges :math:`j \to i` of

    .. math::
        \mathrm{ReLU}\left(\mathbf{a}_i + \mathbf{b}_j + W \mathbf{e}_{ij} + \mathbf{c}\right),

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
        dst_term (Tensor): :math:`\mathbf{a}`, :obj:`[N, H]`.
        src_term (Tensor): :math:`\mathbf{b}`, :obj:`[N, H]`.
        edge_attr (Tensor): :math:`\mathbf{e}`, :obj:`[E, D]`.
        weight (Tensor): :math:`W`, :obj:`[H, D]`.
        bias (Tensor): :math:`\mathbf{c}`, :obj:`[H]`.
        edge_index (Tensor): :obj:`[2, E]` (source :math:`j`, target :math:`i`).

    Returns:
        :obj:`[N, H]`.

    Example:
        >>> a, b = torch.tensor([[1.0], [0.0]]), torch.tensor([[0.0], [-2.0]])
        >>> e, w, c = torch.tensor([[1.0], [1.0]]), torch.tensor([[1.0]]), torch.tensor([0.0])
        >>> edge_relu_sum(a, b, e, w, c, torch.tensor([[0, 1], [1, 0]])).tolist()
        [[0.0], [1.0]]
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_attr.size(0) != edge_index.size(1):
        raise ValueError(
            f"edge_attr has {edge_attr.size(0)} rows but edge_index has {edge_index.size(1)} edges"
        )
    dst_term, src_term, edge_attr, weight, bias = same_dtype(
        dst_term, src_term, edge_attr, weight, bias)
    with torch.autocast(dst_term.device.type, enabled=False):
        out: Tensor = _EdgeReluSum.apply(  # type: ignore[no-untyped-call]
            dst_term, src_term, edge_attr, weight, bias, edge_index[0], edge_index[1]
        )
    return out
