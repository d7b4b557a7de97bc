"""Reading valid cohorts: values, A1 counting, ages from dates, formats, drops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.helpers.cohort_files import GENOTYPES, SUBJECTS, VARIANTS, VISITS, VOLUMES, write_cohort

from alignome.cohort import load_cohort
from alignome.cohort.sources import DataConfig


def test_valid_cohort_values(tmp_path):
    cohort = load_cohort(write_cohort(tmp_path), n_snps=3)
    a = cohort.assessments
    assert list(a.columns) == ["subject", "age", "diagnosis", "mmse"]
    assert a["subject"].tolist() == ["S001", "S001", "S002", "S002", "S003", "S003"]
    assert a["diagnosis"].tolist()[:4] == ["CN", "MCI", "AD", "AD"]
    assert pd.isna(a["diagnosis"].iloc[4]) and a["diagnosis"].iloc[5] == "AD"  # "Dementia" -> AD
    assert np.isnan(a["mmse"].iloc[3]) and a["mmse"].iloc[0] == 29
    s = cohort.subjects
    assert s.loc["S001", "sex"] == 0 and s.loc["S002", "sex"] == 1
    assert s.loc["S003", "education"] == 14  # first non-missing value
    assert cohort.regions == ["Left-Hippocampus", "Right-Hippocampus"]
    assert cohort.scans.loc[0, "Left-Hippocampus"] == pytest.approx(4100.5)
    # ranked by p, ties (rs3, rs4 at 1e-8) in file order; rs9 is not genotyped
    assert list(cohort.genotypes.columns) == ["rs3", "rs4", "rs2"]
    assert list(cohort.variants.index) == ["rs3", "rs4", "rs2"]
    assert cohort.variants.loc["rs3", "a1"] == "G" and cohort.variants.loc["rs3", "p"] == 1e-8
    assert cohort.genotypes.dtypes.eq(np.float32).all()
    # values count A1 exactly as written
    for variant in ["rs3", "rs4", "rs2"]:
        j = VARIANTS.index(variant)
        np.testing.assert_array_equal(cohort.genotypes.loc[SUBJECTS, variant].to_numpy(), GENOTYPES[:, j])
    assert any(d.source.startswith("sumstats") and d.count == 1 for d in cohort.drops)


def test_all_variants_without_sumstats_and_ids_are_strings(tmp_path):
    visits = VISITS.replace("S00", "00")
    volumes = VOLUMES.replace("S00", "00")
    data = write_cohort(tmp_path, visits, volumes, sumstats=None, subjects=["001", "002", "003"])
    cohort = load_cohort(data, n_snps=None)
    assert list(cohort.genotypes.columns) == VARIANTS
    assert list(cohort.subjects.index) == ["001", "002", "003"]  # leading zeros kept
    assert "p" not in cohort.variants.columns


def test_dropped_rows_are_recorded(tmp_path):
    visits = VISITS + "S003,,MCI,25,F,14\n,72.0,CN,30,F,12\n"
    volumes = VOLUMES + "S003,81.0,3800.0,\n"
    cohort = load_cohort(write_cohort(tmp_path, visits, volumes), n_snps=2)
    by_source = {d.source.split(" ")[0]: d for d in cohort.drops}
    assert by_source["visits"].count == 2
    assert by_source["volumes"].count == 1 and "Right-Hippocampus" in by_source["volumes"].reason
    # exactly the empty cell: its row and region, not regions that are never missing
    assert "row 6: Right-Hippocampus" in by_source["volumes"].reason and "Left" not in by_source["volumes"].reason
    assert len(cohort.assessments) == 6 and len(cohort.scans) == 4


def test_ages_from_dates_tsv_and_parquet(tmp_path):
    visits = "RID\tEXAMDATE\tAGE\tDX\nS001\t2010-01-01\t70\tCN\nS001\t2011-01-01\t70\tMCI\nS002\t2012-05-01\t65\tAD\nS003\t2013-01-01\t80\tCN\n"
    data = write_cohort(tmp_path)
    (tmp_path / "v.tsv").write_text(visits)
    pd.read_csv(tmp_path / "volumes.csv").to_parquet(tmp_path / "vol.parquet")
    section = data.model_dump()
    section["visits"] = {"path": tmp_path / "v.tsv", "columns": {"subject": "RID", "date": "EXAMDATE", "baseline_age": "AGE", "diagnosis": "DX"}}
    section["volumes"] = {"path": tmp_path / "vol.parquet"}
    cohort = load_cohort(DataConfig.model_validate(section), n_snps=1)
    ages = cohort.assessments.set_index(["subject"])["age"]
    assert ages.loc["S001"].tolist() == pytest.approx([70.0, 70.0 + 365 / 365.25])
    assert cohort.scans["subject"].tolist() == ["S001", "S001", "S002", "S003"]
    assert np.isnan(cohort.subjects["sex"]).all()


def test_missing_modality_allowed_gives_nan_genotypes(tmp_path):
    visits = VISITS + "S004,60.0,CN,30,M,10\n"
    volumes = VOLUMES + "S004,60.0,4000,4000\n"
    cohort = load_cohort(write_cohort(tmp_path, visits, volumes, allow_missing_modality=True), n_snps=2)
    assert cohort.genotypes.loc["S004"].isna().all()
    assert not cohort.genotypes.loc["S001"].isna().any()


def test_dosage_table_and_truth(tmp_path):
    data = write_cohort(tmp_path, sumstats=None)
    (tmp_path / "dosage.csv").write_text("IID,rsA,rsB\nS001,0,1.5\nS002,2,\nS003,1,0\n")
    (tmp_path / "truth.csv").write_text("subject,age,latent_0\nS001,70.1,0.25\nS002,65.5,-1\n")
    section = data.model_dump()
    section["genotypes"] = {"dosage": tmp_path / "dosage.csv"}
    section["truth"] = tmp_path / "truth.csv"
    cohort = load_cohort(DataConfig.model_validate(section), n_snps=None)
    assert cohort.genotypes.loc["S001", "rsB"] == pytest.approx(1.5)
    assert np.isnan(cohort.genotypes.loc["S002", "rsB"])
    assert cohort.truth["latent_0"].tolist() == [0.25, -1.0]
    assert cohort.truth["subject"].tolist() == ["S001", "S002"]


def test_a_variant_panel_chooses_the_variants_in_its_order(tmp_path):
    """A panel file (as `alignome variants select` writes) replaces ranking by sumstats."""
    from alignome.genetics.panel import write_panel

    panel = pd.DataFrame({"variant": ["rs4", "rs9", "rs1", "rs2"], "chrom": "1", "pos": [4, 9, 1, 2],
                          "effect_allele": "A", "p": [1e-9, 1e-8, 1e-6, 1e-3], "source": "test"})
    path = write_panel(panel, tmp_path / "panel.tsv")
    data = write_cohort(tmp_path, sumstats=None, panel=path)
    cohort = load_cohort(data, n_snps=None)
    assert list(cohort.genotypes.columns) == ["rs4", "rs1", "rs2"]  # panel order; rs9 is not genotyped
    assert cohort.variants.loc["rs1", "p"] == pytest.approx(1e-6)
    assert any(d.source.startswith("panel") and d.count == 1 for d in cohort.drops)
    for variant in ["rs4", "rs1", "rs2"]:
        j = VARIANTS.index(variant)
        np.testing.assert_array_equal(cohort.genotypes.loc[SUBJECTS, variant].to_numpy(), GENOTYPES[:, j])
    assert list(load_cohort(data, n_snps=2).genotypes.columns) == ["rs4", "rs1"]  # n_snps caps the panel
    with pytest.raises(ValueError, match="not both"):
        write_cohort(tmp_path, panel=path)  # sumstats and panel together
