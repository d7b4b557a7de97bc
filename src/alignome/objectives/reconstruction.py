"""Reconstruction objective (mean squared error)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def reconstruction_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error between a reconstruction and its target.

    Parameters
    ----------
    pred, target
        Tensors of equal shape.

    Returns
    -------
    Tensor
        Scalar mean over all elements.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    return F.mse_loss(pred, target)
