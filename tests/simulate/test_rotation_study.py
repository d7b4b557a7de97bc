"""The rotation cohort against its own truth: h_g, the angle map, null variants, PLINK files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from alignome.errors import ConfigError
from alignome.imaging.glyph_set import GlyphSet
from alignome.simulate.rotation_study import simulate_rotation_cohort, tanh_scale, write_plink


def blank_glyphs(n: int) -> GlyphSet:
    images = np.zeros((n, 16, 16), dtype=np.uint8)
    images[:, 3:13, 7:9] = 255  # a vertical bar: its tilt is the angle
    return GlyphSet(images=images, labels=np.zeros(n, dtype=np.int64), classes=["|"])


@pytest.mark.parametrize("h_g", [0.1, 0.5, 0.9])
def test_the_genotypes_explain_h_g_of_z(h_g):
    n, r2 = 2000, []
    for seed in range(4):
        cohort = simulate_rotation_cohort(blank_glyphs(n), 50, h_g, 45.0, seed, n_null_variants=10)
        score = cohort.genotypes.astype(float) @ cohort.beta  # recomputed from the truth, not read back
        r2.append(np.corrcoef(cohort.z, score)[0, 1] ** 2)
    # var of R² around h_g is about 4 h (1 − h)² / n for one draw
    assert abs(np.mean(r2) - h_g) < 3 * np.sqrt(4 * h_g * (1 - h_g) ** 2 / n / 4) + 1e-3


def test_the_angle_is_a_monotone_unsaturated_map_of_z():
    cohort = simulate_rotation_cohort(blank_glyphs(4000), 30, 0.5, 60.0, seed=1, n_null_variants=0)
    assert np.all(np.abs(cohort.alpha_deg) < 60.0)
    assert stats.spearmanr(cohort.z, cohort.alpha_deg)[0] == pytest.approx(1.0)
    share_beyond = np.mean(np.abs(cohort.alpha_deg) > np.tanh(1.0) * 60.0)
    assert 0.003 < share_beyond < 0.02  # about 1 % by the choice of c
    assert cohort.c == pytest.approx(1 / 2.5758, rel=1e-3) == tanh_scale(0.99)


def test_each_image_is_its_glyph_turned_by_its_angle():
    cohort = simulate_rotation_cohort(blank_glyphs(400), 30, 0.9, 80.0, seed=2, n_null_variants=0)
    rows, cols = np.nonzero(np.ones((16, 16)))
    tilt = []
    for image in cohort.images:  # principal axis of the bar, counter-clockwise from vertical
        w = image[rows, cols]
        y, x = -(rows - (rows * w).sum() / w.sum()), cols - (cols * w).sum() / w.sum()
        cov = np.cov(np.stack([x, y]), aweights=w)
        vals, vecs = np.linalg.eigh(cov)
        vx, vy = vecs[:, 1] * np.sign(vecs[1, 1])
        tilt.append(np.degrees(np.arctan2(-vx, vy)))
    assert np.corrcoef(tilt, cohort.alpha_deg)[0, 1] > 0.99
    assert np.median(np.abs(np.array(tilt) - cohort.alpha_deg)) < 3.0


def test_null_variants_have_no_effect_and_uniform_association_with_z():
    cohort = simulate_rotation_cohort(blank_glyphs(1500), 20, 0.8, 45.0, seed=3, n_null_variants=600)
    assert cohort.causal.sum() == 20 and np.all(cohort.beta[~cohort.causal] == 0)
    g = cohort.genotypes[:, ~cohort.causal].astype(float)
    r = (stats.zscore(g) * stats.zscore(cohort.z)[:, None]).mean(axis=0)
    chi2 = r ** 2 * cohort.n
    lambda_gc = np.median(chi2) / stats.chi2.ppf(0.5, 1)
    assert 0.8 < lambda_gc < 1.25


def test_same_seed_same_cohort():
    a = simulate_rotation_cohort(blank_glyphs(50), 5, 0.5, 30.0, seed=7, n_null_variants=5)
    b = simulate_rotation_cohort(blank_glyphs(50), 5, 0.5, 30.0, seed=7, n_null_variants=5)
    for name in ("genotypes", "beta", "z", "alpha_deg", "images"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_plink_files_hold_the_genotypes(tmp_path):
    from bed_reader import open_bed

    cohort = simulate_rotation_cohort(blank_glyphs(30), 5, 0.5, 30.0, seed=0, n_null_variants=40)
    rows = np.arange(10, 30)
    prefix = write_plink(cohort, tmp_path / "test_half", rows=rows)
    with open_bed(f"{prefix}.bed", count_A1=True) as bed:
        np.testing.assert_array_equal(bed.read(dtype="int8"), cohort.genotypes[rows])
        assert list(bed.iid) == list(cohort.subject_ids[rows])
        assert list(bed.sid) == list(cohort.variant_ids)


def test_dials_outside_their_range_are_refused():
    with pytest.raises(ConfigError, match="h_g"):
        simulate_rotation_cohort(blank_glyphs(5), 5, 1.5, 30.0, seed=0)


def test_alignome_gwas_reads_the_files_and_finds_the_causal_variants(tmp_path):
    import pandas as pd

    from alignome.gwas.run import run_gwas

    cohort = simulate_rotation_cohort(blank_glyphs(3000), 3, 0.9, 30.0, seed=4, n_null_variants=200)
    prefix = write_plink(cohort, tmp_path / "cohort")
    pheno = pd.DataFrame({"z": cohort.z}, index=pd.Index(cohort.subject_ids, name="IID"))
    table = run_gwas(prefix, pheno, mode="single").set_index("ID").loc[cohort.variant_ids]
    assert np.all(table["P"].to_numpy()[cohort.causal] < 5e-8)
    assert np.mean(table["P"].to_numpy()[~cohort.causal] < 0.05) < 0.1
