"""Genotype quality control with PLINK 1.9 semantics, streamed over variant blocks.

What PLINK 1.9 does with ``--mind M --geno G --hwe H --maf F`` on a
``--bfile``, and so what :func:`run_qc` does:

1. ``--mind``: a sample is removed when its missing-call count over all
   variants exceeds ``int(M · n_variants + 1e-7)`` (written to ``.irem``).
2. Variant statistics are then computed on the remaining samples:
   call counts over all of them; allele frequencies and Hardy–Weinberg
   genotype counts over *founders* (both parent ids ``0``); the ``--hwe`` filter uses founder *controls* only when the
   phenotype is case/control (1/2), all founders otherwise.
3. ``--geno``: a variant is removed when its missing count exceeds
   ``int(G · n_samples · (1 + 2^-44))``.
4. ``--hwe``: removed when the exact-test p (:mod:`alignome.genetics.hwe`) < H.
5. ``--maf``: removed when the minor-allele frequency < F·(1 − 2^-44).

A variant is reported under the first filter it fails, in that order, so the
counts add up to what was removed; nothing is dropped without a reason.
Non-autosomal variants are treated like autosomal ones (PLINK treats
X/Y/MT haploid calls specially; use autosomal data for exact agreement).
The ``.bed`` is read ``block`` variants at a time, so memory does not grow
with the number of variants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort.genotypes import open_plink
from alignome.errors import ConfigError
from alignome.genetics.hwe import hwe_exact

SMALL_EPSILON = 2.0**-44
_MIND_EPSILON = 1e-7

FILTER_ORDER = ("geno", "hwe", "maf")


@dataclass
class Samples:
    """The ``.fam`` of a fileset, with PLINK's founder and phenotype rules."""

    fid: np.ndarray
    iid: np.ndarray
    founder: np.ndarray
    control: np.ndarray
    case_control: bool


def read_fam(prefix: str | Path) -> Samples:
    """Read ``PREFIX.fam`` (6 columns) and classify founders and controls as PLINK 1.9 does.

    As in PLINK 1.9, a sample is a founder only when both parent ids are ``0``
    (a parent id naming no sample of the file still makes a non-founder). The phenotype is case/control when every value is one
    of 1, 2, 0, -9 (0 and -9 missing); controls are those coded 1.
    """
    prefix = Path(prefix)
    fam = pd.read_csv(f"{prefix}.fam", sep=r"\s+", header=None, dtype=str, engine="python")
    fid, iid, pat, mat, pheno = (fam[i].to_numpy(dtype=object) for i in (0, 1, 2, 3, 5))
    founder = (pat == "0") & (mat == "0")
    values = pd.to_numeric(pd.Series(pheno), errors="coerce").to_numpy()
    coded = np.isin(values, [1, 2, 0, -9])
    case_control = bool(coded.all()) and bool(np.isin(values, [1, 2]).any())
    control = (values == 1) if case_control else np.ones(len(fam), dtype=bool)
    return Samples(fid=fid, iid=iid, founder=founder, control=control, case_control=case_control)


@dataclass
class QCStats:
    """Per-variant and per-sample statistics (PLINK ``--missing``, ``--freq``, ``--hardy`` ALL rows).

    Attributes
    ----------
    variants
        One row per variant in ``.bim`` order: ``chrom``, ``variant``, ``pos``,
        ``a1`` (minor allele among founders, as PLINK 1.9 reports it), ``a2``,
        ``n_miss``, ``n_geno``, ``f_miss`` (all kept samples), ``maf``,
        ``nchrobs`` (founders), ``hom1``/``het``/``hom2`` (founders; hom1 is A1/A1),
        ``o_het``, ``e_het``, ``p_hwe`` (founders), ``p_hwe_filter`` (the sample
        set ``--hwe`` uses: founder controls for case/control data).
    samples
        ``fid``, ``iid``, ``n_miss``, ``n_geno``, ``f_miss`` over all variants.
    """

    variants: pd.DataFrame
    samples: pd.DataFrame


def _blocks(m: int, block: int):
    for start in range(0, m, block):
        yield np.arange(start, min(m, start + block), dtype=np.intp)


def sample_missingness(prefix: str | Path, block: int = 2048) -> pd.DataFrame:
    """Per-sample missing-call counts over all variants (PLINK ``.imiss``), streamed."""
    gf = open_plink(Path(prefix))
    fam = read_fam(gf.path.with_suffix(""))
    m = len(gf.variants)
    missing = np.zeros(len(gf.subjects), dtype=np.int64)
    for positions in _blocks(m, block):
        missing += np.isnan(gf.reader(positions)).sum(axis=1)
    return pd.DataFrame({"fid": fam.fid, "iid": fam.iid, "n_miss": missing, "n_geno": m,
                         "f_miss": missing / max(m, 1)})


def variant_stats(prefix: str | Path, keep: np.ndarray | None = None, block: int = 2048,
                  midp: bool = False) -> pd.DataFrame:
    """Per-variant call rate, MAF and Hardy–Weinberg test over the samples ``keep``, streamed.

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
    """
    prefix = Path(prefix)
    gf = open_plink(prefix)
    fam = read_fam(gf.path.with_suffix(""))
    n = len(gf.subjects)
    keep = np.ones(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    founders = fam.founder[keep]
    filt = founders & fam.control[keep]
    parts = []
    for positions in _blocks(len(gf.variants), block):
        g = gf.reader(positions)[keep]
        miss = np.isnan(g)
        counts = {}
        for name, mask in (("f", founders), ("c", filt)):
            sub = g[mask]
            counts[name] = [(sub == k).sum(axis=0) for k in (2, 1, 0)]  # A1/A1, het, A2/A2
        parts.append((miss.sum(axis=0), *counts["f"], *counts["c"]))
    cols = [np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype=np.int64) for i in range(7)]
    n_miss, f11, f12, f22, c11, c12, c22 = (c.astype(np.int64) for c in cols)
    n_kept = int(keep.sum())
    allele1 = 2 * f11 + f12
    nchrobs = 2 * (f11 + f12 + f22)
    with np.errstate(invalid="ignore", divide="ignore"):
        freq1 = np.where(nchrobs > 0, allele1 / np.maximum(nchrobs, 1), np.nan)
    # PLINK 1.9 reports the minor allele as A1 (it swaps alleles when A1 is major).
    swap = freq1 > 0.5
    a1 = np.where(swap, gf.variants["a2"].to_numpy(dtype=object), gf.variants["a1"].to_numpy(dtype=object))
    a2 = np.where(swap, gf.variants["a1"].to_numpy(dtype=object), gf.variants["a2"].to_numpy(dtype=object))
    maf = np.where(swap, 1 - freq1, freq1)
    hom1 = np.where(swap, f22, f11)
    hom2 = np.where(swap, f11, f22)
    geno_ct = f11 + f12 + f22
    with np.errstate(invalid="ignore", divide="ignore"):
        o_het = np.where(geno_ct > 0, f12 / np.maximum(geno_ct, 1), np.nan)
        e_het = 2 * maf * (1 - maf)
    return pd.DataFrame({
        "chrom": gf.variants["chrom"].to_numpy(dtype=object),
        "variant": gf.variants.index.to_numpy(dtype=object),
        "pos": gf.variants["pos"].to_numpy(),
        "a1": a1, "a2": a2,
        "n_miss": n_miss, "n_geno": n_kept, "f_miss": n_miss / max(n_kept, 1),
        "maf": maf, "nchrobs": nchrobs,
        "hom1": hom1, "het": f12, "hom2": hom2, "o_het": o_het, "e_het": e_het,
        "p_hwe": hwe_exact(f12, f11, f22, midp=midp),
        "p_hwe_filter": hwe_exact(c12, c11, c22, midp=midp),
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
        m = int(samples["n_geno"].iloc[0]) if len(samples) else 0
        limit = int(mind * m + _MIND_EPSILON)
        keep = samples["n_miss"].to_numpy() <= limit
    removed_samples = samples.loc[~keep, ["fid", "iid"]].assign(reason="mind", value=samples.loc[~keep, "f_miss"])
    stats = variant_stats(prefix, keep=keep, block=block, midp=hwe_midp)
    n_kept = int(keep.sum())
    fails = {}
    if geno is not None:
        fails["geno"] = (stats["n_miss"].to_numpy() > int(geno * n_kept * (1 + SMALL_EPSILON)), stats["f_miss"])
    if hwe is not None:
        fails["hwe"] = (stats["p_hwe_filter"].to_numpy() < hwe, stats["p_hwe_filter"])
    if maf is not None:
        value = stats["maf"].to_numpy()
        fails["maf"] = (~(value >= maf * (1 - SMALL_EPSILON)), stats["maf"])
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
