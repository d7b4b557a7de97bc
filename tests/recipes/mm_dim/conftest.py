"""A small paired cohort held in memory: random volumes, three classes, two or three pairs per subject."""

import numpy as np
import pandas as pd
import pytest

from alignome.recipes.mm_dim.cohort import PairedCohort, subject_groups
from alignome.cohort.modality_pairs import evaluation_pairs, pair_modalities

SIZE = 16


def make_cohort(n_subjects: int = 36, seed: int = 0) -> tuple[PairedCohort, dict[int, np.ndarray]]:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        dx = ("CN", "AD", "MCI")[s % 3]
        for visit in range(2 + s % 2):
            for modality, offset in (("T1w", 0), ("fALFF", 7)):
                rows.append({"subject": f"s{s:02d}", "session": f"v{visit}", "days": 400 * visit + offset,
                             "modality": modality, "diagnosis": dx, "path": f"s{s}_{visit}_{modality}.nii.gz"})
    images = pd.DataFrame(rows)
    pairs = pair_modalities(images, ("T1w", "fALFF"))
    volumes = {}
    for i in images.index:
        v = np.zeros((SIZE,) * 3, np.float32)  # a brain (non-zero) inside a zero background
        v[3:-3, 3:-3, 3:-3] = rng.gamma(2.0, 1.0, size=(SIZE - 6,) * 3) + 0.1
        volumes[int(i)] = v
    cohort = PairedCohort(images=images, pairs=pairs, evaluation=evaluation_pairs(pairs), groups=subject_groups(images))
    return cohort, volumes


@pytest.fixture
def paired():
    return make_cohort()
