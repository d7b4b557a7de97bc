"""Build summary.md, figures and report.html of a run directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alignome.report.figures import (
    embeddings_figure,
    gates_figure,
    performance_figure,
    roc_figure,
    training_curves_figure,
)
from alignome.report.html import FigureEntry, render_html
from alignome.report.ordering import main_method
from alignome.report.rundir import RunFiles, load_run
from alignome.report.summary import summarise, summary_markdown

#: File names of the figures this module writes under ``run_dir/figures``.
FIGURE_FILES = ("performance.png", "roc.png", "gates.png", "training_curves.png", "embeddings_pca.png")


def _summary_document(run: RunFiles, table_md: str) -> str:
    metrics = run.metrics or {}
    bits = [f"{k} {metrics[k]}" for k in ("recipe", "preset", "seed") if metrics.get(k) is not None]
    header = "# alignome run summary" + (f" — {', '.join(bits)}" if bits else "")
    return f"{header}\n\n{table_md}"


def _figure_specs(run: RunFiles, fig_dir: Path) -> list[tuple[str, Callable[[], Path | None], str, str]]:
    summary = summarise(run.results)
    specs: list[tuple[str, Callable[[], Path | None], str, str]] = [
        (
            "performance.png",
            lambda: performance_figure(summary, fig_dir / "performance.png"),
            "Performance per method",
            "Mean ± std over outer folds, same numbers as the table; look for methods whose "
            "error bars do not overlap, and for the oracle (grey, sees ground truth) as the ceiling.",
        )
    ]
    if run.predictions is not None:
        main = main_method(run.predictions["method"].astype(str))
        specs.append((
            "roc.png",
            lambda: roc_figure(run.predictions, fig_dir / "roc.png", results=run.results),
            "ROC curves",
            "Curves pooled over folds, legend gives the mean of per-fold AUCs; a curve above the "
            f"others dominates at every threshold. The 3-class panel shows {main} one class against the rest.",
        ))
    if run.gates is not None:
        main = main_method(run.gates["method"].astype(str))
        specs.append((
            "gates.png",
            lambda: gates_figure(run.gates, fig_dir / "gates.png"),
            "Gated-fusion weights",
            f"Weight the fusion gate of {main} puts on MRI, per subject; a rise from CN to AD means "
            "MRI drives late-stage predictions while SNPs weigh more in early stages.",
        ))
    if run.curves is not None:
        specs.append((
            "training_curves.png",
            lambda: training_curves_figure(run.curves, fig_dir / "training_curves.png"),
            "Pretraining curves",
            "Train (solid) and validation (dashed) loss per fold; a validation loss that turns up "
            "while training loss falls signals overfitting, curves still falling signal too few epochs.",
        ))
    if run.embeddings is not None:
        specs.append((
            "embeddings_pca.png",
            lambda: embeddings_figure(run.embeddings, fig_dir / "embeddings_pca.png"),
            "Embedding projection",
            "First two principal components of held-out subjects' embeddings (one fold); "
            "diagnoses that separate along PC1 are what the probes can exploit.",
        ))
    return specs


def build_report(run_dir: str | Path) -> Path:
    """(Re)build ``summary.md``, ``figures/*.png`` and ``report.html`` of a run directory.

    Parameters
    ----------
    run_dir
        Directory written by ``alignome run``. ``results.csv`` is required;
        ``predictions.csv``, ``gates.csv``, ``training_curves.csv``,
        ``embeddings.parquet``, ``metrics.json``, ``config.resolved.yaml`` and
        ``run.log`` are used when present and skipped (with a note in the report)
        when absent.

    Returns
    -------
    pathlib.Path
        Path of the written ``report.html``: one self-contained file with CSS
        inline and figures inlined as base64 PNG, which opens without network.

    Raises
    ------
    alignome.errors.DataError
        If ``run_dir`` or its ``results.csv`` is missing, or ``results.csv``
        lacks a required column.

    Examples
    --------
    >>> build_report("runs/ad-gated-fusion-quick")  # doctest: +SKIP
    PosixPath('runs/ad-gated-fusion-quick/report.html')
    """
    run = load_run(run_dir)
    if (run.metrics or {}).get("kind") == "longitudinal-mri":
        from alignome.longitudinal.report import build_longitudinal_report

        return build_longitudinal_report(run)
    run_dir = run.run_dir
    table_md = summary_markdown(run.results)
    (run_dir / "summary.md").write_text(_summary_document(run, table_md), encoding="utf-8")

    fig_dir = run_dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    for name in FIGURE_FILES:  # stale figures of an earlier build must not survive
        (fig_dir / name).unlink(missing_ok=True)

    figures: list[FigureEntry] = []
    for name, draw, title, caption in _figure_specs(run, fig_dir):
        path = draw()
        if path is None:
            run.notes.append(f"{name} was not drawn: its input holds nothing to plot.")
            continue
        figures.append(FigureEntry(path=path, title=title, caption=caption))

    report = run_dir / "report.html"
    report.write_text(render_html(run, table_md, figures), encoding="utf-8")
    return report
