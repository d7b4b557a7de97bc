"""Builders of tiny on-disk cohorts shared by the cohort tests (no tests here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from bed_reader import to_bed

from alignome.cohort.sources import DataConfig

SUBJECTS = ["S001", "S002", "S003"]
VARIANTS = ["rs1", "rs2", "rs3", "rs4"]
# subjects × variants, counts of A1 as written to the .bed
GENOTYPES = np.array([[0, 1, 2, 1], [2, np.nan, 0, 1], [1, 1, 1, 0]], dtype=np.float32)
A1 = ["A", "C", "G", "T"]
A2 = ["G", "T", "A", "C"]

VISITS = """subject,age,dx,mmse,sex,edu
S001,70.0,CN,29,F,16
S001,71.0,MCI,27,,16
S002,65.5,AD,20,M,12
S002,66.5,AD,,M,12
S003,80.0,,28,F,
S003,80.5,Dementia,22,F,14
"""

VOLUMES = """subject,age,Left-Hippocampus,Right-Hippocampus
S001,70.1,4100.5,4200.0
S001,71.0,4050.0,4150.0
S002,65.5,3500.0,3600.0
S003,80.5,3900.0,3950.0
"""

SUMSTATS = """variant\tp
rs9\t1e-12
rs3\t1e-8
rs1\t0.5
rs4\t1e-8
rs2\t0.01
"""


def write_plink(prefix: Path, subjects=SUBJECTS, genotypes=GENOTYPES) -> Path:
    """Write a PLINK fileset with bed-reader and return its prefix."""
    to_bed(
        f"{prefix}.bed",
        genotypes,
        properties={
            "iid": list(subjects),
            "sid": VARIANTS,
            "allele_1": A1,
            "allele_2": A2,
            "chromosome": ["1", "1", "2", "2"],
            "bp_position": [100, 200, 300, 400],
        },
    )
    return prefix


def write_cohort(root: Path, visits: str = VISITS, volumes: str = VOLUMES, sumstats: str | None = SUMSTATS,
                 subjects=SUBJECTS, genotypes=GENOTYPES, **extra) -> DataConfig:
    """Write visits.csv, volumes.csv, geno.{bed,bim,fam} and sumstats.tsv; return the data section."""
    (root / "visits.csv").write_text(visits)
    (root / "volumes.csv").write_text(volumes)
    write_plink(root / "geno", subjects, genotypes)
    section = {
        "visits": {"path": root / "visits.csv", "columns": {"diagnosis": "dx", "education": "edu"}},
        "volumes": {"path": root / "volumes.csv"},
        "genotypes": {"bfile": root / "geno"},
    }
    if sumstats is not None:
        (root / "sumstats.tsv").write_text(sumstats)
        section["sumstats"] = {"path": root / "sumstats.tsv"}
    section.update(extra)
    return DataConfig.model_validate(section)


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)
