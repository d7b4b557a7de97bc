"""Streamed polygenic scores (byte look-up, blocks of variants) equal plink1.9 ``--score`` and the in-memory definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.genetics.score import polygenic_score, read_score_file
from plink_tools import require_plink19, run_plink
from test_clump_fast import family_data  # noqa: F401  (fixture: 501 samples, 40 non-founders, 2% missing)


@pytest.mark.parametrize("modifiers", [[], ["sum"], ["no-mean-imputation"]])
def test_streamed_score_with_non_founders_equals_plink19(family_data, tmp_path, modifiers):
    exe = require_plink19()
    run_plink(exe, ["--bfile", str(family_data["prefix"]), "--score", str(family_data["weights"]), *modifiers,
                    "--out", "plink"], tmp_path)
    expected = pd.read_csv(tmp_path / "plink.profile", sep=r"\s+", dtype={"FID": str, "IID": str})
    ours, _ = polygenic_score(family_data["prefix"], read_score_file(family_data["weights"]), sum_="sum" in modifiers,
                              mean_imputation="no-mean-imputation" not in modifiers)
    np.testing.assert_array_equal(ours["CNT"].to_numpy(), expected["CNT"].to_numpy())
    np.testing.assert_array_equal(ours["CNT2"].to_numpy(), expected["CNT2"].to_numpy())
    name = expected.columns[-1]
    np.testing.assert_allclose(ours[name].to_numpy(), expected[name].to_numpy(), rtol=1e-5,
                               atol=1e-6 * np.abs(expected[name]).max())


def test_streamed_score_equals_in_memory_definition(family_data):
    """score_bed (blocks, byte lookup) equals score_dosages on the decoded matrix."""
    from alignome.cohort.genotypes import open_plink
    from alignome.genetics.ld import founder_mask, read_fileset
    from alignome.genetics.score import resolve_weights, score_bed, score_dosages

    bed, fam, variants = read_fileset(family_data["prefix"])
    weights = resolve_weights(read_score_file(family_data["weights"]), variants)
    positions = variants.index.get_indexer(pd.Index(weights.variants))
    counts = open_plink(family_data["prefix"]).reader(positions.astype(np.intp)).astype(np.float64)
    founders = founder_mask(fam)
    assert not founders.all()
    for sum_, mean in ((False, True), (True, True), (False, False)):
        a = score_bed(bed, len(fam), positions, weights.flip, weights.weights, founders, sum_=sum_,
                      mean_imputation=mean, block=50)
        b = score_dosages(counts, weights.flip, weights.weights, founders, sum_=sum_, mean_imputation=mean)
        pd.testing.assert_frame_equal(a[["CNT", "CNT2"]], b[["CNT", "CNT2"]])
        np.testing.assert_allclose(a.iloc[:, 2].to_numpy(), b.iloc[:, 2].to_numpy(), rtol=1e-12, atol=1e-12)
