"""An OASIS-style table (whole-year ages, days since baseline) collides as it is and loads with the README's fix."""

from __future__ import annotations

import pandas as pd
import pytest

from alignome.cohort import load_cohort
from alignome.cohort.sources import DataConfig
from alignome.errors import DataError

# two visits of OAS2_0001 fall in the same year of age (74): 300 days apart
OASIS = """Subject ID,Visit,MR Delay,Group,M/F,Age,EDUC,MMSE,eTIV,nWBV,ASF
OAS2_0001,1,0,Nondemented,M,74,14,27,2004,0.696,0.876
OAS2_0001,2,300,Nondemented,M,74,14,30,2004,0.681,0.876
OAS2_0002,1,0,Demented,M,75,12,23,1678,0.736,1.046
OAS2_0002,2,560,Demented,M,76,12,28,1738,0.713,1.010
OAS2_0002,3,1895,Demented,M,80,12,22,1698,0.701,1.034
OAS2_0004,1,0,Nondemented,F,88,18,28,1215,0.710,1.444
OAS2_0004,2,538,Nondemented,F,90,18,27,1200,0.718,1.462
"""


def _section(path, age: str) -> DataConfig:
    columns = {"subject": "Subject ID", "age": age}
    return DataConfig.model_validate({
        "visits": {"path": path, "columns": {**columns, "diagnosis": "Group", "sex": "M/F", "education": "EDUC",
                                             "mmse": "MMSE"}},
        "volumes": {"path": path, "columns": columns, "regions": ["eTIV", "nWBV", "ASF"]},
        "diagnosis_map": {"CN": ["Nondemented"], "AD": ["Demented"]},
    })


def test_whole_year_ages_collide_and_baseline_age_plus_days_loads(tmp_path):
    raw = tmp_path / "oasis_longitudinal.csv"
    raw.write_text(OASIS)
    with pytest.raises(DataError, match="whole years"):
        load_cohort(_section(raw, "Age"), n_snps=None)

    v = pd.read_csv(raw).sort_values(["Subject ID", "Visit"])  # the README's fix, as written there
    v["age_exact"] = v.groupby("Subject ID")["Age"].transform("first") + v["MR Delay"] / 365.25
    v.to_csv(tmp_path / "visits.csv", index=False)
    cohort = load_cohort(_section(tmp_path / "visits.csv", "age_exact"), n_snps=None)
    ages = cohort.assessments.query("subject == 'OAS2_0001'")["age"].tolist()
    assert ages == pytest.approx([74.0, 74.0 + 300 / 365.25])
    assert len(cohort.scans) == 7 and cohort.genotypes.shape == (3, 0)
