"""Nested cross-validation, probes, metrics and baselines."""
