"""Genome-wide association on (learned) phenotypes: single- and multi-trait.

* :func:`multitrait_assoc` — paper 003's joint D-trait test (LRT / full ML / Wilks F).
* :func:`linear_assoc` — per-trait OLS t-test equal to ``plink2 --glm``.
* :func:`run_gwas` — stream a PLINK ``.bed`` in variant blocks; the whole result table.
* :func:`scan_gwas` — the same scan for any size: results written block by block, P kept.
* :func:`embedding_phenotypes` — embeddings → top-D PCs → inverse-normal transform.
* :func:`genetic_pcs` — streamed randomised PCA of the genotypes (covariates).
* :func:`report_gwas` — λGC, Manhattan/QQ plots (:mod:`~alignome.gwas.plots`), clumped loci and
  recovery of known loci (:mod:`~alignome.gwas.loci`), on one page.
* :func:`read_trait_table` — phenotype/covariate files keyed by IID, without pandas.
* :mod:`alignome.gwas.blocks` — local or Dask (``--scheduler``) execution of variant blocks.

Names are imported on first use, so a command pays only for the modules it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alignome._lazy import lazy_exports

_EXPORTS = {
    "MultiTraitResult": "multitrait", "multitrait_assoc": "multitrait", "GeneticPCs": "pca", "genetic_pcs": "pca",
    "Recovery": "loci", "independent_loci": "loci", "read_known_loci": "loci", "recovery": "loci",
    "lambda_gc": "significance", "report_gwas": "report", "manhattan_plot": "plots", "qq_plot": "plots",
    "SingleTraitResult": "singletrait", "linear_assoc": "singletrait", "run_gwas": "run", "scan_gwas": "run",
    "GwasScan": "run", "embedding_phenotypes": "phenotypes", "TraitTable": "traits", "read_trait_table": "traits",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from alignome.gwas.multitrait import MultiTraitResult, multitrait_assoc
    from alignome.gwas.pca import GeneticPCs, genetic_pcs
    from alignome.gwas.loci import Recovery, independent_loci, read_known_loci, recovery
    from alignome.gwas.phenotypes import embedding_phenotypes
    from alignome.gwas.plots import manhattan_plot, qq_plot
    from alignome.gwas.report import report_gwas
    from alignome.gwas.significance import lambda_gc
    from alignome.gwas.run import GwasScan, run_gwas, scan_gwas
    from alignome.gwas.traits import TraitTable, read_trait_table
    from alignome.gwas.singletrait import SingleTraitResult, linear_assoc

__getattr__ = lazy_exports(__name__, _EXPORTS)
