"""Run reports: summary table, figures and one self-contained HTML page per run."""

from __future__ import annotations

from alignome.report.build import build_report
from alignome.report.summary import summarise, summary_markdown

__all__ = ["build_report", "summarise", "summary_markdown"]
