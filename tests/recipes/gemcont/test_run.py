"""The gemcont recipe end to end on a tiny cohort: outputs, held-out embeddings apart from training subjects, bad config."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.errors import ConfigError
from alignome.recipes.gemcont.schema import GemcontRecipe
from alignome.recipes.registry import load_recipe

from tests.helpers.paths import RECIPES

TINY = """
kind: gemcont
name: tiny
data: {n_test: 200, n_pool: 240, n_variants: 4, n_null_variants: 40}
method: {widths: [8, 16, 32], embedding_dim: 8, epochs: 1, warmup_epochs: 0, batch_size: 64}
protocol: {n_train: 200, splits: 1, methods: [gemcont, supervised, pixels-pca], gwas_pcs: 2, jobs: 1}
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gemcont")
    (root / "tiny.yaml").write_text(TINY)
    result = CliRunner().invoke(app, ["run", str(root / "tiny.yaml"), "--out", str(root / "run")])
    assert result.exit_code == 0, result.output
    return root / "run"


def test_run_writes_scores_report_and_held_out_embeddings(tiny_run: Path) -> None:
    for name in ("results.csv", "summary.md", "report.html", "metrics.json", "figures/recovery.png",
                 "data/genotypes.bed", "trained_subjects.txt", "embeddings/gemcont.tsv", "embeddings/supervised.tsv"):
        assert (tiny_run / name).is_file(), name
    results = pd.read_csv(tiny_run / "results.csv")
    assert set(results["metric"]) >= {"r2", "recovered_fraction", "lambda_gc_null"}
    assert set(results["method"]) == {"gemcont", "supervised", "pixels-pca", "oracle"}
    r2 = results[results["metric"] == "r2"].set_index("method")
    assert (r2["ci_low"] <= r2["value"]).all() and (r2["value"] <= r2["ci_high"]).all()
    assert (r2.drop("oracle")["value"] < r2.loc["oracle", "value"]).all()  # no embedding carries more than α
    share = results[results["metric"] == "recovered_fraction"]
    assert share["ci_low"].notna().all() and (share["ci_low"] <= share["value"]).all()
    assert "[" in (tiny_run / "summary.md").read_text()  # the table shows the intervals
    trained = set((tiny_run / "trained_subjects.txt").read_text().split())
    fam = pd.read_csv(tiny_run / "data/genotypes.fam", sep=r"\s+", header=None)
    assert not (tiny_run / "embeddings" / "oracle.tsv").exists()  # the truth is no embedding to scan
    for method in ("gemcont", "supervised", "pixels-pca"):
        emb = pd.read_csv(tiny_run / "embeddings" / f"{method}.tsv", sep="\t")
        assert len(emb) == 200 and not trained & set(emb["IID"])  # held-out subjects only
        assert set(emb["IID"]) <= set(fam[1])
    assert len(trained) == 200
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert metrics["speed"]["gemcont"]["train_images_per_s"] > 0


def test_shipped_presets_validate_and_bad_values_are_refused(tmp_path: Path) -> None:
    for preset in (None, "quick", "sweep"):
        assert isinstance(load_recipe(RECIPES / "gemcont.yaml", preset=preset), GemcontRecipe)
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("n_train: 200", "n_train: 500"))
    with pytest.raises(ConfigError, match="n_pool"):
        load_recipe(bad)
    bad.write_text(TINY.replace("[gemcont, supervised, pixels-pca]", "[gemcont, clip]"))
    with pytest.raises(ConfigError, match="clip"):
        load_recipe(bad)
