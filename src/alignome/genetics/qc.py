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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alignome.cohort.plink_files import PLINK_FIX, check_bed, fileset_paths
from alignome.errors import ConfigError, DataError
from alignome.genetics.fields import bed_kernel
from alignome.genetics.fields import check_unique as _check_unique
from alignome.genetics.fields import read_columns as _columns

SMALL_EPSILON = 2.0**-44

FILTER_ORDER = ("geno", "hwe", "maf")


#: Chromosome codes of PLINK's human set that are not diploid autosomes (after ``chr`` and leading zeros go).
_SPECIAL = {"23": "X", "24": "Y", "26": "MT", "X": "X", "Y": "Y", "M": "MT", "MT": "MT"}

#: The low bit of every 2-bit call of a uint64 word.
_ODD = np.uint64(0x5555555555555555)


def chromosome_kind(code: object) -> str:
    """``"X"``, ``"Y"``, ``"MT"`` or ``""`` for a ``.bim`` chromosome code.

    ``""``: diploid, autosomal rules (1–22, XY, and codes PLINK's human set does not know).
    """
    text = str(code).strip().upper().removeprefix("CHR")
    if text.isdigit():
        try:
            text = str(int(text))
        except ValueError:  # digits int() does not read (e.g. superscripts)
            return ""
    return _SPECIAL.get(text, "")


def variant_kinds(chroms) -> np.ndarray:
    """:func:`chromosome_kind` of every ``.bim`` chromosome code (object array)."""
    values = [str(c) for c in chroms]
    kinds = {code: chromosome_kind(code) for code in set(values)}
    return np.array([kinds[c] for c in values], dtype=object)


# --------------------------------------------------------------------------
# The fileset, without pandas
# --------------------------------------------------------------------------

@dataclass
class _Fileset:
    """A PLINK 1 binary fileset's ``.bed`` path, ``.fam`` and ``.bim`` columns (str lists)."""

    bed: Path
    fam: list[list[str]]
    chrom: list[str]
    ids: list[str]
    pos: list[str]
    a1: list[str]
    a2: list[str]

    @property
    def n(self) -> int:
        return len(self.fam[1])

    @property
    def m(self) -> int:
        return len(self.ids)

    @property
    def width(self) -> int:
        return (self.n + 3) // 4

    def kinds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boolean X, Y and MT masks over the variants."""
        number = {"X": 0, "Y": 1, "MT": 2}
        codes = {code: number.get(chromosome_kind(code), -1) for code in set(self.chrom)}
        kind = np.fromiter(map(codes.__getitem__, self.chrom), dtype=np.int8, count=len(self.chrom))
        return kind == 0, kind == 1, kind == 2

    def positions(self) -> np.ndarray:
        try:
            return np.fromiter(map(int, self.pos), dtype=np.int64, count=len(self.pos))
        except ValueError:
            import pandas as pd

            return pd.to_numeric(pd.Series(self.pos, dtype=object), errors="coerce").to_numpy()


def read_fileset(prefix: str | Path) -> _Fileset:
    """Read and check a fileset without pandas (QC, scores and the GWAS scan use it), as
    :func:`alignome.cohort.genotypes.read_plink_fileset` does: files present, six columns, unique sample and
    variant ids, SNP-major magic bytes, ``.bed`` size."""
    bed, bim, fam = fileset_paths(prefix)
    fam_cols = _columns(fam, 6, ".fam")
    chrom, ids, _, pos, a1, a2 = _columns(bim, 6, ".bim")
    _check_unique(fam_cols[1], fam, "subject (IID)", "give each sample one row in the .fam file (e.g. `plink --keep`)")
    _check_unique(ids, bim, "variant id", "give each variant a unique id (e.g. `plink2 --set-all-var-ids` or `--rm-dup`)")
    check_bed(bed, len(fam_cols[1]), len(ids))
    return _Fileset(bed=bed, fam=fam_cols, chrom=chrom, ids=ids, pos=pos, a1=a1, a2=a2)


def _bed_blocks(fs: _Fileset, block: int):
    """Yield ``(start, raw)``: the ``.bed`` rows of variants ``start:start + k`` as a (k, width) uint8 array
    (one buffer, reused: consume each block before the next)."""
    width, m = fs.width, fs.m
    block = max(1, int(block))
    buffer = np.empty(min(block, max(m, 1)) * width, dtype=np.uint8)
    with open(fs.bed, "rb", buffering=0) as handle:
        handle.seek(3)
        for start in range(0, m, block):
            k = min(block, m - start)
            view = memoryview(buffer)[:k * width]
            got = 0
            while got < view.nbytes:
                read = handle.readinto(view[got:])
                if not read:
                    raise DataError(f"the .bed file ended early (variant {start + 1 + got // width})",
                                    file=fs.bed, fix=PLINK_FIX)
                got += read
            yield start, buffer[:k * width].reshape(k, width)


def _masks(groups, n: int) -> np.ndarray:
    """Sample groups (boolean arrays over the ``.fam``) as uint64 words in the layout of a ``.bed`` row:
    bit 2k of word w set for sample 32w + k of the group; shape (groups, ⌈n/32⌉)."""
    words = (n + 31) // 32
    bits = np.zeros((len(groups), words * 32), dtype=np.uint64)
    for g, group in enumerate(groups):
        bits[g, :n] = np.asarray(group, dtype=bool)
    shifts = (2 * np.arange(32, dtype=np.uint64)).astype(np.uint64)
    return np.ascontiguousarray(np.bitwise_or.reduce(bits.reshape(len(groups), words, 32) << shifts, axis=2))


def _missing_counts_numpy(raw: np.ndarray, masks: np.ndarray, which: np.ndarray, counts: np.ndarray) -> None:
    """NumPy twin of the kernel's ``missing_counts``."""
    width = raw.shape[1]
    mask_bytes = masks.view(np.uint8).reshape(masks.shape[0], -1)[:, :width]
    miss = raw & ~(raw >> 1) & mask_bytes[which]  # code 01 of the rows' groups, low bit of each call
    per_sample = counts.reshape(-1, 4)
    for c in range(4):
        per_sample[:width, c] += ((miss >> (2 * c)) & 1).sum(axis=0, dtype=np.int64)


def _group_counts_numpy(raw: np.ndarray, masks: np.ndarray, out: np.ndarray) -> None:
    """NumPy twin of the kernel's ``group_counts``: out[g, :, v] = missing, het, hom A2 calls of group g."""
    k, width = raw.shape
    words = masks.shape[1]
    padded = np.zeros((k, words * 8), dtype=np.uint8)
    padded[:, :width] = raw
    x = padded.view(np.uint64)
    lo, hi = x & _ODD, (x >> np.uint64(1)) & _ODD
    for c, calls in enumerate((lo & ~hi, hi & ~lo, lo & hi)):
        for g in range(masks.shape[0]):
            out[g, c] = np.bitwise_count(calls & masks[g]).sum(axis=1, dtype=np.int64)


def _groups(fam: Samples, keep: np.ndarray) -> tuple[np.ndarray, ...]:
    """The sample groups of the variant counts: kept samples, kept males, then founders and founder controls
    (the ``--hwe`` set), each split into non-males and males (X and Y count males differently)."""
    male = fam.male & keep
    founders = fam.founder & keep
    controls = founders & fam.control
    return keep, male, founders & ~male, founders & male, controls & ~male, controls & male


def _scan(fs: _Fileset, block: int, is_y: np.ndarray | None = None, male: np.ndarray | None = None,
          groups: tuple[np.ndarray, ...] | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """One read of the ``.bed``: each sample's missing calls (when ``is_y`` is given; non-males' calls on Y
    left out), and each variant's missing, heterozygous and homozygous-A2 calls in each of ``groups``
    (int64 (groups, 3, m); when given)."""
    n, width = fs.n, fs.width
    kernel = bed_kernel()
    missing = out = None
    if is_y is not None:
        sample_masks = _masks([np.ones(n, dtype=bool), male], n)
        which = is_y.astype(np.uint8)  # Y rows count the males only
        missing = np.zeros(sample_masks.shape[1] * 32, dtype=np.int64)
    if groups is not None:
        group_masks = _masks(groups, n)
        out = np.empty((len(groups), 3, fs.m), dtype=np.int64)
    for start, raw in _bed_blocks(fs, block):
        k = raw.shape[0]
        if missing is not None:
            if kernel is not None:
                kernel.missing_counts(raw, k, width, sample_masks, which[start:start + k], missing)
            else:
                _missing_counts_numpy(raw, sample_masks, which[start:start + k], missing)
        if out is not None:
            if kernel is not None:
                kernel.group_counts(raw, k, width, group_masks, out, fs.m, start)
            else:
                _group_counts_numpy(raw, group_masks, out[:, :, start:start + k])
    return (None if missing is None else missing[:n]), out


def _hwe(het: np.ndarray, hom1: np.ndarray, hom2: np.ndarray, midp: bool) -> np.ndarray:
    """Exact-test p-values: the kernel's, else :func:`alignome.genetics.hwe.hwe_exact` (SciPy)."""
    kernel = bed_kernel()
    if kernel is None:
        from alignome.genetics.hwe import hwe_exact

        return hwe_exact(het, hom1, hom2, midp=midp)
    het, hom1, hom2 = (np.ascontiguousarray(a, dtype=np.int64).ravel() for a in (het, hom1, hom2))
    out = np.empty(het.size)
    kernel.hwe(het, hom1, hom2, bool(midp), out)
    return out


# --------------------------------------------------------------------------
# Samples (.fam)
# --------------------------------------------------------------------------

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


def _number(text: str) -> float:
    if "_" in text:  # float() reads 1_0 as 10; a phenotype column does not
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def _samples(fam: list[list[str]], allow_no_sex: bool) -> Samples:
    fid, iid, pat, mat, sexcode = (np.array(column, dtype=object) for column in fam[:5])
    founder = (pat == "0") & (mat == "0")
    sex = np.select([sexcode == "1", sexcode == "2"], [1, 2], 0).astype(np.int8)
    values = np.array([_number(v) for v in fam[5]], dtype=np.float64)
    coded = np.isin(values, [1, 2, 0, -9])
    case_control = bool(coded.all()) and bool(np.isin(values, [1, 2]).any())
    control = ((values == 1) & (allow_no_sex | (sex != 0))) if case_control else np.ones(len(fid), dtype=bool)
    return Samples(fid=fid, iid=iid, founder=founder, control=control, case_control=case_control, sex=sex)


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
    if prefix.suffix in (".bed", ".bim", ".fam"):
        prefix = prefix.with_suffix("")
    path = Path(f"{prefix}.fam")
    if not path.is_file():
        raise DataError("file not found", file=path, field="bfile", fix=PLINK_FIX)
    return _samples(_columns(path, 6, ".fam"), allow_no_sex)


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------

def _data_frame(columns: dict, text: bool = False):
    """A pandas DataFrame of NumPy columns (callables are called); ``text``: object columns as pandas'
    ``str`` dtype even when empty (as a slice of a table's ``str`` column is)."""
    import pandas as pd

    data = {}
    for name, values in columns.items():
        values = values() if callable(values) else values
        data[name] = pd.Series(values, dtype="str") if text and getattr(values, "dtype", None) == object else values
    return pd.DataFrame(data)


class _Table:
    """Columns (name → array) of a table, turned into a pandas DataFrame only when asked."""

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self.columns = columns
        self._frame = None

    def frame(self):
        if self._frame is None:
            self._frame = _data_frame(self.columns)
        return self._frame


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

    Both are pandas DataFrames, built on first access.
    """

    def __init__(self, variants: _Table, samples: _Table) -> None:
        self._variants = variants
        self._samples = samples

    @property
    def variants(self):
        return self._variants.frame()

    @property
    def samples(self):
        return self._samples.frame()


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num), np.asarray(den)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def _sample_table(fs: _Fileset, fam: Samples, is_y: np.ndarray, missing: np.ndarray) -> _Table:
    m = fs.m
    n_geno = np.where(fam.male, m, m - int(is_y.sum()))
    return _Table({"fid": fam.fid, "iid": fam.iid, "n_miss": missing, "n_geno": n_geno,
                   "f_miss": _ratio(missing, n_geno)})


def sample_missingness(prefix: str | Path, block: int = 2048):
    """Per-sample missing-call counts (PLINK ``.imiss``), streamed: a pandas DataFrame.

    Y variants count only for males: a non-male's ``n_geno`` leaves them out.
    """
    fs = read_fileset(prefix)
    fam = _samples(fs.fam, False)
    _, is_y, _ = fs.kinds()
    missing, _ = _scan(fs, block, is_y=is_y, male=fam.male)
    return _sample_table(fs, fam, is_y, missing).frame()


class _FilterTest:
    """The ``--hwe`` filter's p-values (the founder controls' counts), computed when asked for: all of them
    (for the tables), at some variants, or whether each is below a threshold (the kernel settles most of those
    without computing the p-value). Counts equal to the founders' (all of them without case/control data) take
    the founders' p-value; Y and MT have none (NaN: ``--hwe`` does not test them)."""

    def __init__(self, counts: tuple[np.ndarray, ...], founders_p: np.ndarray, differ: np.ndarray,
                 untested: np.ndarray, midp: bool) -> None:
        self.counts = counts  # het, hom1, hom2
        self.founders_p = founders_p
        self.other = np.flatnonzero(differ & ~untested)
        self.untested = untested
        self.midp = midp
        self._values: np.ndarray | None = None

    def values(self) -> np.ndarray:
        if self._values is None:
            p = self.founders_p.copy()
            if self.other.size:
                p[self.other] = _hwe(*(c[self.other] for c in self.counts), self.midp)
            p[self.untested] = np.nan
            self._values = p
        return self._values

    def below(self, threshold: float) -> np.ndarray:
        """``values() < threshold``."""
        kernel = bed_kernel()
        if self._values is not None or kernel is None:
            return self.values() < threshold
        below = self.founders_p < threshold
        if self.other.size:
            het, hom1, hom2 = (np.ascontiguousarray(c[self.other], dtype=np.int64) for c in self.counts)
            out = np.empty(self.other.size, dtype=np.uint8)
            kernel.hwe(het, hom1, hom2, bool(self.midp), out, float(threshold))
            below[self.other] = out.view(bool)
        below[self.untested] = False
        return below

    def at(self, index: np.ndarray) -> np.ndarray:
        """``values()[index]``."""
        if self._values is not None or bed_kernel() is None:
            return self.values()[index]
        p = _hwe(*(c[index] for c in self.counts), self.midp)  # the kernel's p-value of a triple is always the same
        p[self.untested[index]] = np.nan
        return p


def _variant_table(fs: _Fileset, kinds, groups: tuple[np.ndarray, ...], counts: np.ndarray,
                   midp: bool) -> tuple[_Table, _FilterTest]:
    """The statistics of :attr:`QCStats.variants` from the counts of :func:`_scan` over :func:`_groups`, and
    the ``--hwe`` filter's test (its p-values are the table's ``p_hwe_filter``)."""
    is_x, is_y, is_mt = kinds
    sizes = [int(g.sum()) for g in groups]
    miss_all, miss_male = counts[0, 0], counts[1, 0]  # counts: (group, [missing, het, hom A2], variant)
    # hom A1 = the group's size less its missing, het and hom A2 calls
    fn11, fm11, cn11, cm11 = (size - c[0] - c[1] - c[2] for size, c in zip(sizes[2:], counts[2:]))
    fn12, fm12, cn12, cm12 = counts[2:, 1]
    fn22, fm22, cn22, cm22 = counts[2:, 2]
    haploid = is_x | is_y
    zero = np.zeros(fs.m, dtype=np.int64)
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
    n_kept, n_male = int(sizes[0]), int(sizes[1])
    n_miss = np.where(is_y, miss_male, miss_all)
    n_geno = np.where(is_y, n_male, n_kept)
    allele1 = 2 * d11 + d12 + h1
    nchrobs = 2 * (d11 + d12 + d22) + h1 + h2
    freq1 = _ratio(allele1, nchrobs)
    # PLINK 1.9 reports the minor allele as A1 (it swaps alleles when A1 is major).
    swap = freq1 > 0.5
    bim_a1, bim_a2 = np.array(fs.a1, dtype=object), np.array(fs.a2, dtype=object)
    a1 = np.where(swap, bim_a2, bim_a1)
    a2 = np.where(swap, bim_a1, bim_a2)
    maf = np.where(swap, 1 - freq1, freq1)
    hom1_out = np.where(swap, d22, d11)
    hom2_out = np.where(swap, d11, d22)
    geno_ct = d11 + d12 + d22
    o_het = _ratio(d12, geno_ct)
    q = _ratio(2 * hom1_out + d12, 2 * geno_ct)
    e_het = 2 * q * (1 - q)
    o_het[is_mt] = np.nan
    e_het[is_mt] = np.nan
    p_hwe = _hwe(d12, d11, d22, midp)
    p_filter = _FilterTest((c12, c11, c22), p_hwe.copy(), (c11 != d11) | (c12 != d12) | (c22 != d22),
                           is_y | is_mt, midp)
    p_hwe[is_mt] = 0.5 if midp else 1.0
    return _Table({
        "chrom": fs.chrom,  # a list: the reports take it as it is
        "variant": np.array(fs.ids, dtype=object),
        "pos": fs.positions,  # parsed only for the DataFrame
        "a1": a1, "a2": a2,
        "n_miss": n_miss, "n_geno": n_geno, "f_miss": _ratio(n_miss, n_geno),
        "maf": maf, "nchrobs": nchrobs,
        "hom1": hom1_out, "het": d12, "hom2": hom2_out, "o_het": o_het, "e_het": e_het,
        "p_hwe": p_hwe,
        "p_hwe_filter": p_filter.values,  # computed when the table is asked for
    }), p_filter


def variant_stats(prefix: str | Path, keep: np.ndarray | None = None, block: int = 2048,
                  midp: bool = False, allow_no_sex: bool = False):
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

    Returns
    -------
    pandas.DataFrame
        The columns of :attr:`QCStats.variants`.
    """
    fs = read_fileset(prefix)
    fam = _samples(fs.fam, allow_no_sex)
    keep = np.ones(fs.n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    groups = _groups(fam, keep)
    _, counts = _scan(fs, block, groups=groups)
    return _variant_table(fs, fs.kinds(), groups, counts, midp)[0].frame()


# --------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------

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
            self._frames[name] = _data_frame(build(), text)
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
    fam = _samples(fs.fam, allow_no_sex)
    kinds = fs.kinds()
    is_y = kinds[1]
    keep = np.ones(fs.n, dtype=bool)
    if mind is None:  # every sample stays: one read counts both
        groups = _groups(fam, keep)
        missing, counts = _scan(fs, block, is_y=is_y, male=fam.male, groups=groups)
        samples = _sample_table(fs, fam, is_y, missing)
    else:  # the variant counts are over the samples --mind keeps: a second read
        missing, _ = _scan(fs, block, is_y=is_y, male=fam.male)
        samples = _sample_table(fs, fam, is_y, missing)
        s = samples.columns
        keep = s["n_miss"] <= np.floor(mind * s["n_geno"] * (1 + SMALL_EPSILON))
        groups = _groups(fam, keep)
        _, counts = _scan(fs, block, groups=groups)
    stats, hwe_test = _variant_table(fs, kinds, groups, counts, hwe_midp)
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


# --------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------

def _format_g(values: np.ndarray, precision: int, nan_text: str) -> list[str]:
    """``format(x, '.Pg')`` of each value (``nan_text`` where not finite), each distinct value formatted once."""
    values = np.asarray(values, dtype=np.float64)
    spec = f".{precision}g"
    if values.size == 0:
        return []
    if np.signbit(values[values == 0]).any():  # -0.0 prints as -0, but np.unique merges it with 0.0
        return [format(x, spec) if math.isfinite(x) else nan_text for x in values.tolist()]
    unique, inverse = np.unique(values, return_inverse=True)
    text = np.array([format(x, spec) if math.isfinite(x) else nan_text for x in unique.tolist()], dtype=object)
    return text[inverse.ravel()].tolist()


def _rows(columns: list[tuple]) -> bytes:
    """The rows of a text table: row r is, over ``columns``, prefix + cell, then a newline.

    Each column is ``(prefix, kind, data)``: kind ``"s"`` (list of str), ``"c"`` (one str for every row),
    ``"i"`` (integers), ``"g"`` (floats as ``%.4g``, ``NA`` where not finite) or ``"g6"`` (``%.6g``, empty
    where not finite). The kernel's ``text_rows`` writes them where it is built, else Python, the same bytes.
    """
    spec = []
    for prefix, kind, data in columns:
        if kind in ("i", "g", "g6"):
            data = np.ascontiguousarray(data, dtype=np.int64 if kind == "i" else np.float64)
        precision, nan_text = {"g": (4, "NA"), "g6": (6, "")}.get(kind, (0, ""))
        spec.append((prefix, kind[0], data, precision, nan_text))
    kernel = bed_kernel()
    if kernel is not None:
        return kernel.text_rows(spec)
    sizes = [len(data) for _, kind, data, _, _ in spec if kind != "c"]
    n = sizes[0] if sizes else 0
    cells = []
    for _, kind, data, precision, nan_text in spec:
        if kind == "s":
            cells.append(data)
        elif kind == "c":
            cells.append([data] * n)
        elif kind == "i":
            cells.append(list(map(str, data.tolist())))
        else:
            cells.append(_format_g(data, precision, nan_text))
    template = "".join(prefix.replace("%", "%%") + "%s" for prefix, *_ in spec) + "\n"
    return "".join(map(template.__mod__, zip(*cells))).encode()


def _write_table(path: Path, header: str | None, columns: list[tuple]) -> None:
    with open(path, "wb") as handle:
        if header is not None:
            handle.write(f"{header}\n".encode())
        handle.write(_rows(columns))


def _texts(values) -> list[str]:
    return values if isinstance(values, list) else np.asarray(values, dtype=object).tolist()


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
    _write_table(paths["snplist"], None, [("", "s", list(result.kept_variants))])
    for name, mask in (("irem", ~result._keep), ("keep", result._keep)):
        fid, iid = result._sample_ids(mask)
        _write_table(paths[name], None, [("", "s", _texts(fid)), ("\t", "s", _texts(iid))])
    removed = result._removed_variant_columns()
    ids, reasons, values = _texts(removed["variant"]), _texts(removed["reason"]), removed["value"]
    joined = "\n".join(ids)
    if any(c in joined for c in '\t"\r') or joined.count("\n") != max(len(ids) - 1, 0) or np.isinf(values).any():
        import csv  # quoting (and inf) exactly as pandas' to_csv(sep="\t", float_format="%.6g") writes them

        with open(paths["removed.tsv"], "w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["variant", "reason", "value"])
            writer.writerows(zip(ids, reasons, [format(x, ".6g") if not math.isnan(x) else "" for x in values.tolist()]))
    else:
        _write_table(paths["removed.tsv"], "variant\treason\tvalue",
                     [("", "s", ids), ("\t", "s", reasons), ("\t", "g6", values)])
    v = result.stats._variants.columns
    chrom, variant, a1, a2 = _texts(v["chrom"]), _texts(v["variant"]), _texts(v["a1"]), _texts(v["a2"])
    _write_table(paths["hwe"], " CHR SNP TEST A1 A2 GENO O(HET) E(HET) P",
                 [("", "s", chrom), (" ", "s", variant), (" ", "c", "ALL"), (" ", "s", a1), (" ", "s", a2),
                  (" ", "i", v["hom1"]), ("/", "i", v["het"]), ("/", "i", v["hom2"]), (" ", "g", v["o_het"]),
                  (" ", "g", v["e_het"]), (" ", "g", v["p_hwe"])])
    _write_table(paths["frq"], " CHR SNP A1 A2 MAF NCHROBS",
                 [("", "s", chrom), (" ", "s", variant), (" ", "s", a1), (" ", "s", a2), (" ", "g", v["maf"]),
                  (" ", "i", v["nchrobs"])])
    _write_table(paths["lmiss"], " CHR SNP N_MISS N_GENO F_MISS",
                 [("", "s", chrom), (" ", "s", variant), (" ", "i", v["n_miss"]), (" ", "i", v["n_geno"]),
                  (" ", "g", v["f_miss"])])
    s = result.stats._samples.columns
    _write_table(paths["imiss"], " FID IID MISS_PHENO N_MISS N_GENO F_MISS",
                 [("", "s", _texts(s["fid"])), (" ", "s", _texts(s["iid"])), (" ", "c", "N"),
                  (" ", "i", s["n_miss"]), (" ", "i", s["n_geno"]), (" ", "g", s["f_miss"])])
    c = result.counts
    log = [f"{c['mind']} people removed due to missing genotype data (--mind).",
           f"{c['geno']} variants removed due to missing genotype data (--geno).",
           f"--hwe: {c['hwe']} variants removed due to Hardy-Weinberg exact test.",
           f"{c['maf']} variants removed due to minor allele threshold(s) (--maf).",
           f"{c['variants_kept']} variants and {c['samples_kept']} people pass filters and QC."]
    paths["qc.log"].write_text("\n".join(log) + "\n")
    return paths
