"""The paired T1 + fALFF cohort of an ``mm-dim`` run: images, pairs, classes, preprocessed volumes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort.image_cohort import read_image_manifest
from alignome.cohort.model import DropRecord
from alignome.cohort.modality_pairs import evaluation_pairs, pair_modalities
from alignome.errors import DataError
from alignome.imaging.cache import VolumeCache
from alignome.imaging.settings import PreprocessSettings
from alignome.recipes.mm_dim.schema import MMDataConfig

#: Class of a subject: 0 healthy (CN), 1 AD, -1 other (pretraining only).
HEALTHY, DISEASE, OTHER = 0, 1, -1
GROUP_NAMES = {HEALTHY: "HC", DISEASE: "AD", OTHER: "other"}


@dataclass
class PairedCohort:
    """Images of both modalities, their pairs and each subject's class.

    ``images``: one row per usable image (``subject``, ``session``, ``days``, ``modality``, ``path``,
    ``diagnosis`` …), index = image id; ``pairs``: every pretraining pair (``subject``, ``row_a``,
    ``row_b`` index the images of the first and second modality, ``days_a``, ``days_b``, ``gap_days``);
    ``evaluation``: one pair per subject; ``groups``: subject → class (:data:`HEALTHY`, :data:`DISEASE`,
    :data:`OTHER`).
    """

    images: pd.DataFrame
    pairs: pd.DataFrame
    evaluation: pd.DataFrame
    groups: pd.Series
    drops: list[DropRecord] = field(default_factory=list)


def subject_groups(images: pd.DataFrame) -> pd.Series:
    """AD when any image of the subject is diagnosed AD, HC when every one is CN, otherwise other."""
    dx = images.groupby("subject")["diagnosis"]
    any_ad = dx.apply(lambda d: (d == "AD").any())
    all_cn = dx.apply(lambda d: d.notna().all() and (d == "CN").all())
    groups = pd.Series(OTHER, index=any_ad.index, dtype=int)
    groups[all_cn] = HEALTHY
    groups[any_ad] = DISEASE
    return groups


def read_paired_cohort(data: MMDataConfig, log: logging.Logger) -> PairedCohort:
    """Read both modalities of the manifest (each file checked), pair them, class each subject."""
    parts, drops = [], []
    for modality in data.modalities:
        read = read_image_manifest(data.manifest.path, columns=data.manifest.columns or None, modality=modality,
                                   diagnosis_map=data.diagnosis_map, jobs=data.jobs)
        drops += [d for d in read.drops if not str(d.reason).startswith("modality other than")]  # read by the other pass
        parts.append(read.scans.assign(modality=modality))
    images = pd.concat(parts, ignore_index=True)
    if "days" not in images.columns:
        raise DataError("the manifest has no 'days' column", file=data.manifest.path, field="days",
                        fix="add days since a fixed day of each subject (or map your column with manifest.columns)")
    pairs = pair_modalities(images, data.modalities)
    if pairs.empty:
        raise DataError(f"no subject has images of both {data.modalities[0]} and {data.modalities[1]}",
                        file=data.manifest.path, field="modality", fix="check the modality names (data.modalities)")
    paired = images[images["subject"].isin(set(pairs["subject"]))]
    groups = subject_groups(paired)
    log.info("paired cohort: %d subjects (%d HC, %d AD, %d other), %d pretraining pairs", len(groups),
             int((groups == HEALTHY).sum()), int((groups == DISEASE).sum()), int((groups == OTHER).sum()), len(pairs))
    return PairedCohort(images=images, pairs=pairs, evaluation=evaluation_pairs(pairs), groups=groups, drops=drops)


def load_volumes(cohort: PairedCohort, size: int, cache_dir: Path, jobs: int,
                 log: logging.Logger) -> dict[int, np.ndarray]:
    """Each paired image's volume at ``size³`` (RAS, native grid resized, min–max to [0, 1]), by image id."""
    used = sorted(set(cohort.pairs["row_a"]) | set(cohort.pairs["row_b"]))
    paths = [str(cohort.images.loc[i, "path"]) for i in used]
    cache = VolumeCache(cache_dir, PreprocessSettings(orientation="RAS", spacing=None, intensity="minmax",
                                                      crop_foreground=False, size=size))
    stats = cache.build(paths, jobs=jobs, progress=True)
    log.info("volume cache %s: %d reused, %d built in %.1f s", cache.cache_dir, stats.hits, stats.built, stats.seconds)
    return {i: np.asarray(cache.load(p), dtype=np.float32) for i, p in zip(used, paths)}
