"""The spirometry cohort against its truth: prevalence, obstruction in the curves, a panel from
the external studies that lands on the causal loci, the PRS as a dot product, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from alignome.simulate.spirometry import SpirometryDials, simulate_spirometry_cohort

STRONG = SpirometryDials(n_subjects=400, n_external=(1000, 1000), n_causal=6, h_trait=0.9, trait_to_disease=0.8,
                         prevalence=0.3, n_snps=1200, image_size=32)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return simulate_spirometry_cohort(tmp_path_factory.mktemp("spirometry"), seed=11, dials=STRONG)


def test_prevalence_is_as_set(cohort):
    assert abs(cohort.disease.mean() - STRONG.prevalence) < 4 * np.sqrt(0.3 * 0.7 / cohort.n)


def test_obstruction_lowers_fev1_fvc_and_cases_have_lower_fev1_fvc(cohort):
    assert np.corrcoef(cohort.trait, cohort.fev1_fvc)[0, 1] < -0.5
    assert cohort.fev1_fvc[cohort.disease].mean() < cohort.fev1_fvc[~cohort.disease].mean() - 0.02
    assert 0.7 < np.median(cohort.fev1_fvc[~cohort.disease]) < 0.9  # the usual healthy adult range


def test_the_panel_lands_on_causal_loci(cohort):
    on = cohort.panel_loci()
    causal_loci = set(cohort.loci.loc[cohort.loci["causal"], "locus"])
    assert len(cohort.panel) >= 3
    assert on.isin(causal_loci).mean() >= 0.8  # few false positives on the null segments
    assert len(set(on) & set(cohort.causal["locus"])) >= len(set(cohort.causal["locus"])) / 2
    assert (cohort.panel["p"] < STRONG.panel_p).all() and cohort.panel["beta"].notna().all()


def test_panel_dosage_is_the_bed_and_the_prs_is_its_weighted_sum(cohort):
    from bed_reader import open_bed

    with open_bed(f"{cohort.bfile}.bed", count_A1=True) as bed:
        columns = [list(bed.sid).index(v) for v in cohort.panel["variant"]]
        a1 = np.asarray(bed.allele_1)[columns]
        counts = bed.read(index=np.s_[:, columns], dtype="int8")
    expected = np.where(cohort.panel["effect_allele"].to_numpy() == a1, counts, 2 - counts)
    np.testing.assert_array_equal(cohort.panel_dosage, expected)
    np.testing.assert_allclose(cohort.prs, cohort.panel_dosage @ cohort.panel["beta"].to_numpy(), atol=1e-4)


def test_images_show_the_curves_and_the_same_seed_gives_the_same_cohort(cohort, tmp_path):
    assert cohort.images.shape == (cohort.n, 32, 32) and cohort.images.dtype == np.uint8
    assert (cohort.images.reshape(cohort.n, -1).max(axis=1) == 255).all()
    small = SpirometryDials(**{**STRONG.__dict__, "n_subjects": 50, "n_external": (300, 300)})
    a = simulate_spirometry_cohort(tmp_path / "a", seed=3, dials=small)
    b = simulate_spirometry_cohort(tmp_path / "b", seed=3, dials=small)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.disease, b.disease)
    assert a.panel["variant"].tolist() == b.panel["variant"].tolist()


def test_no_cohort_subject_is_in_an_external_study(cohort):
    from bed_reader import open_bed

    def rows(prefix):
        with open_bed(f"{prefix}.bed", count_A1=True) as bed:
            return {row.tobytes() for row in bed.read(dtype="int8")}

    cohort_rows = rows(cohort.bfile)
    assert len(cohort_rows) == cohort.n  # 1,200 SNPs tell every individual apart
    for k in range(1, len(STRONG.n_external) + 1):
        external = rows(cohort.bfile.parent / f"external{k}")
        assert len(external) == STRONG.n_external[k - 1] and not external & cohort_rows
