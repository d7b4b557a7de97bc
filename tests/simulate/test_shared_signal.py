"""The shared-signal dial S of the simulated AD cohort, checked against its truth tables."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bed_reader import open_bed
from typer.testing import CliRunner

from alignome.cli import app
from alignome.errors import ConfigError
from alignome.simulate import simulate_ad_cohort
from alignome.simulate.genotypes import APOE_ID
from alignome.simulate.shared_signal import SharedSignalParams

SUBJECTS = 844  # the paper's cohort size; simulating it takes about a second
UNCHANGED = ("genotypes.bed", "genotypes.bim", "genotypes.fam", "visits.csv", "sumstats.tsv", "cohort.yaml")
CHANGED = ("volumes.csv", "truth.csv", "causal_variants.csv")
SHARED_COLUMNS = ["shared_effect_on_volume", "shared_effect_on_rate", "shared_regions"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory) -> dict[float, Path]:
    root = tmp_path_factory.mktemp("shared")
    out = {s: simulate_ad_cohort(root / f"s{s}", subjects=SUBJECTS, seed=0, shared_signal=s) for s in (0.0, 1.0, 2.0)}
    out["default"] = simulate_ad_cohort(root / "default", subjects=SUBJECTS, seed=0)
    return out


def _shared_table(path: Path) -> pd.DataFrame:
    causal = pd.read_csv(path / "causal_variants.csv", keep_default_na=False)
    return causal[causal["shared_effect_on_volume"] != 0].set_index("variant")


def _dosage(path: Path, subjects: pd.Series, variants: list[str]) -> np.ndarray:
    with open_bed(path / "genotypes.bed", count_A1=True, num_threads=1) as bed:
        sid, iid = list(bed.sid), pd.Index(bed.iid)
        g = bed.read(index=np.s_[:, [sid.index(v) for v in variants]], dtype="float64")
    return g[iid.get_indexer(subjects)], g.mean(axis=0)


def _r2(y: np.ndarray, x: np.ndarray) -> float:
    x = np.column_stack([np.ones(len(y)), x])
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    return 1.0 - float(np.var(y - x @ beta) / np.var(y))


def test_zero_is_the_unchanged_cohort_and_s_changes_only_volumes_and_truth(cohorts) -> None:
    for name in UNCHANGED + CHANGED:
        assert _digest(cohorts[0.0] / name) == _digest(cohorts["default"] / name), name
    for name in UNCHANGED:
        assert _digest(cohorts[1.0] / name) == _digest(cohorts[0.0] / name), name
    for name in CHANGED:
        assert _digest(cohorts[1.0] / name) != _digest(cohorts[0.0] / name), name
    # the negative control's tables keep their columns; S > 0 appends the shared ones
    assert not set(SHARED_COLUMNS) & set(pd.read_csv(cohorts[0.0] / "causal_variants.csv").columns)
    assert list(pd.read_csv(cohorts[1.0] / "causal_variants.csv").columns[-3:]) == SHARED_COLUMNS
    assert list(pd.read_csv(cohorts[1.0] / "truth.csv").columns[-2:]) == ["years_since_onset", "shared_genetic_effect"]


def test_volumes_move_by_the_recorded_effect_in_the_recorded_regions(cohorts) -> None:
    base = pd.read_csv(cohorts[0.0] / "volumes.csv")
    for s in (1.0, 2.0):
        vols = pd.read_csv(cohorts[s] / "volumes.csv")
        effect = pd.read_csv(cohorts[s] / "truth.csv")["shared_genetic_effect"].to_numpy()
        pairs = _shared_table(cohorts[s])["shared_regions"].iloc[0].split(";")
        weight = {name: float(w) for name, w in (p.rsplit(":", 1) for p in pairs)}
        assert weight["Left-Hippocampus"] == 1.0 and weight["Right-Inf-Lat-Vent"] < 0  # the temporal horn grows
        for region in base.columns[2:]:
            shift = np.log(vols[region] / base[region]).to_numpy()
            expected = weight.get(region, 0.0) * effect
            np.testing.assert_allclose(shift, expected, atol=2e-3, err_msg=region)  # volumes are rounded to 0.1 mm³


def test_truth_effect_is_the_causal_table_applied_to_the_genotypes(cohorts) -> None:
    params = SharedSignalParams()
    one, two = _shared_table(cohorts[1.0]), _shared_table(cohorts[2.0])
    assert APOE_ID in one.index and len(one) == 1 + params.n_polygenic
    assert one.loc[APOE_ID, "shared_effect_on_volume"] == pytest.approx(-params.level_per_allele)
    assert one.loc[APOE_ID, "shared_effect_on_rate"] == pytest.approx(-params.rate_per_allele)
    # effects scale with S, are proportional to the variant's effect on onset, and the carriers are liability variants
    assert list(two.index) == list(one.index)
    for col in ("shared_effect_on_volume", "shared_effect_on_rate"):
        np.testing.assert_allclose(two[col], 2 * one[col], rtol=1e-5)
        ratio = one[col] / one["effect_on_liability"]
        np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-4)
    truth = pd.read_csv(cohorts[1.0] / "truth.csv")
    g, mean = _dosage(cohorts[1.0], truth["subject"], list(one.index))
    centred = g - mean
    tau = truth["years_since_onset"].to_numpy()
    level, rate = one["shared_effect_on_volume"].to_numpy(), one["shared_effect_on_rate"].to_numpy()
    expected = centred @ level + (centred @ rate) * tau
    np.testing.assert_allclose(truth["shared_genetic_effect"], expected, atol=1e-5)
    # years since onset are consistent with the latent severity: zero-ish severity before onset
    assert (tau >= 0).all() and truth.loc[tau == 0, "latent_severity"].max() < np.log(2) + 1e-3


def test_genetic_r2_of_hippocampus_grows_with_s_as_documented(cohorts) -> None:
    """README: at S = 1 the shared term explains ≈2.2 % of log hippocampal volume beyond
    age, head size, true severity and stage (≈10 % at S = 2); at S = 0 the shared variants explain ≈0."""
    tau = pd.read_csv(cohorts[1.0] / "truth.csv")["years_since_onset"].to_numpy()  # same seed, same onsets
    variants = list(_shared_table(cohorts[1.0]).index)
    gain_true, gain_fit = {}, {}
    for s in (0.0, 1.0, 2.0):
        vols, truth = pd.read_csv(cohorts[s] / "volumes.csv"), pd.read_csv(cohorts[s] / "truth.csv")
        y = np.log(vols["Left-Hippocampus"] + vols["Right-Hippocampus"]).to_numpy()
        stage = pd.get_dummies(truth["stage"]).to_numpy(float)[:, 1:]
        cov = np.column_stack(
            [vols["age"], np.log(vols["EstimatedTotalIntraCranialVol"]), truth["latent_severity"] ** 1.5, stage]
        )
        base = _r2(y, cov)
        effect = truth["shared_genetic_effect"].to_numpy() if s > 0 else np.zeros(len(y))
        gain_true[s] = _r2(y, np.column_stack([cov, effect])) - base
        g, _ = _dosage(cohorts[s], vols["subject"], variants)
        gain_fit[s] = _r2(y, np.column_stack([cov, g, g * tau[:, None]])) - base
    assert gain_true[0.0] == 0.0 and gain_fit[0.0] < 0.012
    assert 0.012 < gain_true[1.0] < 0.05
    assert 3.0 < gain_true[2.0] / gain_true[1.0] < 5.0  # R² ≈ S²v / (r + S²v): a little under 4×
    # fitted on the true genotypes, the same signal is found
    for s in (1.0, 2.0):
        assert gain_fit[s] == pytest.approx(gain_true[s], abs=0.02)


def test_shared_variants_are_among_the_variants_the_recipe_selects(cohorts, tmp_path: Path) -> None:
    other_seed = simulate_ad_cohort(tmp_path / "c", subjects=SUBJECTS, seed=1, shared_signal=1.0)
    for out in (cohorts[1.0], other_seed):
        ranked = pd.read_csv(out / "sumstats.tsv", sep="\t").sort_values("p", kind="stable")["variant"].tolist()
        shared = _shared_table(out).index
        n_snps = 500  # the recipe's default top-K by summary-statistics p
        assert all(ranked.index(v) < n_snps for v in shared)
        assert ranked.index(APOE_ID) < 5


@pytest.mark.parametrize("bad", [-0.5, float("nan"), "strong", True])
def test_bad_strength_is_a_config_error(tmp_path: Path, bad) -> None:
    with pytest.raises(ConfigError, match="shared_signal"):
        simulate_ad_cohort(tmp_path / "bad", subjects=40, shared_signal=bad)
    assert not (tmp_path / "bad").exists()


def test_cli_flag_reaches_the_simulator(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    result = runner.invoke(
        app, ["simulate", "ad-cohort", "--out", str(out), "--subjects", "40", "--seed", "2", "--shared-signal", "1.5"]
    )
    assert result.exit_code == 0, result.output
    apoe = _shared_table(out).loc[APOE_ID, "shared_effect_on_volume"]
    assert apoe == pytest.approx(-1.5 * SharedSignalParams().level_per_allele)
    bad = runner.invoke(app, ["simulate", "ad-cohort", "--out", str(tmp_path / "bad"), "--shared-signal", "-1"])
    assert bad.exit_code == 2
    assert "shared_signal" in bad.output and "fix:" in bad.output
