"""alignome: contrastive alignment of genotypes and brain phenotypes.

Align genotypes with phenotypes by contrastive learning, evaluate the learned
representations against strong baselines, and use them for genetic discovery.
"""

__version__ = "0.1.0"
