"""Does an embedding move as much as the brain changed? Rank correlation with the true atrophy.

Per test subject with two or more scans: the cosine distance between the embeddings of the
first and the last visit, against the true relative volume change of a structure over the
same interval, ``|log(V_last / V_first)|`` (hippocampi, whole brain). The figure is Spearman's
rank correlation across subjects: 1 when the embedding moves further exactly for the subjects
whose brains changed more. It needs the true volumes a simulated cohort records; without
them it is unavailable, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from alignome.evaluation.visit_metrics import _check_inputs, _unit_rows, subject_trajectories

#: Structure → column of true volumes in a simulated cohort's truth table.
STRUCTURES = {"hippocampus": "hippocampus_ml", "whole brain": "brain_ml"}
TASK = "atrophy tracking"
#: Subjects needed for a rank correlation.
MIN_SUBJECTS = 3


@dataclass
class AtrophyTracking:
    """Spearman per structure (``spearman_<key>``), the per-subject table (``change_<key>``), and why none."""

    figures: dict[str, float] = field(default_factory=dict)
    per_subject: pd.DataFrame = field(default_factory=pd.DataFrame)
    unavailable: str | None = None


def structure_key(structure: str) -> str:
    """A structure's name in column and metric names: ``change_<key>``, ``spearman_<key>``."""
    return structure.replace(" ", "_")


def atrophy_tracking(emb: np.ndarray, scans: pd.DataFrame, truth: pd.DataFrame | None) -> AtrophyTracking:
    """First-to-last embedding distance against the true volume change, per subject, and their Spearman.

    Parameters
    ----------
    emb
        Embeddings (N, d) of the scans in ``scans``.
    scans
        Scan table (``subject``, ``visit`` ...).
    truth
        Truth table aligned to ``scans`` (row i is scan i) with :data:`STRUCTURES` columns, or None.

    Returns
    -------
    AtrophyTracking
        ``per_subject``: subject, distance and ``change_<key>`` (:func:`structure_key`) per subject whose first
        and last scans have true volumes; ``figures``: Spearman per structure (NaN when a
        column is constant); ``unavailable`` says why there are no figures (no truth table, no
        volume columns, fewer than :data:`MIN_SUBJECTS` subjects with two scans).
    """
    if truth is None:
        return AtrophyTracking(unavailable="no true volumes: the cohort has no truth table (real scans)")
    columns = {s: c for s, c in STRUCTURES.items() if c in truth.columns}
    if not columns:
        return AtrophyTracking(unavailable=f"the truth table has none of the columns {', '.join(STRUCTURES.values())}")
    emb = _check_inputs(emb, scans)
    unit = _unit_rows(emb)
    volumes = {s: pd.to_numeric(truth[c], errors="coerce").to_numpy(dtype=np.float64) for s, c in columns.items()}
    rows = []
    for subject, pos in subject_trajectories(scans).items():
        first, last = int(pos[0]), int(pos[-1])
        if pos.size < 2 or not all(np.isfinite(v[[first, last]]).all() and (v[[first, last]] > 0).all()
                                   for v in volumes.values()):
            continue
        row = {"subject": subject, "distance": 1.0 - float(unit[first] @ unit[last])}
        row.update({f"change_{structure_key(s)}": abs(float(np.log(v[last] / v[first]))) for s, v in volumes.items()})
        rows.append(row)
    per_subject = pd.DataFrame(rows, columns=["subject", "distance", *(f"change_{structure_key(s)}" for s in columns)])
    if len(per_subject) < MIN_SUBJECTS:
        return AtrophyTracking(per_subject=per_subject, unavailable=(
            f"{len(per_subject)} test subject(s) with two scans and true volumes; a rank correlation needs "
            f"{MIN_SUBJECTS}"))
    figures = {}
    for s in columns:
        x, y = per_subject["distance"].to_numpy(), per_subject[f"change_{structure_key(s)}"].to_numpy()
        figures[f"spearman_{structure_key(s)}"] = float(spearmanr(x, y).statistic) if np.ptp(x) > 0 and np.ptp(y) > 0 else np.nan
    return AtrophyTracking(figures=figures, per_subject=per_subject)
