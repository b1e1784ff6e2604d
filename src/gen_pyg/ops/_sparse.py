"""A sparse-dense matrix product with bounded memory, differentiable in values and weights."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from gen_pyg.ops._autocast import same_dtype

#: Upper bound on the elements of one gathered ``[chunk, C]`` block.
CHUNK_ELEMENTS = 2**22


def _step(x: Tensor) -> int:
    """Entries per chunk so that a gathered ``[chunk, C]`` block stays within the bound."""
    channels = x[0].numel() if x.size(0) else 1
    return max(1, CHUNK_ELEMENTS // max(1, channels))


class _SpMM(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, row: Tensor, col: Tensor, weight: Tensor, x: Tensor, num_rows: int
    ) -> Tensor:
        out = x.new_zeros((num_rows, *x.shape[1:]))
        step = _step(x)
        for s in range(0, row.numel(), step):
            r, c, w = row[s : s + step], col[s : s + step], weight[s : s + step]
            out.index_add_(0, r, x.index_select(0, c) * w.view(-1, *([1] * (x.dim() - 1))))
        ctx.save_for_backward(row, col, weight, x)
        return out

    @staticmethod
    def backward(
        ctx: Any, grad_out: Tensor
    ) -> tuple[None, None, Tensor | None, Tensor | None, None]:
        row, col, weight, x = ctx.saved_tensors
        grad_w = torch.empty_like(weight) if ctx.needs_input_grad[2] else None
        grad_x = torch.zeros_like(x) if ctx.needs_input_grad[3] else None
        step = _step(x)
        for s in range(0, row.numel(), step):
            r, c, w = row[s : s + step], col[s : s + step], weight[s : s + step]
            g = grad_out.index_select(0, r)
            if grad_w is not None:
                grad_w[s : s + step] = (g * x.index_select(0, c)).reshape(g.size(0), -1).sum(-1)
            if grad_x is not None:
                grad_x.index_add_(0, c, g * w.view(-1, *([1] * (x.dim() - 1))))
        return None, None, grad_w, grad_x, None


def spmm(row: Tensor, col: Tensor, weight: Tensor, x: Tensor, num_rows: int) -> Tensor:
    r"""The product :math:`A x` of the sparse matrix :math:`A` with entries
    :math:`A_{\mathrm{row}_e, \mathrm{col}_e} = w_e` (duplicates add up) and a dense :math:`x`:

    .. math::
        \mathrm{out}_r = \sum_{e:\ \mathrm{row}_e = r} w_e \, x_{\mathrm{col}_e}.

    Differentiable with respect to :obj:`weight` and :obj:`x` (first order). Unlike
    gather-multiply-scatter message passing, it never keeps a ``[nnz, C]`` tensor for the
    backward pass: gathers are redone in chunks of at most :data:`CHUNK_ELEMENTS` elements, so
    memory is :math:`O(\mathrm{nnz} + (R + N) C)`. The spatial encoder and decoder use it with
    sparse representation functions.

    Args:
        row (Tensor): output row of every entry :obj:`[M]`.
        col (Tensor): input row of every entry :obj:`[M]`.
        weight (Tensor): entry values :obj:`[M]`.
        x (Tensor): dense input :obj:`[N, *]`.
        num_rows (int): number of output rows :math:`R`.

    Returns:
        :obj:`[R, *]`.

    Example:
        >>> spmm(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1]), torch.tensor([1.0, 2.0, 3.0]),
        ...      torch.tensor([[1.0], [10.0]]), num_rows=2).tolist()
        [[21.0], [30.0]]
    """
    if not (row.numel() == col.numel() == weight.numel()):
        raise ValueError(
            f"row, col and weight must have the same length, got {row.numel()}, {col.numel()}, "
            f"{weight.numel()}"
        )
    weight, x = same_dtype(weight, x)
    with torch.autocast(x.device.type, enabled=False):
        out: Tensor = _SpMM.apply(row, col, weight, x, num_rows)  # type: ignore[no-untyped-call]
    return out
