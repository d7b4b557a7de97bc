"""Simulated cohorts with known ground truth, written to disk like real data."""

from alignome.simulate.ad_cohort import simulate_ad_cohort

__all__ = ["simulate_ad_cohort"]
