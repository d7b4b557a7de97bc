"""The ``longitudinal-mri`` recipe (paper 004, ClinImCL): longitudinal 3D MRI InfoNCE.

The building blocks live where every recipe can reuse them (``cohort.image_cohort``,
``imaging``, ``models.cnn3d``, ``training.contrastive3d``, ``evaluation.visit_metrics``,
``analysis.trajectories``); this package only wires them into one run: ``schema``, ``run``,
``train``, ``evaluate``, ``report``, and ``kind`` for the registry.
"""
