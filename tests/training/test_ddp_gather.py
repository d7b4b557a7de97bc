"""Two CPU processes on gloo: gathered negatives give the single-process loss and gradients.

Each rank holds half of a batch of visit pairs, embeds it under
DistributedDataParallel, gathers the embeddings of both ranks with gradients and
computes the contrastive loss on the full batch. The loss must equal the loss
of one process on the whole batch, and the DDP-averaged parameter gradients
(the learnable temperature included) must equal the single-process gradients.
Without gathering, each rank sees only half of the negatives: the loss and the
gradients differ (the classic silent bug this test would catch).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from alignome.models.cnn3d import ContrastiveEncoder3D
from alignome.objectives import contrastive_loss
from alignome.training.distributed import gather_with_grad

WORLD = 2
PAIRS = 8  # full batch; each rank holds PAIRS // WORLD
SIZE = 24


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _model() -> ContrastiveEncoder3D:
    torch.manual_seed(0)
    return ContrastiveEncoder3D(widths=(4, 4, 8, 8), embedding_dim=16, learnable_temperature=True).double()


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Smooth random volumes (distinct subjects) and noisy second visits."""
    g = torch.Generator().manual_seed(1)
    coarse = torch.randn(PAIRS, 1, 4, 4, 4, generator=g, dtype=torch.float64)
    base = torch.nn.functional.interpolate(coarse, size=(SIZE,) * 3, mode="trilinear")
    other = base + 0.1 * torch.randn(PAIRS, 1, SIZE, SIZE, SIZE, generator=g, dtype=torch.float64)
    return base, other


def _loss(model: torch.nn.Module, xa: torch.Tensor, xb: torch.Tensor, gather: bool) -> torch.Tensor:
    """One forward of both views (as training does), optional gathering, standard InfoNCE."""
    out = model(torch.cat([xa, xb]))
    za, zb = out["embedding"].split(xa.shape[0])
    if gather:
        za, zb = gather_with_grad(za), gather_with_grad(zb)
    return contrastive_loss(za, zb, form="standard", logit_scale=out["logit_scale"])["loss"]


def _grads(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def _worker(rank: int, port: int, out_dir: str) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        xa, xb = _batch()
        local = slice(rank * PAIRS // WORLD, (rank + 1) * PAIRS // WORLD)

        # reference: one process, the whole batch
        ref = _model()
        ref_loss = _loss(ref, xa, xb, gather=False)
        ref_loss.backward()

        # data parallel with gathered negatives
        ddp = torch.nn.parallel.DistributedDataParallel(_model())
        loss = _loss(ddp, xa[local], xb[local], gather=True)
        loss.backward()

        # data parallel without gathering: local negatives only, gradients averaged by hand
        naive = _model()
        naive_loss = _loss(naive, xa[local], xb[local], gather=False)
        naive_loss.backward()
        for p in naive.parameters():
            dist.all_reduce(p.grad)
            p.grad /= WORLD
        naive_mean = naive_loss.detach().clone()
        dist.all_reduce(naive_mean)
        naive_mean /= WORLD

        torch.save(
            {
                "ref_loss": ref_loss.item(),
                "loss": loss.item(),
                "naive_loss": naive_mean.item(),
                "ref_grads": _grads(ref),
                "grads": _grads(ddp.module),
                "naive_grads": _grads(naive),
            },
            Path(out_dir) / f"rank{rank}.pt",
        )
        dist.barrier()  # neither rank tears gloo down while the other still talks to it (an abort otherwise)
    finally:
        dist.destroy_process_group()


def _run_two_ranks(out_dir: Path, timeout: float = 60.0) -> list[dict]:
    ctx = mp.spawn(_worker, args=(_free_port(), str(out_dir)), nprocs=WORLD, join=False)
    deadline = time.monotonic() + timeout
    while not ctx.join(timeout=1.0):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            raise TimeoutError("the two gloo processes did not finish")
    return [torch.load(out_dir / f"rank{r}.pt") for r in range(WORLD)]


def test_gather_is_identity_without_process_group() -> None:
    z = torch.randn(3, 4, requires_grad=True)
    assert not dist.is_initialized()
    assert gather_with_grad(z) is z


def test_ddp_with_gathered_negatives_equals_single_process(tmp_path: Path) -> None:
    results = _run_two_ranks(tmp_path)
    for res in results:
        assert abs(res["loss"] - res["ref_loss"]) < 1e-5
        assert res["grads"].keys() == res["ref_grads"].keys()
        assert "logit_scale" in res["grads"]
        for name, ref in res["ref_grads"].items():
            assert ref.abs().max() > 0, name
            assert torch.allclose(res["grads"][name], ref, atol=1e-5, rtol=1e-5), name
            assert ((res["grads"][name] - ref).norm() / ref.norm()).item() < 1e-8, name
        # without gathering, each rank has half of the negatives: loss and gradients differ
        assert abs(res["naive_loss"] - res["ref_loss"]) > 1e-2
        worst = max(
            ((res["naive_grads"][n] - g).norm() / g.norm()).item() for n, g in res["ref_grads"].items()
        )
        assert worst > 0.05
    # both ranks end with identical (synchronised) gradients
    for name in results[0]["grads"]:
        assert torch.allclose(results[0]["grads"][name], results[1]["grads"][name], atol=1e-12)
