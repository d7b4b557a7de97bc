"""The statistics of genotype QC (PLINK ``--missing``, ``--freq``, ``--hardy``) from the call counts.

The rules they follow on X, Y, XY and MT are those of :mod:`alignome.genetics.qc`. Tables are columns of
NumPy arrays (:class:`ColumnTable`); pandas is imported only when a DataFrame is asked for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignome.genetics.qc_counts import hwe_p, sample_groups, scan
from alignome.genetics.qc_samples import Samples, fam_samples
from alignome.io.fields import bed_kernel
from alignome.io.plink_fileset import Fileset, read_fileset


def data_frame(columns: dict, text: bool = False):
    """A pandas DataFrame of NumPy columns (callables are called); ``text``: object columns as pandas'
    ``str`` dtype even when empty (as a slice of a table's ``str`` column is)."""
    import pandas as pd

    data = {}
    for name, values in columns.items():
        values = values() if callable(values) else values
        data[name] = pd.Series(values, dtype="str") if text and getattr(values, "dtype", None) == object else values
    return pd.DataFrame(data)


class ColumnTable:
    """Columns (name → array) of a table, turned into a pandas DataFrame only when asked."""

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self.columns = columns
        self._frame = None

    def frame(self):
        if self._frame is None:
            self._frame = data_frame(self.columns)
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

    def __init__(self, variants: ColumnTable, samples: ColumnTable) -> None:
        self._variants = variants
        self._samples = samples

    @property
    def variants(self):
        return self._variants.frame()

    @property
    def samples(self):
        return self._samples.frame()


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num), np.asarray(den)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def sample_table(fs: Fileset, fam: Samples, is_y: np.ndarray, missing: np.ndarray) -> ColumnTable:
    m = fs.m
    n_geno = np.where(fam.male, m, m - int(is_y.sum()))
    return ColumnTable({"fid": fam.fid, "iid": fam.iid, "n_miss": missing, "n_geno": n_geno,
                   "f_miss": ratio(missing, n_geno)})


def sample_missingness(prefix: str | Path, block: int = 2048):
    """Per-sample missing-call counts (PLINK ``.imiss``), streamed: a pandas DataFrame.

    Y variants count only for males: a non-male's ``n_geno`` leaves them out.
    """
    fs = read_fileset(prefix)
    fam = fam_samples(fs.fam, False)
    _, is_y, _ = fs.kinds()
    missing, _ = scan(fs, block, is_y=is_y, male=fam.male)
    return sample_table(fs, fam, is_y, missing).frame()


class FilterTest:
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
                p[self.other] = hwe_p(*(c[self.other] for c in self.counts), self.midp)
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
        p = hwe_p(*(c[index] for c in self.counts), self.midp)  # the kernel's p-value of a triple is always the same
        p[self.untested[index]] = np.nan
        return p


def variant_table(fs: Fileset, kinds, groups: tuple[np.ndarray, ...], counts: np.ndarray,
                   midp: bool) -> tuple[ColumnTable, FilterTest]:
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
    freq1 = ratio(allele1, nchrobs)
    # PLINK 1.9 reports the minor allele as A1 (it swaps alleles when A1 is major).
    swap = freq1 > 0.5
    bim_a1, bim_a2 = np.array(fs.a1, dtype=object), np.array(fs.a2, dtype=object)
    a1 = np.where(swap, bim_a2, bim_a1)
    a2 = np.where(swap, bim_a1, bim_a2)
    maf = np.where(swap, 1 - freq1, freq1)
    hom1_out = np.where(swap, d22, d11)
    hom2_out = np.where(swap, d11, d22)
    geno_ct = d11 + d12 + d22
    o_het = ratio(d12, geno_ct)
    q = ratio(2 * hom1_out + d12, 2 * geno_ct)
    e_het = 2 * q * (1 - q)
    o_het[is_mt] = np.nan
    e_het[is_mt] = np.nan
    p_hwe = hwe_p(d12, d11, d22, midp)
    p_filter = FilterTest((c12, c11, c22), p_hwe.copy(), (c11 != d11) | (c12 != d12) | (c22 != d22),
                           is_y | is_mt, midp)
    p_hwe[is_mt] = 0.5 if midp else 1.0
    return ColumnTable({
        "chrom": fs.chrom,  # a list: the reports take it as it is
        "variant": np.array(fs.ids, dtype=object),
        "pos": fs.positions,  # parsed only for the DataFrame
        "a1": a1, "a2": a2,
        "n_miss": n_miss, "n_geno": n_geno, "f_miss": ratio(n_miss, n_geno),
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
    fam = fam_samples(fs.fam, allow_no_sex)
    keep = np.ones(fs.n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    groups = sample_groups(fam, keep)
    _, counts = scan(fs, block, groups=groups)
    return variant_table(fs, fs.kinds(), groups, counts, midp)[0].frame()
