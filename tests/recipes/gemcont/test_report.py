"""The gemcont tables and Fig. 2 with the linear baseline, the oracle and the intervals (and runs written before them)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alignome.recipes.gemcont.report import recovery_figure, summary_markdown
from alignome.recipes.gemcont.study import study_conditions

METHODS = ("gemcont", "simclr", "vae", "supervised", "pixels-pca")


def _sweep_results() -> pd.DataFrame:
    """Rows of the sweep preset's shape: every condition, two splits per method, one oracle row, intervals."""
    rows = []
    for c in study_conditions(3000, 0.5, 45, [1000, 3000], [0.25, 0.5, 0.75], [15, 45]):
        dials = {"task": c.label, "axis": c.axis, "n_train": c.n_train, "h_g": c.h_g, "alpha_max_deg": c.alpha_max_deg}
        for i, method in enumerate(METHODS):
            for split, value in enumerate((0.2 + 0.1 * i, 0.4 + 0.1 * i)):
                rows += [{"method": method, "metric": m, "fold": split, "value": value, "ci_low": 0.1 * i,
                          "ci_high": 0.1 * i + 0.5, **dials} for m in ("r2", "recovered_fraction")]
        rows += [{"method": "oracle", "metric": m, "fold": 0, "value": 0.97, "ci_low": 0.96, "ci_high": 0.98, **dials}
                 for m in ("r2", "recovered_fraction")]
    return pd.DataFrame(rows)


def test_table_shows_mean_sd_and_interval_and_the_oracle_without_sd() -> None:
    md = summary_markdown(_sweep_results())
    default = md.split("\n\n**")[0]
    assert "| pixels-pca | 0.700 ± 0.141 [0.400, 0.900] |" in default  # splits 0.6, 0.8; its interval
    assert "| oracle | 0.970 [0.960, 0.980] |" in default
    assert default.index("| supervised |") < default.index("| pixels-pca |") < default.index("| oracle |")


def test_sweep_figure_draws_with_the_new_rows_and_for_runs_without_intervals(tmp_path: Path) -> None:
    results = _sweep_results()
    assert recovery_figure(results, tmp_path / "new.png").is_file()
    old = results[~results["method"].isin(["pixels-pca", "oracle"])].drop(columns=["ci_low", "ci_high"])
    assert recovery_figure(old, tmp_path / "old.png").is_file()
    assert "[" not in summary_markdown(old).split("\n\n")[1]  # no interval recorded: none shown
