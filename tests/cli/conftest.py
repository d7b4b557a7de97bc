"""Small valid inputs of every command, written once per module; tests work on copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignome.simulate.ad_cohort import simulate_ad_cohort
from alignome.simulate.mri3d import simulate_mri3d
from tests.helpers.gwas_data import write_small_fileset


def _genetics_inputs(root: Path) -> None:
    geno, iids = write_small_fileset(root)
    rng = np.random.default_rng(0)
    variants = list(geno.variant_id)
    m = len(variants)
    pd.DataFrame({"CHR": geno.chromosome, "SNP": variants, "BP": geno.bp_position,
                  "P": rng.uniform(1e-8, 1, m)}).to_csv(root / "gwas.assoc", sep=" ", index=False)
    pd.DataFrame({"SNP": variants, "A1": geno.allele_1, "W": rng.normal(size=m)}).to_csv(
        root / "weights.txt", sep=" ", index=False, header=False)
    pheno = pd.DataFrame({"FID": iids, "IID": iids, "t1": rng.normal(size=len(iids)), "t2": rng.normal(size=len(iids))})
    pheno.to_csv(root / "pheno.tsv", sep="\t", index=False)
    pheno[["FID", "IID"]].assign(age=rng.uniform(50, 80, len(iids))).to_csv(root / "covar.tsv", sep="\t", index=False)
    for k in (1, 2):
        beta = rng.normal(0, 0.05, m)
        se = np.full(m, 0.05)
        pd.DataFrame({"CHR": geno.chromosome, "SNP": variants, "BP": geno.bp_position, "A1": geno.allele_1,
                      "NMISS": 400, "BETA": beta, "SE": se, "R2": 0.01, "T": beta / se, "P": rng.uniform(0, 1, m)}
                     ).to_csv(root / f"study{k}.qassoc", sep=" ", index=False)


def _paired_inputs(root: Path, subjects: int = 30) -> None:
    """A T1w + fALFF manifest (``mm``) whose images are the ``mri`` cohort's scans, reused: no further simulation."""
    mri = pd.read_csv(root / "mri" / "manifest.csv")
    sources = sorted(mri["subject"].unique())
    rows = []
    for k in range(subjects):
        scans = mri[mri["subject"] == sources[k % len(sources)]].reset_index(drop=True)
        for v, scan in scans.iterrows():
            for modality, offset in (("T1w", 0), ("fALFF", 9)):
                rows.append({"subject": f"mm-{k:02d}", "session": f"ses-{v + 1:02d}", "days": 400 * v + offset,
                             "modality": modality, "path": f"../mri/{scan['path']}",
                             "diagnosis": ("CN", "AD", "MCI")[k % 3], "age": scan["age"], "sex": scan["sex"]})
    (root / "mm").mkdir()
    pd.DataFrame(rows).to_csv(root / "mm" / "manifest.csv", index=False)
    (root / "mm" / "cohort.yaml").write_text("manifest: manifest.csv\n")


def _image_inputs(root: Path, subjects: int = 60) -> None:
    """Own images for ``gemcont`` (``img``): one small NPY per genotyped sample, a manifest and a panel with effects."""
    fam = pd.read_csv(root / "g.fam", sep=r"\s+", header=None)
    bim = pd.read_csv(root / "g.bim", sep=r"\s+", header=None)
    rng = np.random.default_rng(1)
    img = root / "img"
    (img / "images").mkdir(parents=True)
    ids = list(fam[1].astype(str))[:subjects]
    for sid in ids:
        np.save(img / "images" / f"{sid}.npy", rng.random((28, 28), dtype=np.float32))
    pd.DataFrame({"subject": ids, "path": [f"images/{s}.npy" for s in ids],
                  "age": rng.uniform(50, 80, len(ids))}).to_csv(img / "manifest.csv", index=False)
    pd.DataFrame({"variant": bim[1].iloc[:5], "effect_allele": bim[4].iloc[:5], "p": 1e-9,
                  "beta": rng.normal(0, 0.1, 5)}).to_csv(img / "panel.tsv", sep="\t", index=False)
    (img / "cohort.yaml").write_text("manifest: {path: manifest.csv, bfile: ../g, panel: panel.tsv, size: 28}\n")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Valid inputs of every command, written once; each case works on a copy."""
    root = tmp_path_factory.mktemp("inputs")
    _genetics_inputs(root)
    simulate_ad_cohort(root / "ad", subjects=60, seed=0)
    simulate_mri3d(root / "mri", subjects=4, voxel_mm=8.0, seed=0)
    _paired_inputs(root)
    _image_inputs(root)
    return root
