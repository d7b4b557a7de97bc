"""A tiny in-memory cohort (no files): subjects with a few scans, genotypes and a diagnosis each."""

import numpy as np
import pandas as pd

from alignome.cohort.model import Cohort


def tiny_cohort(seed: int = 0, n: int = 40, visits: int = 3, unlabelled: int = 0) -> tuple[Cohort, pd.DataFrame, pd.DataFrame]:
    """``n`` subjects with ``visits`` scans each; the last ``unlabelled`` subjects never get a diagnosis."""
    rng = np.random.default_rng(seed)
    subjects = [f"S{i:03d}" for i in range(n)]
    dx = np.array(["CN", "MCI", "AD"])[np.arange(n) % 3].astype(object)
    dx[n - unlabelled:] = None
    scans = pd.DataFrame(
        [
            {"subject": s, "age": 70.0 + i + v, "r1": rng.normal(1000, 50), "r2": rng.normal(500, 20)}
            for i, s in enumerate(subjects)
            for v in range(visits)
        ]
    )
    pairs = scans[["subject", "age"]].assign(
        scan_row=np.arange(len(scans)),
        diagnosis=np.repeat(dx, visits),
        mmse=28.0,
        sex=0.0,
        education=16.0,
    )
    final = pairs[pairs["diagnosis"].notna()].groupby("subject").tail(1).reset_index(drop=True)
    cohort = Cohort(
        assessments=pairs[["subject", "age", "diagnosis", "mmse"]].copy(),
        subjects=pd.DataFrame({"sex": rng.integers(0, 2, n).astype(float), "education": rng.normal(15, 3, n)}, index=pd.Index(subjects, name="subject")),
        scans=scans,
        regions=["r1", "r2"],
        genotypes=pd.DataFrame(rng.integers(0, 3, (n, 5)).astype(np.float32), index=subjects, columns=[f"v{j}" for j in range(5)]),
        variants=pd.DataFrame({"chrom": "1", "pos": range(5), "a1": "A", "a2": "G"}, index=[f"v{j}" for j in range(5)]),
    )
    return cohort, pairs, final
