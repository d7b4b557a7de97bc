"""The mm-dim quick preset end to end through the command line: outputs, report, a rerun resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.recipes.mm_dim.probe import RAW_BASELINE

from tests.helpers.paths import RECIPES

runner = CliRunner()


def _run(out: Path, cache: Path):
    return runner.invoke(app, ["run", str(RECIPES / "mm-dim.yaml"), "--preset", "quick", "--out", str(out)],
                         env={"ALIGNOME_CACHE_DIR": str(cache)})


@pytest.mark.slow
def test_quick_preset_writes_probes_report_and_resumes(tmp_path):
    out, cache = tmp_path / "run", tmp_path / "cache"
    first = _run(out, cache)
    assert first.exit_code == 0, first.output
    probes = pd.read_csv(out / "probes.csv")
    objectives = json.loads((out / "metrics.json").read_text())["objectives"]
    trained = probes[probes["objective"] != "oracle"]
    expected = {(o, m) for o in [*objectives, RAW_BASELINE] for m in ("T1w", "fALFF")}
    assert set(zip(trained["objective"], trained["modality"])) == expected
    assert trained["auc_holdout"].between(0, 1).all()
    predictions = pd.read_csv(out / "predictions.csv")  # every probe scored every labelled hold-out subject
    assert predictions.groupby(["objective", "modality", "fold"]).size().eq(int(trained["n_holdout"].iloc[0])).all()
    assert set(zip(predictions["objective"], predictions["modality"])) == expected
    splits = pd.read_csv(out / "splits.csv")
    embedded = pd.read_parquet(out / "embeddings.parquet")
    holdout = set(splits.loc[splits["split"] == "holdout", "subject"])
    assert holdout and set(embedded.loc[embedded["split"] == "holdout", "subject"]) == holdout
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"auc_ranking.png", "similarity.png", f"saliency_{objectives[0]}.png"} <= figures
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "Hold-out AUC by objective" in html
    before = (out / "results.csv").read_bytes()
    again = _run(out, cache)  # every checkpoint is complete: the rerun trains nothing and gives the same table
    assert again.exit_code == 0, again.output
    assert "resuming after epoch" in (out / "run.log").read_text()
    assert (out / "results.csv").read_bytes() == before
