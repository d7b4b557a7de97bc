"""The ``ad-gated-fusion`` recipe (paper 000): SNPs + regional volumes, age-conditioned contrastive
pretraining, gated fusion, diagnosis and MMSE heads, in subject-wise nested cross-validation.

``schema`` is the recipe's YAML schema, ``methods`` the compared methods, ``evaluation`` the
nested CV wiring of the shared blocks, ``run`` the run and ``report`` the report; ``kind`` makes
it known to the registry.
"""
