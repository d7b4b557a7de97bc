"""Shared pieces of the QC tests against plink1.9: reading its reports and checking a run's removals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def read_report(path: Path) -> pd.DataFrame:
    """A plink1.9 report (.frq, .lmiss, .imiss, .hwe): whitespace-separated, ids and alleles as text."""
    return pd.read_csv(path, sep=r"\s+", dtype={"SNP": str, "A1": str, "A2": str, "IID": str, "FID": str})


def close_to_print(ours, printed) -> None:
    """``ours`` equals what plink printed with 4 significant digits (NaN where it printed nan/NA)."""
    np.testing.assert_allclose(np.asarray(ours, dtype=float), pd.to_numeric(pd.Series(printed), errors="coerce"),
                               rtol=5.01e-4, atol=0, equal_nan=True)


def filter_args(data: Path, params: dict) -> tuple[list[str], dict, bool]:
    """plink1.9 arguments of a QC filter set (``midp`` as a modifier of ``--hwe``): (args, params, midp)."""
    params = dict(params)
    midp = params.pop("midp", False)
    args = ["--bfile", str(data)]
    for key, value in params.items():
        args += [f"--{key}", str(value)] + (["midp"] if key == "hwe" and midp else [])
    return args, params, midp


def assert_removals_match(result, params: dict, directory: Path, log: str) -> list[str]:
    """``run_qc``'s removed samples equal plink's ``p.irem`` and its per-filter counts the ones in plink's log.

    Returns the words of ``p.irem`` (FID IID pairs; empty when plink removed no sample)."""
    irem = directory / "p.irem"
    removed = irem.read_text().split() if irem.exists() else []
    assert removed[1::2] == list(result.removed_samples["iid"])
    if "mind" in params:
        assert f"{result.counts['mind']} people removed due to missing genotype data (--mind)" in log
    if "geno" in params:
        assert f"{result.counts['geno']} variants removed due to missing genotype data (--geno)" in log
    if "hwe" in params:
        assert f"--hwe: {result.counts['hwe']} variants removed" in log
    if "maf" in params:
        assert f"{result.counts['maf']} variants removed due to minor allele threshold" in log
    return removed


def hwe_triples(rng: np.random.Generator, fixed: list[tuple[int, int, int]], n_random: int) -> list[tuple]:
    """``fixed`` (het, hom1, hom2) triples, then triples drawn near Hardy–Weinberg at 5,000, 300, 20 and 3
    samples, then ``n_random`` arbitrary ones (counts below 2,000)."""
    triples = list(fixed)
    for n, k in ((5000, 300), (300, 200), (20, 100), (3, 30)):
        p = rng.uniform(0.001, 0.5, k)
        hom = rng.binomial(n, p**2)
        het = rng.binomial(n - hom, 2 * p * (1 - p) / (1 - p**2))
        triples += list(zip(het, hom, n - hom - het))
    triples += [tuple(t) for t in rng.integers(0, 2000, (n_random, 3))]
    return triples
