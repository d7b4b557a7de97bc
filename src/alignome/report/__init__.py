"""Building blocks of run reports: summary table, figures and one self-contained HTML page per run.

Each recipe kind composes its own report from them (``alignome.recipes.<kind>.report``).

Exports are imported on first use, so ``alignome.report.html`` (the page builder that
``alignome gwas`` uses) does not pull in matplotlib, scikit-learn or scipy.stats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alignome._lazy import lazy_exports

_EXPORTS = {"summarise": "summary", "summary_markdown": "summary"}
__all__ = ["summarise", "summary_markdown"]

if TYPE_CHECKING:  # pragma: no cover
    from alignome.report.summary import summarise, summary_markdown

__getattr__ = lazy_exports(__name__, _EXPORTS)
