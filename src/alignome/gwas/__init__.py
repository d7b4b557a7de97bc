"""Genome-wide association on (learned) phenotypes: single- and multi-trait.

* :func:`multitrait_assoc` — paper 003's joint D-trait test (LRT / full ML / Wilks F).
* :func:`linear_assoc` — per-trait OLS t-test equal to ``plink2 --glm``.
* :func:`run_gwas` — stream a PLINK ``.bed`` in variant blocks and write results.
* :func:`embedding_phenotypes` — embeddings → top-D PCs → inverse-normal transform.
* :func:`genetic_pcs` — streamed randomised PCA of the genotypes (covariates).
* :func:`report_gwas` — λGC, Manhattan/QQ plots, clumped loci, recovery of known loci.
* :mod:`alignome.gwas.blocks` — local or Dask (``--scheduler``) execution of variant blocks.
"""

from alignome.gwas.multitrait import MultiTraitResult, multitrait_assoc
from alignome.gwas.pca import GeneticPCs, genetic_pcs
from alignome.gwas.report import Recovery, independent_loci, lambda_gc, recovery, report_gwas
from alignome.gwas.singletrait import SingleTraitResult, linear_assoc

__all__ = ["GeneticPCs", "MultiTraitResult", "Recovery", "SingleTraitResult", "genetic_pcs", "independent_loci",
           "lambda_gc", "linear_assoc", "multitrait_assoc", "recovery", "report_gwas"]
