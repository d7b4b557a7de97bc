"""Genotype quality control with PLINK 1.9 semantics, streamed over variant blocks.

What PLINK 1.9 does with ``--mind M --geno G --hwe H --maf F`` on a
``--bfile``, and so what :func:`run_qc` does:

1. ``--mind``: a sample is removed when its missing-call count exceeds
   ``int(M · n · (1 + 2^-44))``, ``n`` the number of variants it is counted on
   (written to ``.irem``).
2. Variant statistics are then computed on the remaining samples:
   call counts over all of them; allele frequencies and Hardy–Weinberg
   genotype counts over *founders* (both parent ids ``0``); the ``--hwe`` filter uses founder *controls* only when the
   phenotype is case/control (1/2), all founders otherwise.
3. ``--geno``: a variant is removed when its missing count exceeds
   ``int(G · n · (1 + 2^-44))``, ``n`` the number of samples it is counted on.
4. ``--hwe``: removed when the exact-test p (:mod:`alignome.genetics.hwe`) < H.
5. ``--maf``: removed when the minor-allele frequency < F·(1 − 2^-44); a
   variant without any observed allele has frequency 0.5 (PLINK's
   convention: it passes ``--maf``; ``.frq`` shows ``NA``).

A variant is reported under the first filter it fails, in that order, so the
counts add up to what was removed; nothing is dropped without a reason.

Sex chromosomes and chrMT follow PLINK 1.9's rules for the human chromosome
set (``.bim`` codes ``X``/``23``, ``Y``/``24``, ``XY``/``25`` and
``MT``/``M``/``26``, optionally ``chr``-prefixed; ``.fam`` column 5: 1 male,
2 female, anything else unknown). Every rule below was checked against
plink1.9 v1.90b6.26 (``--freq --missing --hardy``, ``--mind/--geno/--hwe/--maf
--make-bed``; tests/test_qc_sexchrom_plink.py):

* Samples of unknown sex count as *non-males* (like females) everywhere.
* **Missingness** (``.lmiss``/``.imiss``, ``--geno``, ``--mind``) counts
  missing calls only: a heterozygous call of a male on X or Y is *not*
  missing. On Y only males are counted, in the missing count and in the
  denominator: a variant's ``N_GENO`` is the number of males, a non-male's
  ``N_GENO`` leaves out the Y variants (so ``--mind`` uses that smaller
  count for non-males), and a non-male's calls on Y, missing or not, are
  ignored. A Y variant when no male is left has no call rate and ``--geno``
  removes it.
* **Frequencies** (``.frq``, ``--maf``; founders): on X a non-male counts two
  alleles and a male one, from his homozygous calls (a male heterozygous
  call counts nothing); on Y only males count, one allele each, homozygous
  calls only. Autosomes, XY and MT count two alleles per call.
* **Hardy–Weinberg** (``.hwe``, ``--hwe``): on X the genotype counts are
  those of non-male founders (non-male founder controls for the filter);
  Y variants have no counts (``0/0/0``, p = 1); MT counts are reported but
  not tested (``O(HET)``/``E(HET)`` NaN, p = 1, 0.5 with mid-p). ``--hwe``
  never removes a Y or MT variant. ``E(HET)`` is computed from the
  Hardy–Weinberg counts, not from the (X: male-including) frequency.
* **Case/control phenotypes of samples of unknown sex** count in a PLINK run
  that writes data (``--make-bed``, ``--make-just-fam``) or has
  ``--allow-no-sex``, and are ignored otherwise (e.g. ``--hardy``, or
  ``--write-snplist`` alone): only then is such a sample never a control, on
  any chromosome. :func:`run_qc` follows the ``--make-bed`` run by default
  (``allow_no_sex=True``), :func:`variant_stats` the ``--hardy`` report
  (``allow_no_sex=False``); both take either.
* XY (pseudo-autosomal) and MT calls are diploid for everyone; a
  heterozygous MT call is an ordinary heterozygote.

PLINK 1.9 only *reports* heterozygous haploid calls (``.hh``); without
``--set-hh-missing`` they stay in its ``--make-bed`` output, and
:func:`run_qc` likewise writes nothing to the genotypes.
The ``.bed`` is read ``block`` variants at a time, so memory does not grow
with the number of variants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort.genotypes import open_plink
from alignome.errors import ConfigError, DataError
from alignome.genetics.hwe import hwe_exact
from alignome.genetics.sumstats_io import normalise_chrom

SMALL_EPSILON = 2.0**-44

FILTER_ORDER = ("geno", "hwe", "maf")


def chromosome_kind(code: object) -> str:
    """``"X"``, ``"Y"``, ``"MT"`` or ``""`` for a ``.bim`` chromosome code.

    ``""``: diploid, autosomal rules (1–22, XY, and codes PLINK's human set does not know).
    """
    try:
        chrom = normalise_chrom(code)
    except DataError:
        return ""
    return chrom if chrom in ("X", "Y", "MT") else ""


def variant_kinds(chroms) -> np.ndarray:
    """:func:`chromosome_kind` of every ``.bim`` chromosome code (object array)."""
    values = pd.Series(chroms, dtype=object).astype(str)
    kinds = {code: chromosome_kind(code) for code in values.unique()}
    return values.map(kinds).to_numpy(dtype=object)


@dataclass
class Samples:
    """The ``.fam`` of a fileset, with PLINK's founder, sex and phenotype rules."""

    fid: np.ndarray
    iid: np.ndarray
    founder: np.ndarray
    control: np.ndarray
    case_control: bool
    sex: np.ndarray

    @property
    def male(self) -> np.ndarray:
        return self.sex == 1


def read_fam(prefix: str | Path, allow_no_sex: bool = False) -> Samples:
    """Read ``PREFIX.fam`` (6 columns) and classify founders, sex and controls as PLINK 1.9 does.

    As in PLINK 1.9, a sample is a founder only when both parent ids are ``0``
    (a parent id naming no sample of the file still makes a non-founder). Sex
    is 1 (male), 2 (female) or 0 (unknown: any other code). The phenotype is
    case/control when every value is one of 1, 2, 0, -9 (0 and -9 missing);
    controls are those coded 1, and, unless ``allow_no_sex``, whose sex is
    known (PLINK 1.9 ignores the phenotype of a sample of unknown sex, except
    with ``--allow-no-sex`` or in a run that writes data such as ``--make-bed``).
    """
    prefix = Path(prefix)
    fam = pd.read_csv(f"{prefix}.fam", sep=r"\s+", header=None, dtype=str, engine="python")
    fid, iid, pat, mat, sexcode, pheno = (fam[i].to_numpy(dtype=object) for i in (0, 1, 2, 3, 4, 5))
    founder = (pat == "0") & (mat == "0")
    sex = np.select([sexcode == "1", sexcode == "2"], [1, 2], 0).astype(np.int8)
    values = pd.to_numeric(pd.Series(pheno), errors="coerce").to_numpy()
    coded = np.isin(values, [1, 2, 0, -9])
    case_control = bool(coded.all()) and bool(np.isin(values, [1, 2]).any())
    control = ((values == 1) & (allow_no_sex | (sex != 0))) if case_control else np.ones(len(fam), dtype=bool)
    return Samples(fid=fid, iid=iid, founder=founder, control=control, case_control=case_control, sex=sex)


@dataclass
class QCStats:
    """Per-variant and per-sample statistics (PLINK ``--missing``, ``--freq``, ``--hardy`` ALL rows).

    Attributes
    ----------
    variants
        One row per variant in ``.bim`` order: ``chrom``, ``variant``, ``pos``,
        ``a1`` (minor allele among founders, as PLINK 1.9 reports it), ``a2``,
        ``n_miss``, ``n_geno``, ``f_miss`` (kept samples the variant is counted
        on: males only on Y), ``maf`` (NaN without observed alleles),
        ``nchrobs`` (founders' observed alleles: one per male call on X/Y),
        ``hom1``/``het``/``hom2`` (founders; non-male founders on X; none on Y;
        hom1 is A1/A1), ``o_het``, ``e_het``, ``p_hwe`` (those counts),
        ``p_hwe_filter`` (the sample set ``--hwe`` uses: founder controls for
        case/control data; NaN on Y and MT, which ``--hwe`` does not test).
    samples
        ``fid``, ``iid``, ``n_miss``, ``n_geno``, ``f_miss`` over all variants
        (Y variants only for males).
    """

    variants: pd.DataFrame
    samples: pd.DataFrame


def _blocks(m: int, block: int):
    for start in range(0, m, block):
        yield np.arange(start, min(m, start + block), dtype=np.intp)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num), np.asarray(den)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def sample_missingness(prefix: str | Path, block: int = 2048) -> pd.DataFrame:
    """Per-sample missing-call counts (PLINK ``.imiss``), streamed.

    Y variants count only for males: a non-male's ``n_geno`` leaves them out.
    """
    gf = open_plink(Path(prefix))
    fam = read_fam(gf.path.with_suffix(""))
    kinds = variant_kinds(gf.variants["chrom"])
    nonmale = ~fam.male
    m = len(gf.variants)
    missing = np.zeros(len(gf.subjects), dtype=np.int64)
    for positions in _blocks(m, block):
        miss = np.isnan(gf.reader(positions))
        on_y = kinds[positions] == "Y"
        if on_y.any():
            miss[np.ix_(nonmale, on_y)] = False
        missing += miss.sum(axis=1)
    n_geno = np.where(fam.male, m, m - int((kinds == "Y").sum()))
    return pd.DataFrame({"fid": fam.fid, "iid": fam.iid, "n_miss": missing, "n_geno": n_geno,
                         "f_miss": _ratio(missing, n_geno)})


def _group_counts(g: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group (rows of the 0/1 matrix ``groups``) and column of ``g`` (calls 0/1/2, NaN missing):
    called, A1/A1, het and A2/A2 counts, each ``(n_groups, n_columns)`` int64.

    Three matrix products: with x the call (0 where missing), Σx = het + 2·hom1 and
    Σx² = het + 4·hom1 give hom1 and het; exact while 4·n fits the float mantissa.
    """
    called = ~np.isnan(g)
    x = np.where(called, g, 0).astype(groups.dtype, copy=False)
    n_called = np.rint(groups @ called.astype(groups.dtype))
    s1 = np.rint(groups @ x)
    s2 = np.rint(groups @ (x * x))
    hom1 = (s2 - s1) / 2
    het = 2 * s1 - s2
    return tuple(a.astype(np.int64) for a in (n_called, hom1, het, n_called - hom1 - het))


def variant_stats(prefix: str | Path, keep: np.ndarray | None = None, block: int = 2048,
                  midp: bool = False, allow_no_sex: bool = False) -> pd.DataFrame:
    """Per-variant call rate, MAF and Hardy–Weinberg test over the samples ``keep``, streamed.

    X, Y and MT follow PLINK 1.9's rules (module docstring).

    Parameters
    ----------
    prefix
        PLINK 1 binary fileset prefix.
    keep
        Boolean mask over ``.fam`` rows (default: all).
    block
        Variants read at a time.
    midp
        Mid-p Hardy–Weinberg p-values.
    allow_no_sex
        Count controls of unknown sex in ``p_hwe_filter`` (PLINK ``--allow-no-sex``;
        the default matches ``plink --hardy``'s UNAFF rows).
    """
    prefix = Path(prefix)
    gf = open_plink(prefix)
    fam = read_fam(gf.path.with_suffix(""), allow_no_sex=allow_no_sex)
    n = len(gf.subjects)
    keep = np.ones(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    kinds = variant_kinds(gf.variants["chrom"])
    male = fam.male[keep]
    founders = fam.founder[keep]
    filt = founders & fam.control[keep]
    # Founders and filter samples split by sex: X and Y count males differently.
    masks = (np.ones_like(male), male, founders & ~male, founders & male, filt & ~male, filt & male)
    groups = np.stack(masks).astype(np.float32 if 4 * male.size < 2**24 else np.float64)
    parts = []
    everyone = bool(keep.all())
    for positions in _blocks(len(gf.variants), block):
        g = gf.reader(positions)
        n_called, hom1, het, hom2 = _group_counts(g if everyone else g[keep], groups)
        per_group = np.stack([hom1[2:], het[2:], hom2[2:]], axis=1).reshape(-1, len(positions))
        parts.append(np.concatenate([n_called[:2], per_group]))  # called (all, males), then 3 counts per group
    cols = np.concatenate(parts, axis=1) if parts else np.zeros((14, 0), dtype=np.int64)
    called_all, called_male = cols[:2]
    miss_all, miss_male = int(keep.sum()) - called_all, int(male.sum()) - called_male
    fn11, fn12, fn22, fm11, fm12, fm22, cn11, cn12, cn22, cm11, cm12, cm22 = cols[2:]
    is_x, is_y, is_mt = (kinds == "X"), (kinds == "Y"), (kinds == "MT")
    haploid = is_x | is_y
    zero = np.zeros_like(fn11)
    # Diploid founder calls (the Hardy-Weinberg counts): non-males on X, nobody on Y, everyone elsewhere.
    d11 = np.where(haploid, np.where(is_x, fn11, zero), fn11 + fm11)
    d12 = np.where(haploid, np.where(is_x, fn12, zero), fn12 + fm12)
    d22 = np.where(haploid, np.where(is_x, fn22, zero), fn22 + fm22)
    # Haploid founder calls: males' homozygous calls on X and Y, one allele each (hets count nothing).
    h1 = np.where(haploid, fm11, zero)
    h2 = np.where(haploid, fm22, zero)
    # Filter (--hwe) counts: founder controls, non-males only on X, none on Y.
    c11 = np.where(haploid, np.where(is_x, cn11, zero), cn11 + cm11)
    c12 = np.where(haploid, np.where(is_x, cn12, zero), cn12 + cm12)
    c22 = np.where(haploid, np.where(is_x, cn22, zero), cn22 + cm22)
    n_kept = int(keep.sum())
    n_male = int(male.sum())
    n_miss = np.where(is_y, miss_male, miss_all)
    n_geno = np.where(is_y, n_male, n_kept)
    allele1 = 2 * d11 + d12 + h1
    nchrobs = 2 * (d11 + d12 + d22) + h1 + h2
    freq1 = _ratio(allele1, nchrobs)
    # PLINK 1.9 reports the minor allele as A1 (it swaps alleles when A1 is major).
    swap = freq1 > 0.5
    a1 = np.where(swap, gf.variants["a2"].to_numpy(dtype=object), gf.variants["a1"].to_numpy(dtype=object))
    a2 = np.where(swap, gf.variants["a1"].to_numpy(dtype=object), gf.variants["a2"].to_numpy(dtype=object))
    maf = np.where(swap, 1 - freq1, freq1)
    hom1 = np.where(swap, d22, d11)
    hom2 = np.where(swap, d11, d22)
    geno_ct = d11 + d12 + d22
    o_het = _ratio(d12, geno_ct)
    q = _ratio(2 * hom1 + d12, 2 * geno_ct)
    e_het = 2 * q * (1 - q)
    o_het[is_mt] = np.nan
    e_het[is_mt] = np.nan
    # One call for both sample sets: identical counts (all of them without case/control data) are tested once.
    p_both = hwe_exact(np.concatenate([d12, c12]), np.concatenate([d11, c11]), np.concatenate([d22, c22]), midp=midp)
    p_hwe, p_filter = p_both[:d12.size].copy(), p_both[d12.size:].copy()
    p_hwe[is_mt] = 0.5 if midp else 1.0
    p_filter[is_y | is_mt] = np.nan  # --hwe does not test Y or MT
    return pd.DataFrame({
        "chrom": gf.variants["chrom"].to_numpy(dtype=object),
        "variant": gf.variants.index.to_numpy(dtype=object),
        "pos": gf.variants["pos"].to_numpy(),
        "a1": a1, "a2": a2,
        "n_miss": n_miss, "n_geno": n_geno, "f_miss": _ratio(n_miss, n_geno),
        "maf": maf, "nchrobs": nchrobs,
        "hom1": hom1, "het": d12, "hom2": hom2, "o_het": o_het, "e_het": e_het,
        "p_hwe": p_hwe,
        "p_hwe_filter": p_filter,
    })


@dataclass
class QCResult:
    """What :func:`run_qc` kept and removed, and why.

    Attributes
    ----------
    kept_variants
        Variant ids that pass, in ``.bim`` order (PLINK ``--write-snplist``).
    kept_samples
        ``fid``, ``iid`` of samples that pass.
    removed_variants
        ``variant``, ``reason`` (``geno``/``hwe``/``maf``), ``value`` (the
        statistic that failed), one row per removed variant.
    removed_samples
        ``fid``, ``iid``, ``reason`` (``mind``), ``value`` (F_MISS).
    counts
        Number removed per reason, and ``variants_kept``/``samples_kept``.
    stats
        :class:`QCStats` the filters were applied to.
    thresholds
        The thresholds used (None: filter off).
    """

    kept_variants: list[str]
    kept_samples: pd.DataFrame
    removed_variants: pd.DataFrame
    removed_samples: pd.DataFrame
    counts: dict[str, int]
    stats: QCStats
    thresholds: dict[str, float | None] = field(default_factory=dict)


def _check(name: str, value: float | None) -> None:
    if value is not None and not (0 <= value <= 1):
        raise ConfigError(f"--{name} must lie in [0, 1], got {value}", field=name,
                          fix=f"give a proportion, e.g. --{name} 0.1" if name != "hwe" else "give a p-value, e.g. --hwe 1e-6")


def run_qc(
    prefix: str | Path,
    *,
    geno: float | None = None,
    mind: float | None = None,
    maf: float | None = None,
    hwe: float | None = None,
    hwe_midp: bool = False,
    allow_no_sex: bool = True,
    block: int = 2048,
) -> QCResult:
    """Apply PLINK 1.9's ``--mind``, ``--geno``, ``--hwe`` and ``--maf`` filters.

    Parameters
    ----------
    prefix
        PLINK 1 binary fileset prefix.
    geno, mind, maf, hwe
        Thresholds as PLINK's flags take them; ``None`` turns a filter off.
    hwe_midp
        Use the mid-p exact test (PLINK ``--hwe H midp``).
    allow_no_sex
        Whether the case/control phenotype of samples of unknown sex counts in
        the ``--hwe`` filter. PLINK 1.9 keeps it in the usual QC run, one that
        writes the data (``--make-bed``, ``--make-just-fam``) or has
        ``--allow-no-sex`` (the default, True); a run without either (e.g.
        only ``--write-snplist``) ignores it: False.
    block
        Variants read at a time.

    Returns
    -------
    QCResult
        Kept and removed variants and samples with reasons and counts.
    """
    for name, value in (("geno", geno), ("mind", mind), ("maf", maf), ("hwe", hwe)):
        _check(name, value)
    prefix = Path(prefix)
    if prefix.suffix in (".bed", ".bim", ".fam"):
        prefix = prefix.with_suffix("")
    samples = sample_missingness(prefix, block=block)
    keep = np.ones(len(samples), dtype=bool)
    if mind is not None:
        limit = np.floor(mind * samples["n_geno"].to_numpy() * (1 + SMALL_EPSILON))
        keep = samples["n_miss"].to_numpy() <= limit
    removed_samples = samples.loc[~keep, ["fid", "iid"]].assign(reason="mind", value=samples.loc[~keep, "f_miss"])
    stats = variant_stats(prefix, keep=keep, block=block, midp=hwe_midp, allow_no_sex=allow_no_sex)
    n_kept = int(keep.sum())
    fails = {}
    if geno is not None:
        n_geno = stats["n_geno"].to_numpy()
        limit = np.floor(geno * n_geno * (1 + SMALL_EPSILON))
        # No sample to count on (Y without males): no call rate, and PLINK removes the variant.
        fails["geno"] = ((stats["n_miss"].to_numpy() > limit) | (n_geno == 0), stats["f_miss"])
    if hwe is not None:
        fails["hwe"] = (stats["p_hwe_filter"].to_numpy() < hwe, stats["p_hwe_filter"])  # NaN (Y, MT): kept
    if maf is not None:
        value = np.nan_to_num(stats["maf"].to_numpy(), nan=0.5)  # no observed allele: PLINK's 0.5
        fails["maf"] = (value < maf * (1 - SMALL_EPSILON), stats["maf"])
    reason = np.full(len(stats), "", dtype=object)
    valuecol = np.full(len(stats), np.nan)
    for name in FILTER_ORDER:
        if name in fails:
            mask, values = fails[name]
            new = mask & (reason == "")
            reason[new] = name
            valuecol[new] = values.to_numpy()[new]
    removed = reason != ""
    removed_variants = pd.DataFrame({"variant": stats["variant"][removed].to_numpy(), "reason": reason[removed],
                                     "value": valuecol[removed]})
    counts = {"mind": int((~keep).sum()), **{k: int((reason == k).sum()) for k in FILTER_ORDER},
              "variants_kept": int((~removed).sum()), "samples_kept": n_kept}
    return QCResult(
        kept_variants=[str(v) for v in stats["variant"][~removed]],
        kept_samples=samples.loc[keep, ["fid", "iid"]].reset_index(drop=True),
        removed_variants=removed_variants,
        removed_samples=removed_samples.reset_index(drop=True),
        counts=counts,
        stats=QCStats(variants=stats, samples=samples),
        thresholds={"geno": geno, "mind": mind, "maf": maf, "hwe": hwe},
    )


def _g4(x: float) -> str:
    return "NA" if not np.isfinite(x) else f"{x:.4g}"


def write_qc(result: QCResult, out: str | Path) -> dict[str, Path]:
    """Write PLINK-style lists and reports of a QC run.

    Files: ``OUT.snplist`` (kept variants, as ``--write-snplist``),
    ``OUT.irem`` (FID IID of samples removed by ``--mind``, as PLINK),
    ``OUT.keep`` (FID IID of kept samples, for ``plink --keep``),
    ``OUT.removed.tsv`` (variant, reason, value of each removed variant),
    ``OUT.hwe``, ``OUT.frq``, ``OUT.lmiss``, ``OUT.imiss`` (whitespace tables
    with PLINK 1.9's column names, numbers to 4 significant digits) and
    ``OUT.qc.log`` (the counts).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = {ext: Path(f"{out}.{ext}") for ext in ("snplist", "irem", "keep", "removed.tsv", "hwe", "frq",
                                                   "lmiss", "imiss", "qc.log")}
    paths["snplist"].write_text("".join(f"{v}\n" for v in result.kept_variants))
    paths["irem"].write_text("".join(f"{f}\t{i}\n" for f, i in zip(result.removed_samples["fid"],
                                                                   result.removed_samples["iid"])))
    paths["keep"].write_text("".join(f"{f}\t{i}\n" for f, i in zip(result.kept_samples["fid"],
                                                                   result.kept_samples["iid"])))
    result.removed_variants.to_csv(paths["removed.tsv"], sep="\t", index=False, float_format="%.6g")
    v = result.stats.variants
    lines = [" CHR SNP TEST A1 A2 GENO O(HET) E(HET) P"]
    for row in v.itertuples(index=False):
        lines.append(f"{row.chrom} {row.variant} ALL {row.a1} {row.a2} {row.hom1}/{row.het}/{row.hom2} "
                     f"{_g4(row.o_het)} {_g4(row.e_het)} {_g4(row.p_hwe)}")
    paths["hwe"].write_text("\n".join(lines) + "\n")
    lines = [" CHR SNP A1 A2 MAF NCHROBS"]
    lines += [f"{r.chrom} {r.variant} {r.a1} {r.a2} {_g4(r.maf)} {r.nchrobs}" for r in v.itertuples(index=False)]
    paths["frq"].write_text("\n".join(lines) + "\n")
    lines = [" CHR SNP N_MISS N_GENO F_MISS"]
    lines += [f"{r.chrom} {r.variant} {r.n_miss} {r.n_geno} {_g4(r.f_miss)}" for r in v.itertuples(index=False)]
    paths["lmiss"].write_text("\n".join(lines) + "\n")
    s = result.stats.samples
    lines = [" FID IID MISS_PHENO N_MISS N_GENO F_MISS"]
    lines += [f"{r.fid} {r.iid} N {r.n_miss} {r.n_geno} {_g4(r.f_miss)}" for r in s.itertuples(index=False)]
    paths["imiss"].write_text("\n".join(lines) + "\n")
    c = result.counts
    log = [f"{c['mind']} people removed due to missing genotype data (--mind).",
           f"{c['geno']} variants removed due to missing genotype data (--geno).",
           f"--hwe: {c['hwe']} variants removed due to Hardy-Weinberg exact test.",
           f"{c['maf']} variants removed due to minor allele threshold(s) (--maf).",
           f"{c['variants_kept']} variants and {c['samples_kept']} people pass filters and QC."]
    paths["qc.log"].write_text("\n".join(log) + "\n")
    return paths
