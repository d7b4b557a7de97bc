"""Study 2 (spirometry) end to end on a tiny cohort, and its disease probe against a direct computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from alignome.cli import app
from alignome.evaluation.disease_probe import probe_auc, standardised_difference
from alignome.recipes.gemcont.pc1_figure import PC1_FILE
from alignome.recipes.gemcont.spirometry_study import split_halves

TINY = """
kind: gemcont
name: tiny-spirometry
data:
  spirometry: {n_subjects: 160, n_external: [400, 400], n_causal: 6, h_trait: 0.9, trait_to_disease: 0.8,
               prevalence: 0.3, n_snps: 600, image_size: 32}
method: {widths: [8, 16, 32], embedding_dim: 8, epochs: 1, warmup_epochs: 0, batch_size: 64, augment: crop_blur}
protocol: {splits: 1, methods: [gemcont, prs, supervised, pixels-pca], gwas_pcs: 2, jobs: 1}
"""


def test_probe_auc_of_one_feature_is_its_own_auc_and_cohens_d() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.3
    x = rng.normal(size=400) + y
    assert probe_auc(x, y) == pytest.approx(roc_auc_score(y, x), abs=0.01)  # monotone in one feature
    d = standardised_difference(x, y)
    assert 0.7 < d < 1.3


@pytest.mark.slow
def test_spirometry_study_runs_and_scans_the_held_out_half(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "tiny.yaml"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    res = pd.read_csv(tmp_path / "run" / "results.csv").set_index(["method", "metric"])["value"]
    methods = ("FEV1/FVC", "PRS (no image)", "gemcont", "prs", "supervised", "pixels-pca", "oracle")
    for method in methods:
        assert 0 <= res[(method, "auc")] <= 1
    table = pd.read_csv(tmp_path / "run" / "results.csv").set_index(["method", "metric"])
    for method in methods:  # every AUC has its bootstrap interval around it
        low, high = table.loc[(method, "auc"), ["ci_low", "ci_high"]]
        assert low <= res[(method, "auc")] <= high
    assert res[("oracle", "auc")] > res[("FEV1/FVC", "auc")]  # the true trait beats the biomarker read off the curve
    assert res[("gemcont", "gwas_samples")] == 80  # the held-out half only
    # PC1 by status: held-out subjects only, and the |d| of results.csv recomputed from the table
    _, test = split_halves(160, 0, 0)
    pc1 = pd.read_csv(tmp_path / "run" / PC1_FILE)
    for method, sub in pc1.groupby("method"):
        assert sorted(sub["IID"]) == [f"sp{i:06d}" for i in test]
        d = abs(standardised_difference(sub["value"].to_numpy(), sub["disease"].to_numpy()))
        assert d == pytest.approx(res[(method, "pc1_cohens_d")])
    assert set(pc1["method"]) == {"FEV1/FVC", "gemcont", "prs", "supervised", "pixels-pca", "oracle"}
    page = (tmp_path / "run" / "report.html").read_text()
    assert "PC1 of the held-out embeddings, cases vs controls" in page and (tmp_path / "run" / "figures" / "pc1_by_status.png").is_file()
