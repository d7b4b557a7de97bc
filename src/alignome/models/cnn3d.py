"""Lean 3D CNN encoder and the ClinImCL contrastive model (paper 004).

Paper 004 describes "a lightweight 3D convolutional encoder with four
convolutional blocks and a projection head [producing] 128-dimensional
normalized embeddings" and gives no widths. Each block here is
``Conv3d(k=3, stride 2, padding 1) → norm → ReLU``; four blocks shrink a 96³
volume to 6³, which a global average pool reduces to ``widths[-1]`` features.

The default widths ``(8, 16, 32, 64)`` and GroupNorm were chosen with
``benchmarks/cnn3d_throughput.py`` (training ≥ 15 volumes/s at 96³ on two CPU
cores). GroupNorm (or InstanceNorm) normalises each sample on its own, so the
embedding of a volume does not depend on the other volumes of its batch;
BatchNorm would leak batch statistics into a contrastive objective (and make a
batch split across processes behave differently from the whole batch), so it
is offered only for comparison.

The temperature follows open_clip (:mod:`alignome.models.temperature`): the
model stores ``log(1/τ)`` as ``logit_scale`` (a buffer when fixed, a parameter
when learnable, initialised from ``temperature``) and ``forward`` returns the
multiplier ``logit_scale = exp(log(1/τ)) = 1/τ``, clamped at 100 when learnable
only (a fixed τ is the caller's choice). Feed it to
:func:`alignome.objectives.contrastive_loss` as ``logit_scale=``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from alignome.models.temperature import register_log_scale, scale_from_log

NormKind = Literal["group", "instance", "batch"]


def norm_layer(kind: NormKind, channels: int) -> nn.Module:
    """A normalisation layer over ``channels``: GroupNorm (``min(8, c)`` groups), InstanceNorm or BatchNorm3d."""
    if kind == "group":
        groups = math.gcd(channels, min(8, channels))
        return nn.GroupNorm(groups, channels)
    if kind == "instance":
        return nn.GroupNorm(channels, channels)  # InstanceNorm with affine, same kernel as GroupNorm
    if kind == "batch":
        return nn.BatchNorm3d(channels)
    raise ValueError(f"norm must be 'group', 'instance' or 'batch', got {kind!r}")


class CNN3DEncoder(nn.Module):
    """Four strided 3D convolution blocks and a global average pool.

    Parameters
    ----------
    widths
        Output channels of the four blocks.
    in_channels
        Channels of the input volume (1 for a T1w MRI).
    norm
        ``"group"`` (default: GroupNorm with ``min(8, c)`` groups),
        ``"instance"`` (one group per channel) or ``"batch"`` (BatchNorm3d;
        not recommended with contrastive objectives).
    stem_stride
        Stride of the first block (2 by default, as every block). A stem
        stride of 4 is cheaper but a 3-wide kernel with stride 4 skips every
        fourth input plane; kept for benchmarks only.
    channels_last
        Keep weights and activations in ``channels_last_3d`` memory format
        (default True: the model's training step is about 20 % faster on CPU
        with oneDNN at 96³; results equal the contiguous format up to float
        rounding).
    pool_size
        Side of the average-pooled output grid: 1 (default) pools globally to
        ``widths[-1]`` features; ``k > 1`` keeps a coarse ``k³`` spatial layout
        (``widths[-1]·k³`` features), which tells apart anatomy that a global
        average mixes up.

    Attributes
    ----------
    out_dim : int
        Number of output features, ``widths[-1] · pool_size³``.
    """

    def __init__(
        self,
        widths: Sequence[int] = (8, 16, 32, 64),
        in_channels: int = 1,
        norm: NormKind = "group",
        stem_stride: int = 2,
        channels_last: bool = True,
        pool_size: int = 1,
    ) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if pool_size < 1:
            raise ValueError(f"pool_size must be >= 1, got {pool_size}")
        if len(widths) != 4 or any(w < 1 for w in widths):
            raise ValueError(f"widths must be four positive channel counts, got {widths}")
        if in_channels < 1:
            raise ValueError(f"in_channels must be >= 1, got {in_channels}")
        if stem_stride < 1:
            raise ValueError(f"stem_stride must be >= 1, got {stem_stride}")
        blocks: list[nn.Module] = []
        c_in = in_channels
        for i, c_out in enumerate(widths):
            stride = stem_stride if i == 0 else 2
            blocks.append(
                nn.Sequential(
                    nn.Conv3d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False),
                    norm_layer(norm, c_out),
                    nn.ReLU(inplace=True),
                )
            )
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.widths = widths
        self.in_channels = in_channels
        self.norm = norm
        self.stem_stride = stem_stride
        self.channels_last = bool(channels_last)
        self.pool_size = int(pool_size)
        self.out_dim = widths[-1] * self.pool_size**3
        if self.channels_last:
            # every conv, the 1-input-channel stem included: its strides decide whether the first
            # activation (the largest tensor) is channels_last. Under DDP this stem weight triggers
            # a harmless one-off "grad strides do not match bucket view strides" warning (same memory
            # layout, 27·widths[0] numbers).
            self.blocks.to(memory_format=torch.channels_last_3d)

    def forward(self, x: Tensor) -> Tensor:
        """Encode ``(B, C, D, H, W)`` volumes into ``(B, widths[-1])`` features."""
        if x.ndim != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected a (B, {self.in_channels}, D, H, W) tensor, got {tuple(x.shape)}")
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        h = self.blocks(x)
        if self.pool_size == 1:
            return h.mean(dim=(2, 3, 4))
        return F.adaptive_avg_pool3d(h, self.pool_size).flatten(1)


class ContrastiveEncoder3D(nn.Module):
    """3D CNN encoder + projection head with L2-normalised embeddings (ClinImCL).

    Parameters
    ----------
    widths
        Channel widths of :class:`CNN3DEncoder`.
    embedding_dim
        Size of the normalised embedding (128 in paper 004).
    temperature
        Initial (or fixed) temperature τ; the model stores ``log(1/τ)``.
    learnable_temperature
        Whether ``log(1/τ)`` is a trained parameter (clamped at ``ln 100``
        in ``forward``) or a fixed buffer.
    norm, stem_stride, in_channels, channels_last, pool_size
        Passed to :class:`CNN3DEncoder`.
    projection_hidden
        Width of the hidden layer of the ``Linear → ReLU → Linear`` head
        (default: ``widths[-1]``).
    """

    def __init__(
        self,
        widths: Sequence[int] = (8, 16, 32, 64),
        embedding_dim: int = 128,
        temperature: float = 0.07,
        learnable_temperature: bool = False,
        norm: NormKind = "group",
        stem_stride: int = 2,
        in_channels: int = 1,
        projection_hidden: int | None = None,
        channels_last: bool = True,
        pool_size: int = 1,
    ) -> None:
        super().__init__()
        if embedding_dim < 1:
            raise ValueError(f"embedding_dim must be >= 1, got {embedding_dim}")
        self.encoder = CNN3DEncoder(
            widths, in_channels=in_channels, norm=norm, stem_stride=stem_stride, channels_last=channels_last,
            pool_size=pool_size,
        )
        hidden = int(projection_hidden or widths[-1])
        self.projection = nn.Sequential(
            nn.Linear(self.encoder.out_dim, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, embedding_dim),
        )
        self.learnable_temperature = bool(learnable_temperature)
        register_log_scale(self, "logit_scale", temperature, self.learnable_temperature)
        self.embedding_dim = embedding_dim
        self.feature_dim = self.encoder.out_dim

    def scale(self) -> Tensor:
        """The logit multiplier ``1/τ`` (clamped at 100 when learnable), a scalar tensor."""
        return scale_from_log(self.logit_scale) if self.learnable_temperature else self.logit_scale.exp()

    @property
    def temperature(self) -> float:
        """Current temperature τ as a float."""
        return float(1.0 / self.scale().detach())

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """Encode volumes.

        Parameters
        ----------
        x
            ``(B, C, D, H, W)`` volumes.

        Returns
        -------
        dict of str to Tensor
            ``features`` ``(B, widths[-1])`` (pooled encoder output),
            ``embedding`` ``(B, embedding_dim)`` (unit L2 norm) and
            ``logit_scale`` (scalar ``1/τ``).
        """
        features = self.encoder(x)
        projected = self.projection(features)
        if projected.dtype in (torch.float16, torch.bfloat16):
            projected = projected.float()  # normalise in full precision under autocast
        embedding = F.normalize(projected, dim=1)
        return {"features": features, "embedding": embedding, "logit_scale": self.scale()}
