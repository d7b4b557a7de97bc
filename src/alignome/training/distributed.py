"""Gathering embeddings across processes without losing gradients.

Under data-parallel training each process holds only its share of the batch.
A contrastive loss computed on the local share sees only local negatives (the
classic silent bug: the effective batch shrinks by the number of processes).
:func:`gather_with_grad` concatenates the embeddings of all processes, in rank
order, and keeps the autograd graph through the local share (open_clip's
``gather_features`` with ``gather_with_grad=True``).

The backward all-reduces (sums) the gradient of the gathered tensor and keeps
the rows of the local share — the classic "GatherLayer" of SimCLR-style code;
it runs on every backend (gloo included) and needs no deprecated helper.

Gradient convention: every process computes the same loss on the gathered
embeddings; the backward of the gather sums the gradients that all processes
send to a rank's share, and DistributedDataParallel then *averages* parameter
gradients over processes. The two factors of the world size cancel, so the
averaged gradient equals the gradient of the full-batch loss in a single
process (tested in ``tests/test_ddp_gather.py``).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def is_distributed() -> bool:
    """True when a process group is initialised with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _AllGatherWithGrad(torch.autograd.Function):
    """All-gather along dim 0 whose backward sums gradients over ranks and keeps the local rows."""

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:  # type: ignore[override]
        world = dist.get_world_size()
        ctx.rank, ctx.rows = dist.get_rank(), z.shape[0]
        z = z.contiguous()
        parts = [torch.empty_like(z) for _ in range(world)]
        dist.all_gather(parts, z)
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def gather_with_grad(z: Tensor) -> Tensor:
    """All-gather ``z`` from every process along dimension 0, keeping gradients.

    Parameters
    ----------
    z
        Local tensor, shape ``(n, ...)``; ``n`` and the trailing shape must be
        equal on every process (the sampler gives every rank equal batches).

    Returns
    -------
    Tensor
        ``(world_size * n, ...)``: rank 0's rows first, then rank 1's, … .
        ``z`` itself when no process group is initialised or the world size is 1.
    """
    if not is_distributed():
        return z
    return _AllGatherWithGrad.apply(z)
