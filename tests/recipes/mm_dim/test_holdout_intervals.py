"""Bootstrap intervals of the hold-out AUC (shared resamples across folds and objectives) and where they show."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from alignome.recipes.mm_dim.holdout_intervals import holdout_bootstrap
from alignome.recipes.mm_dim.ranking import ranking_markdown
from alignome.recipes.mm_dim.report import constant_probes_markdown
from alignome.report.bootstrap import stratified_resamples
from alignome.report.intervals import resample_seed


def _predictions(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    subjects = [f"s{i:02d}" for i in range(n)]
    y = np.arange(n) % 2
    frames = []
    for objective, signal in (("good", 1.5), ("weak", 0.3)):
        for fold in (0, 1):
            score = 1 / (1 + np.exp(-(signal * y + rng.normal(size=n))))
            frames.append(pd.DataFrame({"objective": objective, "modality": "T1w", "fold": fold,
                                        "subject": subjects, "y_true": y, "prob_1": score}))
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=1)  # row order must not matter


def test_draws_match_a_slow_loop_over_resamples_averaged_over_folds():
    predictions = _predictions()
    boot = holdout_bootstrap(predictions, n_boot=50, seed=3)
    labels = predictions.drop_duplicates("subject").set_index("subject")["y_true"].sort_index()
    index = stratified_resamples(labels.to_numpy(), 50, np.random.default_rng(resample_seed(3, "T1w", 0)))
    for objective in ("good", "weak"):
        expected = np.zeros(50)
        for fold in (0, 1):
            p = predictions[(predictions["objective"] == objective) & (predictions["fold"] == fold)]
            p = p.set_index("subject")["prob_1"].loc[labels.index].to_numpy()
            expected += [roc_auc_score(labels.to_numpy()[rows], p[rows]) for rows in index]
        np.testing.assert_allclose(boot.draws[(objective, "T1w")], expected / 2)


def test_interval_holds_the_point_estimate_and_narrows_with_more_subjects():
    small, large = _predictions(40), _predictions(400)
    widths = []
    for predictions in (small, large):
        boot = holdout_bootstrap(predictions, n_boot=300)
        own = predictions[predictions["objective"] == "good"]
        point = np.mean([roc_auc_score(f["y_true"], f["prob_1"]) for _, f in own.groupby("fold")])
        low, high = boot.interval("good", "T1w")
        assert low < point < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2  # ~1/√10 of the width


def test_a_missing_prediction_gives_no_interval_and_a_note():
    predictions = _predictions()
    gap = predictions[~((predictions["objective"] == "weak") & (predictions["subject"] == "s03")
                        & (predictions["fold"] == 1))]
    boot = holdout_bootstrap(gap, n_boot=20)
    assert ("weak", "T1w") not in boot.draws and ("good", "T1w") in boot.draws
    assert any("weak" in note for note in boot.notes)


def test_the_table_shows_each_interval():
    predictions = _predictions()
    rows = [{"method": o, "task": "T1w", "metric": "auc_holdout", "fold": f,
             "value": roc_auc_score(g["y_true"], g["prob_1"])}
            for (o, f), g in predictions.groupby(["objective", "fold"])]
    boot = holdout_bootstrap(predictions, n_boot=100)
    text = ranking_markdown(pd.DataFrame(rows), intervals=boot)
    low, high = boot.interval("good", "T1w")
    assert f"[{low:.3f}, {high:.3f}]" in text and "bootstrap 95 % interval" in text


def test_constant_probes_are_named_and_the_oracle_rows_are_not_counted():
    probes = pd.DataFrame({"objective": ["S", "AE", "oracle"], "modality": ["T1w", "T1w", "T1w"], "fold": [0, 0, -1],
                           "auc_holdout": [0.5, 0.7, 0.9], "probe_C": [1e-5, 1.0, np.nan],
                           "probe_penalty": ["l1", "l2", np.nan], "probe_nonzero": [0, 12, np.nan]})
    text = constant_probes_markdown(probes)
    assert text.startswith("1 of 2 probes are constant") and "S T1w fold 0" in text and "AE" not in text
