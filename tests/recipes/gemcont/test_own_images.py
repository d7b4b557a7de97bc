"""The gemcont recipe on your own images (``--data DIR``): one split, held-out embeddings scanned apart from training subjects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

from alignome.cli import app
from alignome.simulate.glyphs import render_glyphs
from alignome.simulate.rotation_study import simulate_rotation_cohort, write_plink

from tests.recipes.gemcont.test_run import TINY


def _own_data(root: Path, with_effects: bool = True) -> Path:
    cohort = simulate_rotation_cohort(render_glyphs(120, 3), n_variants=4, h_g=0.5, alpha_max_deg=30, seed=3,
                                      n_null_variants=30)
    data = root / "data"
    (data / "img").mkdir(parents=True)
    write_plink(cohort, data / "geno")
    for sid, image in zip(cohort.subject_ids, cohort.images):
        np.save(data / "img" / f"{sid}.npy", image)
    pd.DataFrame({"subject": cohort.subject_ids, "path": [f"img/{s}.npy" for s in cohort.subject_ids],
                  "age": np.random.default_rng(0).normal(60, 8, cohort.n)}).to_csv(data / "manifest.csv", index=False)
    panel = pd.DataFrame({"variant": cohort.variant_ids[cohort.causal], "effect_allele": "A", "p": 1e-9})
    if with_effects:
        panel["beta"] = cohort.beta[cohort.causal]
    panel.to_csv(data / "panel.tsv", sep="\t", index=False)
    (data / "cohort.yaml").write_text(yaml.safe_dump(
        {"manifest": {"path": "manifest.csv", "bfile": "geno", "panel": "panel.tsv", "size": 28}}))
    (root / "tiny.yaml").write_text(TINY)
    return data


def test_own_images_train_on_one_side_and_scan_the_other(tmp_path: Path) -> None:
    data = _own_data(tmp_path)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(tmp_path / "tiny.yaml"), "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    trained = set((out / "trained_subjects.txt").read_text().split())
    emb = pd.read_csv(out / "embeddings" / "gemcont.tsv", sep="\t")
    assert len(trained) == 60 and len(emb) == 60 and not trained & set(emb["IID"])
    assert not (out / "embeddings" / "supervised.tsv").exists()  # needs a known trait: skipped
    results = pd.read_csv(out / "results.csv").set_index(["method", "metric"])["value"]
    assert results[("gemcont", "gwas_samples")] == 60  # held-out subjects only reach the scan
    assert list((out / "gwas").glob("gemcont*"))
    assert (out / "report.html").is_file()
    assert "GWAS covariates from the manifest: age" in (out / "run.log").read_text()


def test_own_images_without_effects_are_refused_for_the_effect_init(tmp_path: Path) -> None:
    data = _own_data(tmp_path, with_effects=False)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "tiny.yaml"), "--data", str(data), "--out", str(tmp_path / "r")])
    assert result.exit_code != 0
    assert "panel.tsv" in result.output and "random" in result.output
