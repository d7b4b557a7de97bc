"""Tests of the simulated ADNI-like cohort (alignome.simulate)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.cohort.sources import DataConfig
from alignome.recipes.loading import load_data_section
from alignome.errors import ConfigError
from alignome.simulate import simulate_ad_cohort
from alignome.simulate.calibration import final_paired_visits
from alignome.simulate.genotypes import APOE_ID

FILES = (
    "genotypes.bed",
    "genotypes.bim",
    "genotypes.fam",
    "visits.csv",
    "volumes.csv",
    "sumstats.tsv",
    "truth.csv",
    "causal_variants.csv",
    "cohort.yaml",
)
PAPER_FINAL = {"CN": 299, "MCI": 349, "AD": 196}


def _hashes(path: Path) -> dict[str, str]:
    return {name: hashlib.sha256((path / name).read_bytes()).hexdigest() for name in FILES}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return simulate_ad_cohort(tmp_path_factory.mktemp("sim") / "a", subjects=120, seed=3)


def test_writes_every_file_and_loadable_data_section(cohort: Path) -> None:
    for name in FILES:
        assert (cohort / name).is_file(), name
    data = load_data_section(cohort, DataConfig)
    cfg = DataConfig.model_validate(data)
    assert cfg.visits.path == (cohort / "visits.csv").resolve()
    assert cfg.volumes.regions is None
    assert cfg.genotypes.bfile == (cohort / "genotypes").resolve()
    assert cfg.sumstats.columns["p"] == "p"
    assert cfg.truth == (cohort / "truth.csv").resolve()
    # paths in the file itself are relative, so the folder can be moved
    assert "visits.csv" in (cohort / "cohort.yaml").read_text()
    assert str(cohort) not in (cohort / "cohort.yaml").read_text()


def test_same_seed_same_bytes_other_seed_other_data(cohort: Path, tmp_path: Path) -> None:
    again = simulate_ad_cohort(tmp_path / "b", subjects=120, seed=3)
    assert _hashes(again) == _hashes(cohort)
    other = simulate_ad_cohort(tmp_path / "c", subjects=120, seed=4)
    differ = {k for k, v in _hashes(other).items() if v != _hashes(cohort)[k]}
    assert differ >= {"genotypes.bed", "visits.csv", "volumes.csv", "sumstats.tsv", "truth.csv"}


def test_table_formats(cohort: Path) -> None:
    visits = pd.read_csv(cohort / "visits.csv")
    assert list(visits.columns) == ["subject", "age", "diagnosis", "mmse", "sex", "education"]
    assert set(visits["diagnosis"]) <= {"CN", "MCI", "AD"}
    assert set(visits["sex"]) == {"F", "M"}
    assert visits["subject"].nunique() == 120
    assert visits["mmse"].dropna().between(0, 30).all()
    assert 0 < visits["mmse"].isna().mean() < 0.1
    vols = pd.read_csv(cohort / "volumes.csv")
    regions = [c for c in vols.columns if c not in ("subject", "age")]
    assert vols.columns[:2].tolist() == ["subject", "age"]
    assert 60 <= len(regions) <= 100
    assert {"Left-Hippocampus", "Right-Lateral-Ventricle", "ctx-lh-entorhinal", "EstimatedTotalIntraCranialVol"} <= set(
        regions
    )
    assert (vols[regions] > 0).all().all()
    assert vols["Left-Hippocampus"].between(1500, 6000).mean() > 0.95
    assert vols["EstimatedTotalIntraCranialVol"].between(1.0e6, 2.0e6).mean() > 0.95
    # about 4.5 scans per subject, every ~0.5–2 years
    assert 3.5 < len(vols) / 120 < 5.5
    truth = pd.read_csv(cohort / "truth.csv")
    assert list(truth.columns) == ["subject", "age", "latent_severity", "genetic_liability", "stage"]
    assert len(truth) == len(vols)
    assert (truth[["subject", "age"]].to_numpy() == vols[["subject", "age"]].to_numpy()).all()
    ss = pd.read_csv(cohort / "sumstats.tsv", sep="\t")
    assert list(ss.columns) == ["variant", "effect_allele", "beta", "p"]
    bim = pd.read_csv(cohort / "genotypes.bim", sep="\t", header=None)
    assert len(ss) == len(bim) and (ss["variant"].to_numpy() == bim[1].to_numpy()).all()
    assert (ss["effect_allele"].to_numpy() == bim[4].to_numpy()).all()
    assert ss["p"].between(0, 1).all()


def test_genotypes_are_common_linked_snps(cohort: Path) -> None:
    from bed_reader import open_bed

    with open_bed(cohort / "genotypes.bed") as bed:
        g = bed.read(dtype="float32")
        assert list(bed.iid[:2]) == ["S0001", "S0002"] and list(bed.fid[:2]) == ["S0001", "S0002"]
        assert set(bed.sex) <= {1, 2}
        chrom, bp = bed.chromosome, bed.bp_position
    assert g.shape[0] == 120 and 2500 <= g.shape[1] <= 3100
    assert set(np.unique(g)) <= {0.0, 1.0, 2.0}
    freq = g.mean(axis=0) / 2
    # MAF was filtered at 0.05 on the same subjects; A1 is the minor allele
    assert (np.minimum(freq, 1 - freq) >= 0.05 - 1e-9).all()
    assert len(set(chrom)) >= 4
    # linkage disequilibrium: neighbours on a chromosome correlate far more than distant pairs
    same = (chrom[:-1] == chrom[1:]) & (np.diff(bp) < 5000)
    r_near = np.array([abs(np.corrcoef(g[:, j], g[:, j + 1])[0, 1]) for j in np.flatnonzero(same)[:300]])
    far = np.flatnonzero(chrom != chrom[0])[:300]
    r_far = np.array([abs(np.corrcoef(g[:, 0], g[:, j])[0, 1]) for j in far])
    assert np.nanmean(r_near**2) > 3 * np.nanmean(r_far**2)


def test_truth_matches_visits_and_volumes(cohort: Path) -> None:
    visits = pd.read_csv(cohort / "visits.csv")
    truth = pd.read_csv(cohort / "truth.csv")
    vols = pd.read_csv(cohort / "volumes.csv")
    pairs = truth.reset_index().merge(visits, on="subject", suffixes=("", "_visit"))
    pairs["gap"] = (pairs["age"] - pairs["age_visit"]).abs() * 365.25
    close = pairs[pairs["gap"] <= 5]
    assert len(close) > 100
    assert (close["stage"] == close["diagnosis"]).mean() > 0.97
    # atrophy: hippocampus shrinks and ventricles grow with latent severity
    icv = vols["EstimatedTotalIntraCranialVol"]
    hippo = (vols["Left-Hippocampus"] + vols["Right-Hippocampus"]) / icv
    vent = (vols["Left-Lateral-Ventricle"] + vols["Right-Lateral-Ventricle"]) / icv
    assert np.corrcoef(hippo, truth["latent_severity"])[0, 1] < -0.3
    assert np.corrcoef(vent, truth["latent_severity"])[0, 1] > 0.1
    # stage is a step function of severity
    order = truth.groupby("stage")["latent_severity"].agg(["min", "max"])
    assert order.loc["CN", "max"] < order.loc["MCI", "min"] <= order.loc["MCI", "max"] < order.loc["AD", "min"]
    # MMSE falls with disease
    mmse = visits.groupby("diagnosis")["mmse"].mean()
    assert mmse["CN"] > mmse["MCI"] > mmse["AD"]


def test_genetic_architecture_and_sumstats(cohort: Path) -> None:
    ss = pd.read_csv(cohort / "sumstats.tsv", sep="\t")
    causal = pd.read_csv(cohort / "causal_variants.csv")
    assert list(causal.columns[:3]) == ["variant", "effect_on_liability", "effect_on_volume"]
    liability = causal[causal["effect_on_liability"] != 0]
    assert 50 <= len(liability) <= 101
    top = liability.loc[liability["effect_on_liability"].abs().idxmax(), "variant"]
    assert top == APOE_ID
    assert 3 <= (causal["effect_on_volume"] != 0).sum() <= 10
    ranked = ss.sort_values("p")["variant"].tolist()
    assert ranked.index(APOE_ID) < 5
    assert ss.set_index("variant").loc[APOE_ID, "beta"] > 0  # risk allele counted
    # causal loci (and their LD neighbours) are enriched at the top
    causal_set = set(liability["variant"])
    assert len(causal_set & set(ranked[:100])) >= 5
    # the APOE-like variant raises the genetic liability of carriers
    truth = pd.read_csv(cohort / "truth.csv").drop_duplicates("subject")
    from bed_reader import open_bed

    with open_bed(cohort / "genotypes.bed") as bed:
        j = list(bed.sid).index(APOE_ID)
        apoe = pd.Series(bed.read(index=np.s_[:, j], dtype="float32")[:, 0], index=bed.iid)
    g = apoe.loc[truth["subject"]].to_numpy()
    assert np.corrcoef(g, truth["genetic_liability"])[0, 1] > 0.4


def test_pairing_window_matters(cohort: Path) -> None:
    visits = pd.read_csv(cohort / "visits.csv")
    vols = pd.read_csv(cohort / "volumes.csv")
    scans = vols[["subject", "age"]].reset_index()
    pairs = scans.merge(visits[["subject", "age"]], on="subject", suffixes=("", "_visit"))
    gap = ((pairs["age"] - pairs["age_visit"]).abs() * 365.25).groupby(pairs["index"]).min()
    assert 0.005 < (gap > 90).mean() < 0.12  # a few scans lack a diagnosis within 90 days
    assert (gap <= 45).mean() > 0.85  # most lie within days to weeks
    # some assessments have no scan
    per_visit = visits.reset_index().merge(scans, on="subject", suffixes=("", "_scan"))
    nearest = ((per_visit["age"] - per_visit["age_scan"]).abs() * 365.25).groupby(per_visit["index"]).min()
    assert (nearest > 90).sum() > 0


def test_final_visit_shares_near_paper(tmp_path: Path) -> None:
    # the time this takes is measured by benchmarks/cohort_speed.py, not asserted here
    out = simulate_ad_cohort(tmp_path / "full", subjects=844, seed=0)
    final = final_paired_visits(out)
    share = final["diagnosis"].value_counts(normalize=True)
    for dx, n in PAPER_FINAL.items():
        assert abs(share[dx] - n / 844) < 0.06, (dx, share.to_dict())
    n_scans = len(pd.read_csv(out / "volumes.csv", usecols=["subject"]))
    assert 3400 <= n_scans <= 4200


def test_too_few_subjects_raises() -> None:
    with pytest.raises(ConfigError, match="--subjects 20"):
        simulate_ad_cohort(Path("unused"), subjects=5)


def test_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    result = runner.invoke(app, ["simulate", "ad-cohort", "--out", str(out), "--subjects", "60", "--seed", "1"])
    assert result.exit_code == 0, result.output
    for name in FILES:
        assert (out / name).is_file()
    fam = (out / "genotypes.fam").read_text().splitlines()
    assert len(fam) == 60
    bad = runner.invoke(app, ["simulate", "ad-cohort", "--out", str(tmp_path / "bad"), "--subjects", "5"])
    assert bad.exit_code == 2
    assert "--subjects 20" in bad.output
    assert not (tmp_path / "bad").exists()
