"""A small rotation cohort shared by the gemcont tests (rendering glyphs costs a few seconds)."""

from __future__ import annotations

import pytest

from alignome.simulate.glyphs import render_glyphs
from alignome.simulate.rotation_study import simulate_rotation_cohort


@pytest.fixture(scope="session")
def small_cohort():
    """2000 glyphs turned by ±45° of a trait with h_g 0.8 from 6 causal variants, 300 unlinked null variants."""
    return simulate_rotation_cohort(render_glyphs(2000, 11), n_variants=6, h_g=0.8, alpha_max_deg=45.0, seed=11,
                                    n_null_variants=300)
