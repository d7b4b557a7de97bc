"""Validation of 3D encoders each epoch and the rule that picks the kept epoch."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from alignome.evaluation.visit_metrics import reidentification
from alignome.objectives.contrastive import contrastive_loss

# ------------------------------------------------------------------ validation helpers


def consecutive_rounds(subjects: np.ndarray, visits: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Consecutive-visit pairs grouped so that no subject appears twice in a group.

    Round ``r`` pairs visit ``r`` with visit ``r + 1`` (visit order within the
    subject) of every subject that has them; positions index ``subjects``.
    """
    frame = pd.DataFrame({"s": subjects, "v": visits, "pos": np.arange(len(subjects))})
    frame = frame.sort_values(["s", "v", "pos"], kind="stable")
    rounds: dict[int, tuple[list[int], list[int]]] = {}
    for _, group in frame.groupby("s", sort=True):
        pos = group["pos"].to_numpy()
        for r in range(len(pos) - 1):
            a, b = rounds.setdefault(r, ([], []))
            a.append(int(pos[r]))
            b.append(int(pos[r + 1]))
    return [(np.asarray(a), np.asarray(b)) for _, (a, b) in sorted(rounds.items())]


def validation_loss(emb: Tensor, rounds: list[tuple[np.ndarray, np.ndarray]], logit_scale: Tensor | float,
                    form: str) -> float:
    """Mean InfoNCE over consecutive-visit pairs (rounds of < 2 pairs skipped; NaN if none)."""
    total, count = 0.0, 0
    for a, b in rounds:
        if len(a) < 2:
            continue
        loss = contrastive_loss(emb[torch.as_tensor(a)], emb[torch.as_tensor(b)], logit_scale=logit_scale, form=form)
        total += float(loss["loss"]) * len(a)
        count += len(a)
    return total / count if count else float("nan")


def reidentification_top1(emb: np.ndarray, scans: pd.DataFrame) -> float:
    """Re-identification top-1 (ties counted as expected hits) of :mod:`alignome.evaluation.visit_metrics`."""
    return float(reidentification(emb, scans.reset_index(drop=True), ks=(1,))["top1"])


def is_better(top1: float, loss: float, best_top1: float, best_loss: float) -> bool:
    """Lexicographic selection: higher top-1 wins; equal top-1 → lower loss (NaN loss is worst)."""
    if best_top1 is None or math.isnan(best_top1):
        return True
    if not math.isclose(top1, best_top1, rel_tol=0.0, abs_tol=1e-12):
        return top1 > best_top1
    loss = math.inf if math.isnan(loss) else loss
    best_loss = math.inf if math.isnan(best_loss) else best_loss
    return loss < best_loss
