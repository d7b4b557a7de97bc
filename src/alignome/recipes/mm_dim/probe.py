"""Scoring one pretrained network: latents of the evaluation pairs, a tuned logistic probe per modality."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alignome.evaluation.tasks import binary_auc
from alignome.evaluation.tuned_logistic_probe import tuned_logistic_probe
from alignome.evaluation.voxel_pca import voxel_pca
from alignome.models.dim import MultimodalDIM
from alignome.recipes.mm_dim.cohort import GROUP_NAMES, PairedCohort
from alignome.recipes.mm_dim.splits import FoldPlan
from alignome.training.dim_pretrain import embed


def evaluation_latents(model: MultimodalDIM, cohort: PairedCohort, volumes: dict[int, np.ndarray],
                       subjects: list[str]) -> dict[int, pd.DataFrame]:
    """Per modality index, the latents of each subject's evaluation pair (index subject, columns ``z_i``)."""
    pairs = cohort.evaluation.set_index("subject").loc[subjects]
    out = {}
    for m, column in enumerate(("row_a", "row_b")):
        z = embed(model, m, np.stack([volumes[int(i)] for i in pairs[column]])) if len(pairs) else np.zeros((0, 0))
        out[m] = pd.DataFrame(z, index=pairs.index, columns=[f"z_{j}" for j in range(z.shape[1])])
    return out


#: Name of the baseline rows: a probe on principal components of the input voxels.
RAW_BASELINE = "voxels-PCA"


def voxel_pca_latents(cohort: PairedCohort, volumes: dict[int, np.ndarray], subjects: list[str],
                      fit_subjects: tuple[str, ...], components: int) -> dict[int, pd.DataFrame]:
    """The simplest strong baseline: principal components of each modality's standardised voxels.

    The PCA (:func:`alignome.evaluation.voxel_pca.voxel_pca`, exact) is fitted on ``fit_subjects``
    (the probe's training subjects) only, then applied to all ``subjects``; its scores stand in for
    an encoder's latents.
    """
    pairs = cohort.evaluation.set_index("subject").loc[subjects]
    fit = np.flatnonzero(pairs.index.isin(list(fit_subjects)))
    out = {}
    for m, column in enumerate(("row_a", "row_b")):
        z = voxel_pca(np.stack([volumes[int(i)] for i in pairs[column]]), fit, components).scores
        out[m] = pd.DataFrame(z, index=pairs.index, columns=[f"z_{j}" for j in range(z.shape[1])])
    return out


@dataclass
class ProbeOutcome:
    """One network's probes: result rows (AUCs, chosen hyper-parameters), coefficients by modality, and
    ``predictions``: one row per hold-out subject and modality (``objective, modality, fold, subject, y_true,
    prob_1``) for the bootstrap intervals."""

    rows: list[dict[str, Any]]
    coefficients: dict[str, np.ndarray]
    predictions: pd.DataFrame


def probe_rows(latents: dict[int, pd.DataFrame], cohort: PairedCohort, plan: FoldPlan, modalities: tuple[str, str],
               objective: str, trials: int, folds: int, seed: int) -> ProbeOutcome:
    """Hold-out and validation AUC of each modality's probe (fitted on ``plan.probe_train``), its coefficients and
    its hold-out predictions.

    ``probe_nonzero`` counts the probe's non-zero coefficients: 0 is a constant predictor (every score equal,
    AUC exactly 0.5), which Optuna picks when a C small enough to zero every coefficient scores as well in CV as
    any other (CV AUCs on few subjects are noise).
    """
    rows, coefs, predictions = [], {}, []
    y_of = lambda s: cohort.groups.loc[list(s)].to_numpy(int)  # noqa: E731
    for m, modality in enumerate(modalities):
        z = latents[m]
        scored = list(plan.holdout) + list(plan.validation)
        probe = tuned_logistic_probe(z.loc[list(plan.probe_train)].to_numpy(), y_of(plan.probe_train),
                                     z.loc[scored].to_numpy(), trials, folds, seed)
        n_hold = len(plan.holdout)
        rows.append({
            "objective": objective, "modality": modality, "fold": plan.fold,
            "auc_holdout": binary_auc(y_of(plan.holdout), probe.scores[:n_hold]),
            "auc_validation": binary_auc(y_of(plan.validation), probe.scores[n_hold:]),
            "auc_probe_cv": probe.cv_auc,
            "probe_C": probe.params["C"], "probe_penalty": probe.params["penalty"],
            "probe_l1_ratio": probe.params["l1_ratio"] if probe.params["penalty"] == "elasticnet" else float("nan"),
            "probe_nonzero": int(np.count_nonzero(probe.coefficients)),
            "n_probe_train": len(plan.probe_train), "n_holdout": n_hold, "n_validation": len(plan.validation),
        })
        coefs[modality] = probe.coefficients
        predictions.append(pd.DataFrame({"objective": objective, "modality": modality, "fold": plan.fold,
                                         "subject": list(plan.holdout), "y_true": y_of(plan.holdout),
                                         "prob_1": probe.scores[:n_hold]}))
    return ProbeOutcome(rows, coefs, pd.concat(predictions, ignore_index=True))


def latent_table(latents: dict[int, pd.DataFrame], cohort: PairedCohort, modalities: tuple[str, str], objective: str,
                 fold: int, split_of: dict[str, str]) -> pd.DataFrame:
    """Long table of latents: objective, fold, modality, subject, group, split, z_0 … (for the report's similarity)."""
    frames = []
    for m, modality in enumerate(modalities):
        z = latents[m]
        frames.append(z.reset_index().assign(
            objective=objective, fold=fold, modality=modality,
            group=[GROUP_NAMES[int(cohort.groups.loc[s])] for s in z.index],
            split=[split_of.get(s, "") for s in z.index]))
    table = pd.concat(frames, ignore_index=True)
    front = ["objective", "fold", "modality", "subject", "group", "split"]
    return table[front + [c for c in table.columns if c not in front]]
