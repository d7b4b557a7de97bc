"""QC on X, Y, XY (PAR) and MT equals PLINK 1.9: --missing, --freq, --hardy, and what
--mind/--geno/--hwe/--maf --make-bed keep, with males, females and samples of unknown sex."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers.plink_tools import require_plink19, run_plink
from tests.helpers.qc_reference import (
    assert_removals_match,
    close_to_print,
    filter_args,
    hwe_triples,
    read_report,
)

from alignome.genetics.qc import run_qc
from alignome.genetics.qc_samples import read_fam
from alignome.genetics.qc_stats import sample_missingness, variant_stats
from alignome.io.chromosomes import variant_kinds

# Every test runs with the C kernels of alignome.genetics._bedscore and again with the NumPy paths.
pytestmark = pytest.mark.usefixtures("bed_backend")

# Chromosome blocks in PLINK's order (it refuses split chromosomes and reports in this
# order); X, Y, XY and MT written with both letter and number codes.
LAYOUT = (("1", 160), ("2", 80), ("X", 160), ("24", 50), ("25", 50), ("MT", 50))
N_MALE, N_FEMALE, N_UNKNOWN = 110, 120, 30
MIND = 0.1


def make_sexchrom_dataset(directory: Path, seed: int = 7) -> Path:
    """Random genotypes of 260 samples (110 male, 120 female, 30 unknown sex) on
    chr1, X, Y, XY, MT and chr2, with what PLINK's sex-chromosome rules act on:
    male heterozygous calls on X and Y, non-missing female calls on Y (and mostly
    missing ones), heterozygous MT calls, HWE departures among females on X,
    rare variants, graded missingness, a case/control phenotype, non-founders,
    and --mind/--geno boundaries that only the per-sex denominators get right."""
    from bed_reader import to_bed

    rng = np.random.default_rng(seed)
    sex = rng.permutation(np.repeat([1, 2, 0], [N_MALE, N_FEMALE, N_UNKNOWN]))
    n = sex.size
    male, female = sex == 1, sex == 2
    chroms = np.concatenate([[c] * k for c, k in LAYOUT])
    kind = variant_kinds(chroms)
    m = chroms.size
    p = np.where(rng.random(m) < 0.2, rng.uniform(0.002, 0.03, m), rng.uniform(0.05, 0.5, m))
    dip = rng.binomial(2, p[None, :], size=(n, m)).astype(np.float64)
    hap = 2.0 * rng.binomial(1, p[None, :], size=(n, m))
    # Unknown-sex samples: half of them carry one X (PLINK still counts them as non-males).
    one_x = male | ((sex == 0) & (rng.random(n) < 0.5))
    g = dip.copy()
    x, y, mt = kind == "X", kind == "Y", kind == "MT"
    g[np.ix_(one_x, x)] = hap[np.ix_(one_x, x)]
    g[np.ix_(male, y)] = hap[np.ix_(male, y)]
    g[:, mt] = hap[:, mt]
    # Heterozygous haploid calls (males on X and Y) and heterozygous MT calls.
    for cols, rows, rate in ((x, male, 0.02), (y, male, 0.03), (mt, np.ones(n, bool), 0.02)):
        hit = (rng.random((n, m)) < rate) & rows[:, None] & cols[None, :]
        g[hit] = 1.0
    # X variants with many male hets: --geno does not count them as missing.
    for j in np.flatnonzero(x)[:3]:
        g[np.flatnonzero(male)[:30], j] = 1.0
    # HWE departures: excess heterozygotes among females on X, and on chr1.
    for j in np.concatenate([rng.choice(np.flatnonzero(x), 12, replace=False),
                             rng.choice(np.flatnonzero(chroms == "1"), 8, replace=False)]):
        rows = rng.choice(np.flatnonzero(female), rng.integers(10, 60), replace=False)
        g[rows, j] = 1.0
    # Missingness: graded per variant, higher for a few samples of each sex.
    var_rate = rng.choice([0.0, 0.01, 0.03, 0.08, 0.12, 0.25], size=m, p=[0.3, 0.3, 0.15, 0.1, 0.1, 0.05])
    samp_rate = np.where(rng.random(n) < 0.08, rng.uniform(0.05, 0.25, n), 0.0)
    g[rng.random((n, m)) < np.clip(var_rate[None, :] + samp_rate[:, None], 0, 1)] = np.nan
    # Non-males on Y: mostly missing, some calls present; PLINK ignores both.
    nonmale_y = np.ix_(~male, y)
    g[nonmale_y] = np.where(rng.random((int((~male).sum()), int(y.sum()))) < 0.8, np.nan, g[nonmale_y])
    # --mind MIND boundaries: a female just over her limit counted without Y (kept if Y
    # counted), a male exactly at his limit counted with Y (removed without Y).
    not_y = np.flatnonzero(~y)
    boundary = {}
    for who, count, limit_of in ((np.flatnonzero(female)[0], +1, (~y).sum()),
                                 (np.flatnonzero(male)[0], 0, m)):
        k = int(MIND * limit_of * (1 + 2.0**-44)) + count
        row = g[who]  # a view: edits g
        row[np.isnan(row)] = 0.0
        row[rng.choice(not_y, k, replace=False)] = np.nan
        if sex[who] == 2:
            row[y] = np.nan  # ignored anyway
        boundary[who] = k
    # --geno 0.1 boundary on Y: males only (n_male = 110 -> limit 11).
    yj = np.flatnonzero(y)[:2]
    for j, k in zip(yj, (11, 12)):
        col = g[:, j]
        col[male] = np.where(np.isnan(col[male]), 0.0, col[male])
        col[np.flatnonzero(male)[1:k + 1]] = np.nan  # not the --mind boundary male
    prefix = directory / "sexchrom"
    pheno = np.where(rng.random(n) < 0.4, "2", "1").astype(object)
    pheno[rng.random(n) < 0.03] = "-9"
    father = np.array(["0"] * n, dtype=object)
    mother = np.array(["0"] * n, dtype=object)
    iids = np.array([f"s{i}" for i in range(n)], dtype=object)
    for child in (5, 6, 7, 8):
        father[child], mother[child] = iids[child + 20], iids[child + 40]
    to_bed(f"{prefix}.bed", g, properties={
        "fid": iids, "iid": iids, "father": father, "mother": mother, "sex": sex, "pheno": pheno,
        "chromosome": chroms, "sid": np.array([f"v{j}_{c}" for j, c in enumerate(chroms)]),
        "bp_position": np.arange(1, m + 1) * 1000, "allele_1": ["A"] * m, "allele_2": ["G"] * m,
    })
    return prefix


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_sexchrom_dataset(tmp_path_factory.mktemp("sexchrom"))


@pytest.fixture(scope="module")
def plink_reports(data, tmp_path_factory):
    exe = require_plink19()
    out = tmp_path_factory.mktemp("reports")
    proc = run_plink(exe, ["--bfile", str(data), "--missing", "--freq", "--hardy", "--out", "p"], out)
    return out, proc.stdout + proc.stderr


def test_missing_freq_hardy_equal_plink19(data, plink_reports):
    out, log = plink_reports
    assert "het. haploid genotypes present" in log and "Nonmissing nonmale Y chromosome" in log
    assert "Ignoring phenotypes of missing-sex samples" in log
    ours = variant_stats(data)
    frq, lmiss, hwe = read_report(out / "p.frq"), read_report(out / "p.lmiss"), read_report(out / "p.hwe")
    assert list(frq["SNP"]) == list(ours["variant"]) == list(lmiss["SNP"])
    np.testing.assert_array_equal(lmiss["N_MISS"], ours["n_miss"])
    np.testing.assert_array_equal(lmiss["N_GENO"], ours["n_geno"])
    close_to_print(ours["f_miss"], lmiss["F_MISS"])
    np.testing.assert_array_equal(frq["NCHROBS"], ours["nchrobs"])
    close_to_print(ours["maf"], frq["MAF"])
    informative = (ours["maf"] < 0.5).to_numpy()
    assert (frq["A1"][informative] == ours["a1"][informative]).all()
    everyone = hwe[hwe["TEST"] == "ALL"].reset_index(drop=True)
    assert list(everyone["GENO"]) == [f"{a}/{b}/{c}" for a, b, c in zip(ours["hom1"], ours["het"], ours["hom2"])]
    close_to_print(ours["o_het"], everyone["O(HET)"])
    close_to_print(ours["e_het"], everyone["E(HET)"])
    close_to_print(ours["p_hwe"], everyone["P"])
    # The --hwe filter's sample set is the UNAFF row (founder controls; females on X);
    # PLINK does not apply it to Y and MT, where ours is NaN.
    unaff = hwe[hwe["TEST"] == "UNAFF"].reset_index(drop=True)
    tested = ours["p_hwe_filter"].notna().to_numpy()
    kinds = variant_kinds(ours["chrom"])
    assert set(kinds[~tested]) == {"Y", "MT"}
    close_to_print(ours["p_hwe_filter"][tested], unaff["P"][tested])
    imiss = read_report(out / "p.imiss")
    samples = sample_missingness(data)
    assert list(imiss["IID"]) == list(samples["iid"])
    np.testing.assert_array_equal(imiss["N_MISS"], samples["n_miss"])
    np.testing.assert_array_equal(imiss["N_GENO"], samples["n_geno"])


def test_sex_chromosome_rules_change_the_statistics(data, plink_reports):
    """The data exercise every rule: autosomal formulas would disagree with PLINK."""
    out, _ = plink_reports
    frq, lmiss, hwe = read_report(out / "p.frq"), read_report(out / "p.lmiss"), read_report(out / "p.hwe")
    imiss = read_report(out / "p.imiss")
    fam = read_fam(data)
    kinds = variant_kinds(frq["CHR"].astype(str))
    x, y, mt = kinds == "X", kinds == "Y", kinds == "MT"
    assert {"X", "Y", "MT"} <= set(kinds) and (frq["CHR"].astype(str) == "25").sum() == 50
    from bed_reader import open_bed

    with open_bed(f"{data}.bed") as bed:
        g = bed.read(dtype="float64")
    founder = fam.founder
    # Autosomal frequency on X (every founder diploid) is not PLINK's.
    a1 = np.nansum(g[founder], axis=0)
    n_obs = 2 * (~np.isnan(g[founder])).sum(axis=0)
    naive = a1 / n_obs
    naive_maf = np.minimum(naive, 1 - naive)
    printed = pd.to_numeric(frq["MAF"], errors="coerce").to_numpy()
    assert (np.abs(naive_maf - printed)[x] > 2e-3).sum() > 50
    assert (frq["NCHROBS"].to_numpy() != n_obs)[x].all()
    np.testing.assert_allclose(naive_maf[~(x | y)], printed[~(x | y)], rtol=5.01e-4)
    # Y: only males are counted; non-males' Y calls (present and missing) are ignored.
    assert (lmiss["N_GENO"][y] == fam.male.sum()).all() and (lmiss["N_GENO"][~y] == len(fam.sex)).all()
    assert (np.isnan(g[np.ix_(~fam.male, y)]).sum(axis=0) > 0).all()
    assert (~np.isnan(g[np.ix_(~fam.male, y)])).any()
    n_y = int(y.sum())
    np.testing.assert_array_equal(imiss["N_GENO"], np.where(fam.male, len(kinds), len(kinds) - n_y))
    # Heterozygous haploid calls exist and are not missing in .lmiss.
    het_male_x = (g[np.ix_(fam.male, x)] == 1).sum()
    assert het_male_x > 100
    np.testing.assert_array_equal(lmiss["N_MISS"][x], np.isnan(g[:, x]).sum(axis=0))
    # MT: diploid counts, heterozygotes included, but no HWE test.
    everyone = hwe[hwe["TEST"] == "ALL"].reset_index(drop=True)
    assert (everyone["P"][mt].astype(float) == 1).all() and everyone["O(HET)"][mt].isna().all()
    assert (everyone["GENO"][y] == "0/0/0").all()
    assert (frq["NCHROBS"][mt] == 2 * (~np.isnan(g[np.ix_(founder, mt)])).sum(axis=0)).all()
    # Unknown-sex samples are not controls: counting them would change some UNAFF p.
    unaff = hwe[hwe["TEST"] == "UNAFF"].reset_index(drop=True)
    from alignome.genetics.hwe import hwe_exact

    pheno = pd.read_csv(f"{data}.fam", sep=r"\s+", header=None)[5].to_numpy()
    with_unknown = founder & (pheno == 1)
    auto = ~(x | y | mt)
    sub = g[np.ix_(with_unknown, auto)]
    p_with = hwe_exact((sub == 1).sum(axis=0), (sub == 2).sum(axis=0), (sub == 0).sum(axis=0))
    assert (np.abs(p_with - unaff["P"][auto].astype(float).to_numpy()) > 1e-3 * p_with).any()


FILTERS = [
    {"geno": 0.1},
    {"mind": MIND},
    {"maf": 0.01},
    {"maf": 0.05},
    {"hwe": 1e-4},
    {"hwe": 1e-2, "midp": True},
    {"geno": 0.05, "mind": MIND, "maf": 0.02, "hwe": 1e-4},
    {"geno": 0.1, "mind": 0.05, "maf": 0.01, "hwe": 1e-6},
    {"geno": 0.2, "mind": 0.2, "maf": 0.1, "hwe": 1e-3},
]


@pytest.mark.parametrize("params", FILTERS, ids=lambda p: "-".join(f"{k}{v}" for k, v in p.items()))
def test_filters_keep_what_plink19_make_bed_keeps(data, tmp_path, params):
    exe = require_plink19()
    args, params, midp = filter_args(data, params)
    proc = run_plink(exe, args + ["--make-bed", "--out", "p"], tmp_path)
    result = run_qc(data, hwe_midp=midp, **params)
    bim = pd.read_csv(tmp_path / "p.bim", sep=r"\s+", header=None, dtype=str)
    fam = pd.read_csv(tmp_path / "p.fam", sep=r"\s+", header=None, dtype=str)
    assert result.kept_variants == list(bim[1])
    assert list(result.kept_samples["iid"]) == list(fam[1])
    assert_removals_match(result, params, tmp_path, proc.stdout)


@pytest.mark.parametrize("allow_no_sex", [False, True])
@pytest.mark.parametrize("params", [{"hwe": 1e-4}, {"hwe": 1e-3},
                                    {"geno": 0.1, "mind": MIND, "maf": 0.02, "hwe": 1e-3}],
                         ids=lambda p: "-".join(f"{k}{v}" for k, v in p.items()))
def test_snplist_run_ignores_unknown_sex_phenotypes(data, tmp_path, params, allow_no_sex):
    """Without a data-writing command PLINK ignores the case/control phenotype of samples
    of unknown sex (unless --allow-no-sex): run_qc(allow_no_sex=False)."""
    exe = require_plink19()
    args = ["--bfile", str(data)] + [a for k, v in params.items() for a in (f"--{k}", str(v))]
    args += ["--allow-no-sex"] if allow_no_sex else []
    run_plink(exe, args + ["--write-snplist", "--out", "p"], tmp_path)
    result = run_qc(data, allow_no_sex=allow_no_sex, **params)
    assert result.kept_variants == (tmp_path / "p.snplist").read_text().split()
    other = run_qc(data, allow_no_sex=not allow_no_sex, **params)
    assert other.kept_variants != result.kept_variants  # the data tell the two apart


def test_boundaries_need_the_sex_rules(data):
    """--mind counts non-males without Y; --geno on Y counts males; male hets are calls."""
    fam = read_fam(data)
    stats = run_qc(data).stats
    kinds = variant_kinds(stats.variants["chrom"])
    y = kinds == "Y"
    m, n_y = len(kinds), int(y.sum())
    female, male = np.flatnonzero(fam.sex == 2)[0], np.flatnonzero(fam.male)[0]
    miss = stats.samples["n_miss"].to_numpy()
    assert miss[female] == int(MIND * (m - n_y)) + 1 and miss[female] <= int(MIND * m)
    assert miss[male] == int(MIND * m) > int(MIND * (m - n_y))
    result = run_qc(data, mind=MIND)
    removed = set(result.removed_samples["iid"])
    assert fam.iid[female] in removed and fam.iid[male] not in removed
    result = run_qc(data, geno=0.1)
    ids = stats.variants["variant"][y].to_numpy()
    assert ids[0] in result.kept_variants and ids[1] not in result.kept_variants
    # Three X variants carry 30 male heterozygous calls (> 10 %): still kept by --geno 0.1.
    x_ids = stats.variants["variant"][kinds == "X"].to_numpy()[:3]
    x_miss = stats.variants.set_index("variant").loc[x_ids, "f_miss"]
    assert (x_miss + 30 / len(fam.sex) > 0.1).all() and set(x_ids) <= set(result.kept_variants)


def test_no_males_left(tmp_path):
    """Y without males: no call rate (--geno removes it), no allele (--maf keeps it, as an
    all-missing autosomal variant)."""
    from bed_reader import to_bed

    exe = require_plink19()
    rng = np.random.default_rng(3)
    g = rng.binomial(2, 0.3, size=(20, 10)).astype(np.float64)
    g[:, 0] = np.nan
    chroms = ["1"] * 5 + ["Y"] * 5
    to_bed(f"{tmp_path}/d.bed", g, properties={"sex": [2] * 14 + [0] * 6, "chromosome": chroms,
                                                "sid": [f"v{j}" for j in range(10)],
                                                "bp_position": np.arange(1, 11) * 100})
    prefix = tmp_path / "d"
    for params in ({"geno": 0.5}, {"maf": 0.01}, {"geno": 0.5, "maf": 0.01}):
        args = [a for k, v in params.items() for a in (f"--{k}", str(v))]
        run_plink(exe, ["--bfile", str(prefix), *args, "--write-snplist", "--out", "p"], tmp_path)
        result = run_qc(prefix, **params)
        assert result.kept_variants == (tmp_path / "p.snplist").read_text().split()
    run_plink(exe, ["--bfile", str(prefix), "--freq", "--missing", "--out", "p"], tmp_path)
    ours = variant_stats(prefix)
    frq, lmiss = read_report(tmp_path / "p.frq"), read_report(tmp_path / "p.lmiss")
    np.testing.assert_array_equal(lmiss["N_GENO"], ours["n_geno"])
    assert frq["MAF"].isna().sum() == 6 and ours["maf"].isna().sum() == 6
    assert run_qc(prefix, geno=0.5).counts["geno"] == 6


@pytest.mark.parametrize("window_sds", [9.0, 0.0])
def test_hwe_windows_equal_the_full_sum(monkeypatch, window_sds):
    """The batched, windowed exact test equals the one-triple full sum (window_sds 0 forces
    most triples through the fallback)."""
    from alignome.genetics import hwe

    monkeypatch.setattr(hwe, "_WINDOW_SDS", window_sds)
    triples = hwe_triples(np.random.default_rng(5), [
        (0, 2500, 2500), (5000, 0, 0), (1, 0, 4999), (0, 1, 4999), (2, 0, 0), (0, 0, 0), (1, 0, 0), (0, 0, 7),
        (100, 0, 4900), (4000, 500, 500), (3, 1000, 3997), (0, 5, 5), (10, 0, 0)], n_random=200)
    het, hom1, hom2 = (np.array(c) for c in zip(*triples))
    for midp in (False, True):
        got = hwe.hwe_exact(het, hom1, hom2, midp=midp)
        want = [hwe._hwe_one(int(h), int(min(a, b)), int(max(a, b)), midp) for h, a, b in triples]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
