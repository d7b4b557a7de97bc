"""Clumping equals PLINK 1.9 ``--clump`` byte for byte; EM r² equals ``--r2 dprime``."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignome.genetics.clump import clump, format_clumped, read_clump_sumstats, write_clumped
from alignome.genetics.ld import r2_em, r2_pearson
from tests.helpers.plink_tools import require_plink19, run_plink


def make_dataset(directory: Path, seed: int = 7, missing: float = 0.02) -> dict:
    """msprime genotypes (500 × ~2,000 SNPs on 2 chromosomes, some missing) and GWAS p-values."""
    from scipy import stats

    from alignome.simulate.genotypes import simulate_genotypes, write_plink

    geno = simulate_genotypes(500, seed, n_snps=2000, segments=((1, 1_000_000), (2, 5_000_000)),
                              segment_length_bp=3_000_000)
    rng = np.random.default_rng(seed)
    dosage = geno.dosage.astype(np.float64)
    dosage[rng.random(dosage.shape) < missing] = np.nan
    n, m = dosage.shape
    prefix = directory / "ref"
    write_plink(prefix, replace(geno, dosage=dosage), [f"s{i}" for i in range(n)], np.ones(n, dtype=int))
    filled = np.where(np.isnan(dosage), np.nanmean(dosage, axis=0), dosage)
    causal = rng.choice(m, 10, replace=False)
    y = (filled[:, causal] - filled[:, causal].mean(0)) @ rng.normal(0, 0.5, 10) + rng.normal(size=n)
    p = np.array([stats.pearsonr(filled[:, j], y)[1] for j in range(m)])
    sumstats = directory / "gwas.assoc"
    frame = pd.DataFrame({"SNP": list(geno.variant_id) + ["rsNOTINBIM"], "P": list(p) + [1e-9]})
    frame.to_csv(sumstats, sep=" ", index=False)
    return {"prefix": prefix, "sumstats": sumstats, "dosage": dosage, "ids": list(geno.variant_id)}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("clump"))


PARAMS = [
    (1e-5, 1e-2, 0.05, 5000),  # paper 003: p < 1e-5, r² < 0.05, 5 Mb
    (1e-4, 1e-2, 0.5, 250),  # PLINK defaults
    (1e-3, 0.2, 0.3, 250),
    (0.01, 0.05, 0.1, 100),
    (0.05, 0.5, 0.8, 1000),
    (1.0, 1.0, 0.2, 50),
]


@pytest.mark.parametrize("p1,p2,r2,kb", PARAMS)
def test_clumped_file_identical_to_plink19(data, tmp_path, p1, p2, r2, kb, bed_backend):
    exe = require_plink19()
    start = time.perf_counter()
    run_plink(exe, ["--bfile", str(data["prefix"]), "--clump", str(data["sumstats"]), "--clump-p1", str(p1),
                    "--clump-p2", str(p2), "--clump-r2", str(r2), "--clump-kb", str(kb), "--out", "plink"], tmp_path)
    plink_s = time.perf_counter() - start
    start = time.perf_counter()
    result = clump(data["prefix"], read_clump_sumstats(data["sumstats"]), p1=p1, p2=p2, r2=r2, kb=kb)
    ours_s = time.perf_counter() - start
    expected = (tmp_path / "plink.clumped").read_text()
    ours = write_clumped(result, tmp_path / "ours").read_text()
    print(f"p1={p1} p2={p2} r2={r2} kb={kb}: {len(result.clumps)} clumps; alignome {ours_s:.3f}s, plink1.9 {plink_s:.3f}s")
    assert ours == expected  # same index variants, same members (SP2), same counts, same bytes
    assert result.missing == [("rsNOTINBIM", 1e-9)]


def test_em_r2_matches_plink_r2_dprime(data, tmp_path):
    exe = require_plink19()
    run_plink(exe, ["--bfile", str(data["prefix"]), "--r2", "dprime", "--ld-window", "10", "--ld-window-kb", "1000",
                    "--ld-window-r2", "0", "--out", "ld"], tmp_path)
    ld = pd.read_csv(tmp_path / "ld.ld", sep=r"\s+")
    where = {v: i for i, v in enumerate(data["ids"])}
    a = ld["SNP_A"].map(where).to_numpy()
    b = ld["SNP_B"].map(where).to_numpy()
    ours = np.empty(len(ld))
    for i in np.unique(a):
        sel = a == i
        ours[sel] = r2_em(data["dosage"][:, i], data["dosage"][:, b[sel]])
    # PLINK prints 6 significant digits
    np.testing.assert_allclose(ours, ld["R2"].to_numpy(), rtol=1e-5, atol=1e-6)


def test_em_r2_differs_from_pearson_r2(data):
    """The genotype-count correlation is not PLINK's r²; on real LD the gap is large enough to change clumps."""
    x = data["dosage"]
    gaps = []
    for i in range(0, 200, 10):
        cand = x[:, i + 1:i + 30]
        gaps.append(np.nanmax(np.abs(r2_em(x[:, i], cand) - r2_pearson(x[:, i], cand))))
    assert max(gaps) > 0.02


def test_em_r2_hand_example():
    # all double heterozygotes in one sample: phase ambiguity resolved by the cubic
    index = np.array([0, 0, 1, 1, 2, 2, 1, 0, 2, 1.0])
    cand = np.array([0, 1, 1, 2, 2, 2, 1, 0, 1, 0.0])
    em = r2_em(index, cand[:, None])[0]
    pearson = r2_pearson(index, cand[:, None])[0]
    assert 0 < em <= 1 and abs(em - pearson) > 1e-3
    assert r2_em(index, index[:, None])[0] == pytest.approx(1.0)
    # a missing call drops the pair (pairwise complete)
    with_missing = cand.copy()
    with_missing[0] = np.nan
    assert r2_em(index, with_missing[:, None])[0] == pytest.approx(r2_em(index[1:], cand[1:, None])[0])
    # monomorphic candidate: undefined, never clumped
    assert np.isnan(r2_em(index, np.zeros((10, 1)))[0])


def test_clump_rejects_bad_parameters(data):
    from alignome.errors import ConfigError

    with pytest.raises(ConfigError, match="r2"):
        clump(data["prefix"], read_clump_sumstats(data["sumstats"]), r2=1.5)


def test_format_without_clumps(data):
    result = clump(data["prefix"], read_clump_sumstats(data["sumstats"]), p1=1e-300)
    assert result.clumps == []
    assert format_clumped(result).startswith(" CHR    F ")
