"""Introspection of pretrained encoders (paper 001, Figs. 2–4): similarity, saliency pairs, group differences.

Run on one fold's networks and its unseen subjects (hold-out and left-out: never pretrained on):

* CKA and SVCCA between the two modalities' latents, per objective and group (from the latents);
* SmoothGrad (σ 0.05, 5 samples) of every latent dimension, brain-masked, rescaled to [0, 1],
  smoothed (σ 1.5); the T1 and fALFF dimensions whose saliencies correlate most across subjects
  and their mean maps (Fig. 3);
* voxel-wise Mann–Whitney U between HC and AD on the saliency of the probe's most positive and most
  negative latent dimension of each modality, the rank-biserial correlation (Fig. 4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignome.analysis.introspection_figures import effect_size_figure, saliency_pair_figure
from alignome.analysis.representation_similarity import similarity_by_group
from alignome.analysis.saliency import best_correlated_pair, saliency_correlation, smoothgrad
from alignome.analysis.voxel_group_tests import mann_whitney_maps
from alignome.models.dim import MultimodalDIM

#: SmoothGrad settings of the paper.
SMOOTHGRAD = {"sigma": 0.05, "samples": 5, "smoothing_sigma": 1.5}


def similarity_table(latents: pd.DataFrame, split: tuple[str, ...] = ("holdout", "fold_test")) -> pd.DataFrame:
    """CKA and SVCCA between modalities per objective and group, on the first fold's unseen subjects."""
    frame = latents[(latents["fold"] == latents["fold"].min()) & latents["split"].isin(split)]
    cols = [c for c in frame.columns if c.startswith("z_")]
    modalities = list(dict.fromkeys(frame["modality"]))
    rows = []
    for objective, sub in frame.groupby("objective", sort=False):
        a = sub[sub["modality"] == modalities[0]].set_index("subject")
        b = sub[sub["modality"] == modalities[1]].set_index("subject").loc[a.index]
        table = similarity_by_group(a[cols].to_numpy(float), b[cols].to_numpy(float), a["group"].to_numpy())
        rows.append(table.assign(method=objective))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["method", "group", "cka", "svcca"])


def saliency_maps(model: MultimodalDIM, volumes: list[np.ndarray], modality: int, seed: int) -> np.ndarray:
    """``(N, d, s, s, s)`` SmoothGrad maps of every latent dimension of one modality's encoder."""
    return smoothgrad(model.latent_encoder(modality), np.stack(volumes)[:, None], seed=seed, **SMOOTHGRAD)


def saliency_pair(maps: tuple[np.ndarray, np.ndarray]) -> tuple[int, int, float, np.ndarray, np.ndarray]:
    """The best-correlated (T1 dim, fALFF dim) across subjects, its correlation and both mean maps."""
    n = len(maps[0])
    corr = saliency_correlation(maps[0].reshape(n, maps[0].shape[1], -1), maps[1].reshape(n, maps[1].shape[1], -1))
    i, j, r = best_correlated_pair(corr)
    return i, j, r, maps[0][:, i].mean(0), maps[1][:, j].mean(0)


#: Mean saliency (maps rescaled to [0, 1]) below which a voxel's group difference is set to 0: ranks ignore
#: scale, so the far tails of the smoothing carry a region's difference as strongly as the region itself.
SALIENT_FLOOR = 0.1


def group_difference_maps(maps: np.ndarray, groups: np.ndarray, coefficients: np.ndarray,
                          relative_floor: float = 0.0) -> dict[str, np.ndarray]:
    """RBC (AD vs HC) maps of the probe's most positive and most negative dimension of one modality.

    Voxels whose mean saliency over all subjects is below :data:`SALIENT_FLOOR`, or below
    ``relative_floor`` times that mean map's maximum, get 0, so a figure's peak lies where the
    encoder attends. A constant probe (all coefficients equal) ranks no dimension, so it gets no maps.
    """
    out = {}
    if np.ptp(coefficients) == 0:
        return out
    for label, dim in (("+", int(np.argmax(coefficients))), ("−", int(np.argmin(coefficients)))):
        test = mann_whitney_maps(maps[groups == 1, dim], maps[groups == 0, dim])
        mean = maps[:, dim].mean(0)
        salient = (mean >= SALIENT_FLOOR) & (mean >= relative_floor * mean.max())
        out[f"{label}β dim {dim}"] = np.where(salient, test.rbc, 0.0)
    return out


def introspect(model: MultimodalDIM, volumes: tuple[list[np.ndarray], list[np.ndarray]], groups: np.ndarray,
               coefficients: dict[str, np.ndarray], modalities: tuple[str, str], seed: int) -> dict[str, object]:
    """Saliency pair and group-difference maps of one network; ``groups`` 0 (HC) / 1 (AD) / −1 per subject."""
    maps = tuple(saliency_maps(model, volumes[m], m, seed) for m in range(2))
    i, j, r, mean_a, mean_b = saliency_pair(maps)
    labelled = (groups == 0).sum() >= 2 and (groups == 1).sum() >= 2
    rbc = {}
    if labelled:
        for m, modality in enumerate(modalities):
            for name, value in group_difference_maps(maps[m], groups, coefficients[modality]).items():
                rbc[f"{modality} {name}"] = value
    return {"pair": (i, j, r), "pair_maps": {f"{modalities[0]} dim {i}": mean_a, f"{modalities[1]} dim {j}": mean_b},
            "rbc": rbc}


def write_figures(name: str, result: dict[str, object], fig_dir: Path, background: np.ndarray) -> list[Path]:
    """Saliency-pair and RBC figures of one objective into ``fig_dir``."""
    i, j, r = result["pair"]
    paths = [saliency_pair_figure(result["pair_maps"], fig_dir / f"saliency_{name}.png", background=background,
                                  title=f"{name}: best-correlated saliency pair (r = {r:.2f})")]
    if result["rbc"]:
        paths.append(effect_size_figure(result["rbc"], fig_dir / f"group_differences_{name}.png",
                                        background=background, title=f"{name}: AD vs HC, rank-biserial correlation"))
    return paths
