"""The ``longitudinal-mri`` recipe (paper 004, ClinImCL): its schema, run and report.

The building blocks live where every recipe can reuse them (``cohort.image_cohort``,
``imaging``, ``models.cnn3d``, ``training``, ``evaluation.longitudinal``,
``analysis.trajectories``); this package only wires them into one run.
"""

#: Name of the contrastive encoder of paper 004 in results tables.
CONTRASTIVE = "clinimcl"
#: Name of the probes on a simulated cohort's true volumes (the ceiling) in results tables.
ORACLE = "oracle"
