"""The summary's note describes only the tasks the table shows."""

import pandas as pd

from alignome.report.summary import summary_markdown


def _results(tasks: list[str]) -> pd.DataFrame:
    rows = []
    for task in tasks:
        metric = "auc_macro_ovr" if task.count("/") > 1 else "auc"
        for fold in range(3):
            rows.append({"method": "m", "task": task, "metric": metric, "fold": fold, "value": 0.7 + 0.01 * fold})
    return pd.DataFrame(rows)


def test_the_three_class_sentence_appears_only_with_the_three_class_task():
    assert "macro-averaged one-vs-rest" in summary_markdown(_results(["CN/AD", "CN/MCI/AD"]))
    two_class = summary_markdown(_results(["CN/AD"]))
    assert "AUC is ROC-AUC." in two_class and "one-vs-rest" not in two_class
