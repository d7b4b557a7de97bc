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
--make-bed``; tests/genetics/test_qc_sexchrom_plink.py):

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

How it is computed: every statistic is a count of 2-bit calls, so the packed
``.bed`` bytes are counted as they are, never decoded to numbers. The ``.bed``
is read ``block`` variants at a time (memory does not grow with the number of
variants) for each sample's missing calls (Y rows masked to males) and, over
the samples ``--mind`` keeps (a second read when ``--mind`` is given), each
variant's missing, heterozygous and homozygous-A2 calls in six sample groups
(all, males, non-male and male founders, non-male and male founder controls):
an AND with the group's bit mask and a popcount each. The C kernels of
``alignome.genetics._bedscore`` count (vertical 4- and 8-bit counters for the
per-sample counts, vector popcounts where the CPU has them), run the
Hardy-Weinberg exact test (the ``--hwe`` filter's mostly settled from a bound,
without the p-value), read the ``.bim``/``.fam`` and write the reports; where
that optional extension is not built, NumPy counts the same
(``np.bitwise_count``), :func:`alignome.genetics.hwe.hwe_exact` tests and
Python reads and writes, with the same results (p-values equal to about 1e-10
relative or better: the kernel's are the more accurate, and print the same).
Neither pandas nor SciPy is imported unless a table is asked for
(:attr:`QCStats.variants` and the like) or the NumPy test runs.

Where: the fileset is read by :mod:`alignome.io.plink_fileset`, the ``.fam`` rules are
:mod:`alignome.genetics.qc_samples`, the counts :mod:`alignome.genetics.qc_counts`, the
statistics :mod:`alignome.genetics.qc_stats` (:func:`~alignome.genetics.qc_stats.variant_stats`,
:func:`~alignome.genetics.qc_stats.sample_missingness`), the filters this module and the
files :mod:`alignome.genetics.qc_reports` (:func:`~alignome.genetics.qc_reports.write_qc`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignome.errors import ConfigError
from alignome.genetics.qc_counts import sample_groups, scan
from alignome.genetics.qc_samples import fam_samples
from alignome.genetics.qc_stats import QCStats, data_frame, sample_table, variant_table
from alignome.io.plink_fileset import read_fileset

SMALL_EPSILON = 2.0**-44

FILTER_ORDER = ("geno", "hwe", "maf")


class QCResult:
    """What :func:`run_qc` kept and removed, and why.

    Attributes
    ----------
    kept_variants
        Variant ids that pass, in ``.bim`` order (PLINK ``--write-snplist``).
    kept_samples
        ``fid``, ``iid`` of samples that pass (DataFrame).
    removed_variants
        ``variant``, ``reason`` (``geno``/``hwe``/``maf``), ``value`` (the
        statistic that failed), one row per removed variant (DataFrame).
    removed_samples
        ``fid``, ``iid``, ``reason`` (``mind``), ``value`` (F_MISS) (DataFrame).
    counts
        Number removed per reason, and ``variants_kept``/``samples_kept``.
    stats
        :class:`QCStats` the filters were applied to.
    thresholds
        The thresholds used (None: filter off).

    The DataFrames are built on first access; :func:`write_qc` does not need them.
    """

    def __init__(self, kept_variants: list[str], keep: np.ndarray, removed: np.ndarray, reason: np.ndarray,
                 value: np.ndarray, counts: dict[str, int], stats: QCStats,
                 thresholds: dict[str, float | None]) -> None:
        self.kept_variants = kept_variants
        self.counts = counts
        self.stats = stats
        self.thresholds = thresholds
        self._keep = keep
        self._removed = removed
        self._reason = reason
        self._value = value
        self._frames: dict[str, object] = {}

    def _sample_ids(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.stats._samples.columns
        return s["fid"][mask], s["iid"][mask]

    def _removed_variant_columns(self) -> dict[str, np.ndarray]:
        return {"variant": self.stats._variants.columns["variant"][self._removed],
                "reason": self._reason[self._removed], "value": self._value[self._removed]}

    def _frame(self, name: str, build, text: bool = True):
        if name not in self._frames:
            self._frames[name] = data_frame(build(), text)
        return self._frames[name]

    @property
    def kept_samples(self):
        fid, iid = self._sample_ids(self._keep)
        return self._frame("kept_samples", lambda: {"fid": fid, "iid": iid})

    @property
    def removed_samples(self):
        fid, iid = self._sample_ids(~self._keep)
        f_miss = self.stats._samples.columns["f_miss"][~self._keep]
        return self._frame("removed_samples", lambda: {"fid": fid, "iid": iid,
                                                       "reason": np.full(fid.size, "mind", dtype=object),
                                                       "value": f_miss})

    @property
    def removed_variants(self):
        return self._frame("removed_variants", self._removed_variant_columns, text=False)


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
    fs = read_fileset(prefix)
    fam = fam_samples(fs.fam, allow_no_sex)
    kinds = fs.kinds()
    is_y = kinds[1]
    keep = np.ones(fs.n, dtype=bool)
    if mind is None:  # every sample stays: one read counts both
        groups = sample_groups(fam, keep)
        missing, counts = scan(fs, block, is_y=is_y, male=fam.male, groups=groups)
        samples = sample_table(fs, fam, is_y, missing)
    else:  # the variant counts are over the samples --mind keeps: a second read
        missing, _ = scan(fs, block, is_y=is_y, male=fam.male)
        samples = sample_table(fs, fam, is_y, missing)
        s = samples.columns
        keep = s["n_miss"] <= np.floor(mind * s["n_geno"] * (1 + SMALL_EPSILON))
        groups = sample_groups(fam, keep)
        _, counts = scan(fs, block, groups=groups)
    stats, hwe_test = variant_table(fs, kinds, groups, counts, hwe_midp)
    v = stats.columns
    fails = {}  # filter: (fails, the statistic at some variants)
    if geno is not None:
        n_geno = v["n_geno"]
        limit = np.floor(geno * n_geno * (1 + SMALL_EPSILON))
        # No sample to count on (Y without males): no call rate, and PLINK removes the variant.
        fails["geno"] = ((v["n_miss"] > limit) | (n_geno == 0), v["f_miss"].__getitem__)
    if hwe is not None:
        fails["hwe"] = (hwe_test.below(hwe), hwe_test.at)  # no test (Y, MT): kept
    if maf is not None:
        value = np.nan_to_num(v["maf"], nan=0.5)  # no observed allele: PLINK's 0.5
        fails["maf"] = (value < maf * (1 - SMALL_EPSILON), v["maf"].__getitem__)
    reason = np.full(fs.m, "", dtype=object)
    valuecol = np.full(fs.m, np.nan)
    for name in FILTER_ORDER:
        if name in fails:
            mask, values = fails[name]
            new = np.flatnonzero(mask & (reason == ""))
            reason[new] = name
            valuecol[new] = values(new)
    removed = reason != ""
    counts = {"mind": int((~keep).sum()), **{k: int((reason == k).sum()) for k in FILTER_ORDER},
              "variants_kept": int((~removed).sum()), "samples_kept": int(keep.sum())}
    ids = fs.ids
    kept_variants = list(ids) if not removed.any() else [ids[i] for i in np.flatnonzero(~removed).tolist()]
    return QCResult(kept_variants=kept_variants, keep=keep, removed=removed, reason=reason, value=valuecol,
                    counts=counts, stats=QCStats(stats, samples),
                    thresholds={"geno": geno, "mind": mind, "maf": maf, "hwe": hwe})
