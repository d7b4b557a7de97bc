"""Recipes: one YAML file runs one published method end to end.

``loading`` reads a recipe (YAML, presets, paths), ``run_dir`` opens and finishes a run
directory, ``kind`` says what a recipe kind provides and ``registry`` finds kinds by name;
``runner`` runs a recipe and rebuilds reports. Each kind is a subpackage of its own
(``ad_gated_fusion``, ``longitudinal_mri``) holding its schema, run, evaluation wiring and
report, whose ``kind`` module defines ``KIND``. Nothing outside a kind's package names the kind, except
the one line of ``registry.KINDS`` that makes it known.
"""
