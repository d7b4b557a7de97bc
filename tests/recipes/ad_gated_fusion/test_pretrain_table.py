"""The per-fold pretraining table of the summary reads each fold's own settings."""

import numpy as np
import pandas as pd

from alignome.recipes.ad_gated_fusion.pretrain_table import pretrain_choice_markdown


def _params(inner_score: float) -> pd.DataFrame:
    rows = []
    for fold, (weight, dim) in enumerate([(0.0, 16), (0.1, 64)]):
        for method, w in (("contrastive+fusion", weight), ("only-reconstruction", 0.0)):
            for task in ("CN/AD", "CN/MCI"):
                rows.append({"method": method, "task": task, "fold": fold, "pretrain_contrastive_weight": w,
                             "pretrain_embedding_dim": dim, "pretrain_stopped_on": "reconstruction",
                             "pretrain_inner_score": inner_score + fold, "lr": 0.01})
    rows.append({"method": "random-forest", "task": "CN/AD", "fold": 0, "n_estimators": 200})
    return pd.DataFrame(rows)


def test_one_row_per_fold_with_that_folds_settings():
    md = pretrain_choice_markdown(_params(0.5), "contrastive+fusion")
    body = [line for line in md.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert body == ["| 0 | 0 | 16 | reconstruction | 0.5 |", "| 1 | 0.1 | 64 | reconstruction | 1.5 |"]
    assert "inner-validation subjects that the pretraining never saw" in md


def test_unsearched_runs_say_so_and_other_runs_get_no_table():
    md = pretrain_choice_markdown(_params(np.nan), "contrastive+fusion")
    assert "Not searched" in md and "| 0 | 0 | 16 | reconstruction | – |" in md
    assert pretrain_choice_markdown(pd.DataFrame({"method": ["random-forest"], "fold": [0]}), "contrastive+fusion") == ""
    assert pretrain_choice_markdown(None, "contrastive+fusion") == ""
