"""Genome-wide association on (learned) phenotypes: single- and multi-trait.

* :func:`multitrait_assoc` — paper 003's joint D-trait test (LRT / full ML / Wilks F).
* :func:`linear_assoc` — per-trait OLS t-test equal to ``plink2 --glm``.
* :func:`run_gwas` — stream a PLINK ``.bed`` in variant blocks and write results.
* :func:`embedding_phenotypes` — embeddings → top-D PCs → inverse-normal transform.
"""

from alignome.gwas.multitrait import MultiTraitResult, multitrait_assoc
from alignome.gwas.singletrait import SingleTraitResult, linear_assoc

__all__ = ["MultiTraitResult", "SingleTraitResult", "linear_assoc", "multitrait_assoc"]
