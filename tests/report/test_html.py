"""Tests of alignome.report: summary table, figures and self-contained HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignome.errors import DataError
from alignome.recipes.runner import build_report
from alignome.report import summarise, summary_markdown
from alignome.report.html import markdown_to_html

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A cell's interval as the summary writes it, with the leading space.
INTERVAL = re.compile(r" \[-?\d\.\d{3}, -?\d\.\d{3}\]†?")
ALL_FIGURES = ("performance.png", "roc.png", "gates.png", "training_curves.png", "embeddings_pca.png")
TASK_CLASSES = {"CN/AD": 2, "CN/MCI": 2, "MCI/AD": 2, "CN/MCI/AD": 3}

# (method, task, metric) -> values of folds 0 and 1, chosen so that:
# - contrastive+fusion CN/AD AUC = 0.850 ± 0.071 is the best non-oracle AUC there;
# - CN/MCI AUC ties at 0.650 between contrastive+fusion and mri-only (both bold);
# - random-forest has the lowest CN/AD RMSE (0.090 ± 0.014);
# - the oracle is better everywhere but must never be bold.
FOLD_VALUES = {
    ("contrastive+fusion", "CN/AD", "auc"): (0.8, 0.9),
    ("mri-only", "CN/AD", "auc"): (0.7, 0.8),
    ("random-forest", "CN/AD", "auc"): (0.6, 0.8),
    ("oracle", "CN/AD", "auc"): (1.0, 1.0),
    ("contrastive+fusion", "CN/MCI", "auc"): (0.6, 0.7),
    ("mri-only", "CN/MCI", "auc"): (0.65, 0.65),
    ("random-forest", "CN/MCI", "auc"): (0.55, 0.6),
    ("oracle", "CN/MCI", "auc"): (1.0, 1.0),
    ("contrastive+fusion", "CN/MCI/AD", "auc_macro_ovr"): (0.75, 0.77),
    ("mri-only", "CN/MCI/AD", "auc_macro_ovr"): (0.70, 0.72),
    ("random-forest", "CN/MCI/AD", "auc_macro_ovr"): (0.60, 0.62),
    ("oracle", "CN/MCI/AD", "auc_macro_ovr"): (1.0, 1.0),
    ("contrastive+fusion", "CN/AD", "mmse_rmse"): (0.10, 0.14),
    ("mri-only", "CN/AD", "mmse_rmse"): (0.11, 0.13),
    ("random-forest", "CN/AD", "mmse_rmse"): (0.08, 0.10),
    ("oracle", "CN/AD", "mmse_rmse"): (0.0, 0.0),
}
METHODS = ("oracle", "random-forest", "mri-only", "contrastive+fusion")  # deliberately unordered


def _results() -> pd.DataFrame:
    rows = [
        {"method": m, "task": t, "metric": k, "fold": fold, "value": v}
        for (m, t, k), values in FOLD_VALUES.items()
        for fold, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def _predictions(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for m in METHODS:
        for task, k in TASK_CLASSES.items():
            for fold in (0, 1):
                for s in range(24):
                    y = s % k
                    logits = rng.normal(size=k)
                    logits[y] += 1.5
                    p = np.exp(logits) / np.exp(logits).sum()
                    row = {"method": m, "task": task, "fold": fold, "subject": f"S{fold}_{s:02d}", "y_true": y}
                    row.update({f"prob_{i}": p[i] for i in range(k)})
                    row["mmse_true"] = rng.uniform()
                    row["mmse_pred"] = np.nan if s == 0 else rng.uniform()
                    rows.append(row)
    return pd.DataFrame(rows)


def _gates(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for fold in (0, 1):
        for s, diag in enumerate(["CN", "MCI", "AD"] * 10):
            a = float(np.clip({"CN": 0.4, "MCI": 0.5, "AD": 0.7}[diag] + rng.normal(0, 0.05), 0, 1))
            rows.append({"method": "contrastive+fusion", "task": "CN/MCI/AD", "fold": fold, "subject": f"S{s}",
                         "diagnosis": diag, "alpha_snp": 1 - a, "alpha_mri": a})
    return pd.DataFrame(rows)


def _curves() -> pd.DataFrame:
    rows = [
        {"method": m, "fold": fold, "epoch": e, "train_loss": 3.0 / (e + 1) + fold * 0.1,
         "val_loss": 3.2 / (e + 1) + 0.02 * e}
        for m in ("contrastive+fusion", "no-age")
        for fold in (0, 1)
        for e in range(10)
    ]
    return pd.DataFrame(rows)


def _embeddings(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for fold in (0, 1):
        for split in ("train", "test"):
            for s, diag in enumerate(["CN", "MCI", "AD"] * 8):
                shift = {"CN": -1.0, "MCI": 0.0, "AD": 1.0}[diag]
                row = {"subject": f"S{s}", "age": 70.0, "fold": fold, "split": split,
                       "method": "contrastive+fusion", "diagnosis": diag}
                row.update({f"z_snp_{i}": rng.normal() + 0.3 * shift for i in range(4)})
                row.update({f"z_mri_{i}": rng.normal() + shift for i in range(4)})
                rows.append(row)
    return pd.DataFrame(rows)


def write_run(run_dir: Path, *, optional: bool = True) -> Path:
    """Write a synthetic run directory; with ``optional=False`` only results.csv."""
    run_dir.mkdir(parents=True, exist_ok=True)
    _results().to_csv(run_dir / "results.csv", index=False)
    if not optional:
        return run_dir
    rng = np.random.default_rng(0)
    _predictions(rng).to_csv(run_dir / "predictions.csv", index=False)
    _gates(rng).to_csv(run_dir / "gates.csv", index=False)
    _curves().to_csv(run_dir / "training_curves.csv", index=False)
    _embeddings(rng).to_parquet(run_dir / "embeddings.parquet")
    metrics = {
        "cohort": {"subjects": 120, "scans": 410, "final_visits": {"CN": 40, "MCI": 50, "AD": 30},
                   "drops": ["3 scans without a diagnosis within 90 days"]},
        "timings_s": {"simulate": 1.5, "pretrain": 75.0},
        "seed": 7, "recipe": "ad-gated-fusion", "preset": "quick", "contrastive_form": "decoupled",
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    (run_dir / "config.resolved.yaml").write_text("recipe: ad-gated-fusion\nseed: 7\n<tag> & co\n")
    (run_dir / "run.log").write_text("\n".join(f"line {i}" for i in range(200)) + "\n")
    return run_dir


def _row_cells(markdown: str, method: str, metric: str) -> dict[str, str]:
    """Cells (one per task) of the full table's row of a method and metric row, intervals left out."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith("| Model |")):]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    current = None
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0]:
            current = cells[0]
        if current is not None and current.split(" (")[0] == method and cells[1] == metric:
            return {task: INTERVAL.sub("", cell) for task, cell in zip(header[2:], cells[2:])}
    raise AssertionError(f"no row {method}/{metric} in\n{markdown}")


@pytest.fixture()
def built(tmp_path: Path) -> Path:
    run_dir = write_run(tmp_path / "run")
    build_report(run_dir)
    return run_dir


def test_summarise_uses_sample_std_over_folds() -> None:
    s = summarise(_results())
    rec = s[(s["method"] == "contrastive+fusion") & (s["task"] == "CN/AD") & (s["row"] == "AUC")].iloc[0]
    assert rec["mean"] == pytest.approx(0.85)
    assert rec["std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))  # 0.0707, not the ddof=0 value 0.05
    assert rec["n"] == 2
    macro = s[(s["method"] == "contrastive+fusion") & (s["task"] == "CN/MCI/AD")].iloc[0]
    assert macro["metric"] == "auc_macro_ovr" and macro["row"] == "AUC"
    assert list(dict.fromkeys(s["method"]))[-1] == "oracle"
    assert list(dict.fromkeys(s["method"]))[0] == "contrastive+fusion"


def test_summary_md_numbers_and_bold(built: Path) -> None:
    md = (built / "summary.md").read_text(encoding="utf-8")
    cf_auc = _row_cells(md, "contrastive+fusion", "AUC")
    assert cf_auc["CN/AD"] == "**0.850 ± 0.071**"
    assert cf_auc["CN/MCI/AD"] == "**0.760 ± 0.014**"
    # a tie on the shown decimals bolds both cells
    assert cf_auc["CN/MCI"] == "**0.650 ± 0.071**"
    assert _row_cells(md, "mri-only", "AUC")["CN/MCI"] == "**0.650 ± 0.000**"
    assert _row_cells(md, "mri-only", "AUC")["CN/AD"] == "0.750 ± 0.071"
    # lowest RMSE wins
    assert _row_cells(md, "random-forest", "RMSE")["CN/AD"] == "**0.090 ± 0.014**"
    assert _row_cells(md, "contrastive+fusion", "RMSE")["CN/AD"] == "0.120 ± 0.028"
    # the oracle is better but never bold
    assert _row_cells(md, "oracle", "AUC")["CN/AD"] == "1.000 ± 0.000"
    assert _row_cells(md, "oracle", "RMSE")["CN/AD"] == "0.000 ± 0.000"
    assert "**" not in [line for line in md.splitlines() if line.startswith("| oracle")][0]
    # missing cells are marked, not invented
    assert _row_cells(md, "contrastive+fusion", "RMSE")["CN/MCI"] == "–"
    assert "| Model | Metric | CN/AD | CN/MCI | CN/MCI/AD |" in md
    assert "macro" in md and "one-vs-rest" in md and "min-max" in md and "ddof=1" in md
    assert "n = 2 outer folds" in md
    assert "ad-gated-fusion" in md.splitlines()[0]


def test_oracle_listed_last() -> None:
    md = summary_markdown(_results())
    names = [line.split("|")[1].strip() for line in md.splitlines()[2:] if line.startswith("|")]
    names = [n for n in names if n]
    assert names[0] == "contrastive+fusion"
    assert names[-1].startswith("oracle")


def test_html_is_self_contained(built: Path) -> None:
    text = (built / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in text
    assert text.count("<img ") == len(ALL_FIGURES)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<link" not in text and "<script" not in text and "@import" not in text
    assert "<style>" in text
    assert '<strong>0.850 ± 0.071 <span class="ci">[' in text
    assert "<details>" in text and "&lt;tag&gt; &amp; co" in text  # config shown, escaped
    assert "line 199" in text and "line 100" not in text  # log tail only
    for bit in ("ad-gated-fusion", "quick", "seed 7", "120", "3 scans without a diagnosis", "pretrain", "1.2 min"):
        assert bit in text


def test_every_figure_is_a_real_png(built: Path) -> None:
    import matplotlib.image as mpimg

    for name in ALL_FIGURES:
        path = built / "figures" / name
        assert path.is_file(), name
        assert path.read_bytes()[:8] == PNG_SIGNATURE, name
        assert path.stat().st_size > 10_000, name
        image = mpimg.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 300, name
        assert image[..., :3].std() > 0.05, f"{name} looks blank"


def test_missing_optional_files_are_tolerated(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "bare", optional=False)
    report = build_report(run_dir)
    assert report == run_dir / "report.html" and report.is_file()
    assert (run_dir / "figures" / "performance.png").is_file()
    for name in ("roc.png", "gates.png", "training_curves.png", "embeddings_pca.png"):
        assert not (run_dir / "figures" / name).exists()
    text = report.read_text(encoding="utf-8")
    assert "gates.csv is absent" in text and "metrics.json is absent" in text
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert _row_cells(md, "contrastive+fusion", "AUC")["CN/AD"] == "**0.850 ± 0.071**"
    assert "predictions.csv absent" in md


def test_empty_and_partial_optional_files(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run")
    (run_dir / "gates.csv").write_text("method,task,fold,subject,diagnosis,alpha_snp,alpha_mri\n")
    (run_dir / "training_curves.csv").write_text("")
    (run_dir / "metrics.json").write_text(json.dumps({"seed": 3}))
    build_report(run_dir)
    assert not (run_dir / "figures" / "gates.png").exists()
    assert (run_dir / "figures" / "roc.png").is_file()
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "gates.csv is empty" in text and "No timings recorded" in text


def test_rebuild_drops_stale_figures(built: Path) -> None:
    assert (built / "figures" / "gates.png").is_file()
    (built / "gates.csv").unlink()
    build_report(built)
    assert not (built / "figures" / "gates.png").exists()
    assert (built / "report.html").read_text(encoding="utf-8").count("<img ") == len(ALL_FIGURES) - 1


def test_missing_results_raises_data_error(tmp_path: Path) -> None:
    write_run(tmp_path / "run")
    (tmp_path / "run" / "results.csv").unlink()
    with pytest.raises(DataError) as info:
        build_report(tmp_path / "run")
    assert "results.csv" in str(info.value)
    assert "alignome run" in str(info.value)


def test_results_without_value_column_raises(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    _results().drop(columns="value").to_csv(run_dir / "results.csv", index=False)
    with pytest.raises(DataError, match="value"):
        build_report(run_dir)


def test_markdown_to_html_renders_table_and_escapes() -> None:
    md = "| Model | Metric | A<B |\n|---|---|---|\n| m | AUC | **0.9 ± 0.1** |\n\nNote with `code` & more.\n"
    out = markdown_to_html(md)
    assert "<th class=\"num\">A&lt;B</th>" in out
    assert "<strong>0.9 ± 0.1</strong>" in out
    assert "<code>code</code> &amp; more" in out
    assert "|" not in out
