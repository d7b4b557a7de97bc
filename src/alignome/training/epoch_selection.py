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


#: Criteria that choose the kept epoch of contrastive training, with how they read in logs and reports.
SELECTION_RULES = {
    "val_loss": "min validation InfoNCE (consecutive visits of validation subjects, at the configured "
                "temperature), ties: max val_top1",
    "val_top1": "max val_top1 (re-identification on validation subjects), ties: min val_loss",
}


def is_better(top1: float, loss: float, best_top1: float, best_loss: float, select_by: str = "val_top1") -> bool:
    """Whether an epoch with ``top1`` and ``loss`` beats the best so far under ``select_by``.

    ``"val_top1"``: higher top-1 wins, equal top-1 → lower loss. ``"val_loss"``: lower loss
    wins, equal loss → higher top-1. A NaN is the worst value; no best yet (None or NaN on
    the criterion) → True.
    """
    if select_by not in SELECTION_RULES:
        raise ValueError(f"select_by must be one of {sorted(SELECTION_RULES)}, got {select_by!r}")
    if select_by == "val_loss":
        # the loss, negated, takes the place of top-1: higher is better, NaN worst
        if best_loss is None:
            return True
        return _lexicographic(-_finite_or_inf(loss), top1, -_finite_or_inf(best_loss), best_top1)
    if best_top1 is None or math.isnan(best_top1):
        return True
    return _lexicographic(top1, -_finite_or_inf(loss), best_top1, -_finite_or_inf(best_loss))


def _finite_or_inf(value: float | None) -> float:
    return math.inf if value is None or math.isnan(value) else value


def _lexicographic(first: float, second: float, best_first: float, best_second: float) -> bool:
    """Higher ``first`` wins; a tie (within 1e-12) goes to higher ``second`` (NaN loses)."""
    if not math.isclose(first, best_first, rel_tol=0.0, abs_tol=1e-12):
        return first > best_first
    second = -math.inf if second is None or math.isnan(second) else second
    best_second = -math.inf if best_second is None or math.isnan(best_second) else best_second
    return second > best_second
