"""Polygenic scores equal to PLINK 1.9 ``--score``.

PLINK 1.9's definitions, checked against ``plink1.9 --score`` (tests/test_score_plink.py):

* The score file gives variant id, scored allele and weight (columns 1, 2, 3).
  The scored allele may be A1 or A2 of the ``.bim``; its dosage is 2 − (A1
  count) when it is A2. Rows whose variant is not in the ``.bim`` or whose
  allele is neither A1 nor A2 are skipped (PLINK warns).
* Default (mean imputation): a missing genotype contributes 2·f·w, f being the
  scored allele's frequency over founders with a call; ``SCORE`` =
  Σ w·dosage / (2·M), M the number of scored variants (the same for every
  sample). ``sum``: ``SCORESUM`` = Σ w·dosage.
* ``no-mean-imputation``: missing genotypes contribute nothing and ``SCORE`` =
  Σ w·dosage / CNT. PLINK refuses ``sum`` together with ``no-mean-imputation``.
* ``CNT`` = 2 × number of scored variants called in the sample; ``CNT2`` =
  number of scored alleles observed among them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.errors import ConfigError, DataError
from alignome.genetics.ld import bed_kernel, founder_mask, read_fileset


@dataclass
class ScoreWeights:
    """Weights resolved against a ``.bim``.

    Attributes
    ----------
    variants
        Variant ids kept, in score-file order.
    flip
        True where the scored allele is A2.
    weights
        Per-allele weights.
    skipped
        ``(variant, reason)`` of score-file rows PLINK would skip.
    """

    variants: list[str]
    flip: np.ndarray
    weights: np.ndarray
    skipped: list[tuple[str, str]]


def _read_numeric_weights(path: Path, header: bool) -> pd.DataFrame | None:
    """The score file parsed with numeric weights in one pass (about twice as fast); None if that fails."""
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=0 if header else None, usecols=[0, 1, 2],
                            dtype={0: str, 1: str, 2: np.float64})
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError):
        return None
    frame.columns = ["variant", "allele", "weight"]
    return None if frame["weight"].isna().any() else frame


def read_score_file(path: str | Path, header: bool = False) -> pd.DataFrame:
    """Read a PLINK ``--score`` file: variant, allele, weight (whitespace-separated).

    Returns columns ``variant``, ``allele``, ``weight``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix="give a score file with columns: variant id, allele, weight")
    frame = _read_numeric_weights(path, header)
    if frame is not None:
        weight = frame["weight"]
    else:  # a weight that is not a number, or a malformed file: read as text to say which row
        try:
            frame = pd.read_csv(path, sep=r"\s+", header=0 if header else None, dtype=str, usecols=[0, 1, 2])
        except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError) as exc:
            raise DataError(f"cannot read three whitespace-separated columns ({exc})", file=path,
                            fix="write one 'variant allele weight' row per line") from None
        frame.columns = ["variant", "allele", "weight"]
        weight = pd.to_numeric(frame["weight"], errors="coerce")
    bad = weight.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"weight '{frame['weight'].iloc[row]}' is not a number", file=path, field="column 3",
                        row=row + 1 + int(header), fix="give numeric weights (use header=True / --header if the file has one)")
    frame["weight"] = weight.astype(float)
    dup = frame["variant"].duplicated(keep=False)
    if dup.any():
        first = frame.loc[dup, "variant"].iloc[0]
        raise DataError(f"variant '{first}' appears more than once", file=path, field="column 1",
                        row=int(np.flatnonzero(dup.to_numpy())[0]) + 1 + int(header),
                        fix="keep one row per variant (PLINK 1.9 refuses duplicates too)")
    return frame


def resolve_weights(score: pd.DataFrame, bim: pd.DataFrame) -> ScoreWeights:
    """Match score rows to the ``.bim`` (columns ``a1``, ``a2``, indexed by variant id)."""
    variant = score["variant"].astype(str).to_numpy(dtype=object)
    allele = score["allele"].astype(str).to_numpy(dtype=object)
    weight = score["weight"].to_numpy(dtype=float)
    where = bim.index.get_indexer(pd.Index(variant, dtype=object))
    found = where >= 0
    a1 = np.where(found, bim["a1"].to_numpy(dtype=object)[where], None)
    a2 = np.where(found, bim["a2"].to_numpy(dtype=object)[where], None)
    is_a1 = found & (allele == a1)
    is_a2 = found & ~is_a1 & (allele == a2)
    keep = is_a1 | is_a2
    skipped = []
    for i in np.flatnonzero(~keep):
        if not found[i]:
            skipped.append((variant[i], "not in .bim"))
        else:
            skipped.append((variant[i], f"allele {allele[i]} is neither A1 ({a1[i]}) nor A2 ({a2[i]})"))
    return ScoreWeights(list(variant[keep]), is_a2[keep], weight[keep].astype(float), skipped)


def score_dosages(
    counts: np.ndarray,
    flip: np.ndarray,
    weights: np.ndarray,
    founders: np.ndarray | None = None,
    sum_: bool = False,
    mean_imputation: bool = True,
) -> pd.DataFrame:
    """Scores from A1 allele counts (samples × variants, NaN missing).

    Returns columns ``CNT``, ``CNT2`` and ``SCORE`` (or ``SCORESUM`` with ``sum_``).
    """
    if sum_ and not mean_imputation:
        raise ConfigError("PLINK 1.9 refuses 'sum' together with 'no-mean-imputation'", field="sum",
                          fix="drop --sum or --no-mean-imputation")
    x = np.asarray(counts, dtype=np.float64)
    x = np.where(flip[None, :], 2.0 - x, x)
    missing = np.isnan(x)
    called = ~missing
    rows = np.ones(x.shape[0], dtype=bool) if founders is None else np.asarray(founders, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = np.nansum(x[rows], axis=0) / (2.0 * called[rows].sum(axis=0))
    cnt = 2 * called.sum(axis=1)
    cnt2 = np.where(missing, 0.0, x).sum(axis=1)
    if mean_imputation:
        filled = np.where(missing, 2.0 * np.nan_to_num(freq)[None, :], x)
        total = filled @ weights
        value = total if sum_ else total / (2.0 * x.shape[1])
    else:
        total = np.where(missing, 0.0, x) @ weights
        with np.errstate(invalid="ignore", divide="ignore"):
            value = total / cnt
    name = "SCORESUM" if sum_ else "SCORE"
    return pd.DataFrame({"CNT": cnt.astype(int), "CNT2": np.rint(cnt2).astype(int), name: value})


# byte of a .bed row -> the four samples' A1 counts (missing -> 0) and missing flags
_CODES = np.arange(256)[:, None] >> (2 * np.arange(4))[None, :] & 3
_DOSE = np.array([2.0, 0.0, 1.0, 0.0])[_CODES]
_MISS = (_CODES == 1).astype(np.float64)


def _accumulate_numpy(raw: np.ndarray, weights: np.ndarray, flip: np.ndarray, founders: np.ndarray,
                      mean_imputation: bool, total: np.ndarray, dosage: np.ndarray, missing: np.ndarray) -> None:
    """NumPy twin of the kernel's ``accumulate``: add the rows' per-sample sums to ``total``, ``dosage``, ``missing``.

    The rows (variants × ⌈n/4⌉ bytes) are decoded with a byte look-up table and folded in with
    small matrix products. A called dosage is the A1 count, or 2 − A1 count for a flipped
    (A2-scored) variant; missing calls add w·2f to ``total`` (f: founder frequency of the
    scored allele) with mean imputation and are counted in ``missing``.
    """
    x = np.take(_DOSE, raw, axis=0).reshape(raw.shape[0], -1)  # A1 counts, missing 0
    sign = np.where(flip, -1.0, 1.0)
    # called: dosage = ±A1 count (+2 when flipped); missing calls take the +2 back below
    sums = np.stack([sign * weights, sign]) @ x
    total += sums[0] + 2.0 * float(weights[flip].sum())
    dosage += sums[1] + 2.0 * float(flip.sum())
    has_miss = np.flatnonzero((raw & ~(raw >> 1) & 0x55).any(axis=1))  # code 01: low bit set, high bit clear
    if not has_miss.size:
        return
    m = np.take(_MISS, raw[has_miss], axis=0).reshape(has_miss.size, -1)
    w, f = weights[has_miss], flip[has_miss]
    called_f = float(founders.sum()) - m @ founders
    a1_f = x[has_miss] @ founders
    dose_f = np.where(f, 2.0 * called_f - a1_f, a1_f)
    freq = np.divide(dose_f, 2.0 * called_f, out=np.zeros_like(dose_f), where=called_f > 0)
    fill = 2.0 * freq * w if mean_imputation else np.zeros(has_miss.size)
    fix = np.stack([fill - 2.0 * f * w, -2.0 * f, np.ones(has_miss.size)]) @ m
    total += fix[0]
    dosage += fix[1]
    missing += fix[2]


def _read_rows(handle, positions: np.ndarray, row: int, block: int):
    """Yield ``(lo, raw)``: the ``.bed`` rows of ``positions[lo:lo + block]`` (sorted) as a (k, row) uint8 array."""
    fd = handle.fileno()
    for lo in range(0, positions.size, block):
        pos = positions[lo:lo + block]
        first, last = int(pos[0]), int(pos[-1])
        if last - first + 1 <= 2 * pos.size:  # dense: one read of the range
            raw = np.frombuffer(os.pread(fd, (last - first + 1) * row, 3 + first * row), dtype=np.uint8)
            raw = raw.reshape(-1, row)
            if raw.shape[0] == last - first + 1 and last - first + 1 != pos.size:
                raw = raw[pos - first]
        else:
            raw = np.frombuffer(b"".join(os.pread(fd, row, 3 + int(v) * row) for v in pos), dtype=np.uint8)
            raw = raw.reshape(-1, row)
        if raw.shape[0] != pos.size:
            raise DataError("the .bed file ended early", file=Path(handle.name), fix="re-create the fileset")
        yield lo, raw


def score_bed(bed: str | Path, n_samples: int, positions: np.ndarray, flip: np.ndarray, weights: np.ndarray,
              founders: np.ndarray | None = None, sum_: bool = False, mean_imputation: bool = True,
              block: int | None = None) -> pd.DataFrame:
    """:func:`score_dosages` streamed from a ``.bed``, ``block`` variants at a time.

    Per-sample sums (Σ w·dosage with imputed missing calls, Σ dosage, missing calls) come
    straight from the packed bytes: in the C kernel ``alignome.genetics._bedscore`` (four
    samples per byte, one vector multiply-add per byte and variant) when it is built, else in
    NumPy (byte look-up table and small matrix products, same sums). Memory stays at one
    block whatever the number of scored variants.

    Parameters
    ----------
    bed
        The ``.bed`` (SNP-major, checked by the caller).
    n_samples
        Rows of its ``.fam``.
    positions
        ``.bim`` row of each scored variant; ``flip``, ``weights`` as in
        :class:`ScoreWeights`.
    founders, sum_, mean_imputation
        As in :func:`score_dosages`.
    block
        Variants read at a time (default: about 1 MiB of rows for the kernel, 32 for NumPy).
    """
    if sum_ and not mean_imputation:
        raise ConfigError("PLINK 1.9 refuses 'sum' together with 'no-mean-imputation'", field="sum",
                          fix="drop --sum or --no-mean-imputation")
    n = int(n_samples)
    row = (n + 3) // 4
    kernel = bed_kernel()
    if block is None:
        block = max(32, 2**20 // max(row, 1)) if kernel is not None else 32
    order = np.argsort(positions, kind="stable")  # read the file front to back
    positions = np.asarray(positions, dtype=np.int64)[order]
    flip = np.asarray(flip, dtype=bool)[order]
    weights = np.ascontiguousarray(np.asarray(weights, dtype=np.float64)[order])
    fmask = np.zeros(row * 4)  # founders (give the imputation frequency), padded to whole bytes
    fmask[:n] = True if founders is None else np.asarray(founders, dtype=bool)
    fbytes = fmask.astype(np.uint8)
    total, dosage, missing = np.zeros(row * 4), np.zeros(row * 4), np.zeros(row * 4)
    with open(bed, "rb") as handle:
        for lo, raw in _read_rows(handle, positions, row, block):
            hi = lo + raw.shape[0]
            if kernel is not None:
                kernel.accumulate(raw, raw.shape[0], row, weights[lo:hi], flip[lo:hi].view(np.uint8),
                                  fbytes, mean_imputation, total, dosage, missing)
            else:
                _accumulate_numpy(raw, weights[lo:hi], flip[lo:hi], fmask, mean_imputation, total, dosage, missing)
    total = total[:n]
    cnt = 2 * (positions.size - np.rint(missing[:n]).astype(np.int64))
    if mean_imputation:
        value = total if sum_ else total / (2.0 * positions.size)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            value = total / cnt
    name = "SCORESUM" if sum_ else "SCORE"
    return pd.DataFrame({"CNT": cnt.astype(int), "CNT2": np.rint(dosage[:n]).astype(int), name: value})


def polygenic_score(
    bfile: str | Path,
    score: pd.DataFrame,
    sum_: bool = False,
    mean_imputation: bool = True,
) -> tuple[pd.DataFrame, ScoreWeights]:
    """``plink --bfile BFILE --score FILE [sum] [no-mean-imputation]`` (PLINK 1.9).

    Genotypes are streamed from the ``.bed`` in blocks of variants
    (:func:`score_bed`): memory does not grow with the number of scored variants.

    Parameters
    ----------
    bfile
        PLINK 1 binary fileset prefix.
    score
        Columns ``variant``, ``allele``, ``weight`` (:func:`read_score_file`).
    sum_
        Report ``SCORESUM`` = Σ w·dosage instead of the average.
    mean_imputation
        Impute missing genotypes with 2·(founder allele frequency) (PLINK's default).

    Returns
    -------
    profile, weights
        ``profile`` has PLINK's ``.profile`` columns FID IID PHENO CNT CNT2
        SCORE/SCORESUM; ``weights`` tells which rows were used or skipped.

    Examples
    --------
    >>> profile, used = polygenic_score("cohort", read_score_file("prs.txt"))  # doctest: +SKIP
    """
    bed, fam, variants = read_fileset(bfile)
    resolved = resolve_weights(score, variants)
    if not resolved.variants:
        raise DataError("no score-file variant matched the .bim (by id and allele)", field="variant",
                        fix="check that the score file's ids and alleles match the fileset's .bim")
    positions = variants.index.get_indexer(pd.Index(resolved.variants, dtype=object))
    values = score_bed(bed, len(fam), positions, resolved.flip, resolved.weights, founder_mask(fam), sum_=sum_,
                              mean_imputation=mean_imputation)
    profile = pd.concat([pd.DataFrame({"FID": fam[0].to_numpy(), "IID": fam[1].to_numpy(), "PHENO": fam[5].to_numpy()}),
                         values], axis=1)
    return profile, resolved


def write_profile(profile: pd.DataFrame, out_prefix: str | Path) -> Path:
    """Write ``<out_prefix>.profile`` with PLINK's columns (space-aligned, full precision)."""
    path = Path(f"{out_prefix}.profile")
    path.parent.mkdir(parents=True, exist_ok=True)
    last = profile.columns[-1]
    columns = []
    for c in profile.columns:
        values = profile[c].to_numpy(dtype=object)
        text = [f"{v:.10g}" for v in values] if c == last else [str(v) for v in values]
        width = max(len(str(c)), *(len(t) for t in text)) if text else len(str(c))
        columns.append([str(c).rjust(width)] + [t.rjust(width) for t in text])
    path.write_text("\n".join(" ".join(row) for row in zip(*columns)) + "\n")
    return path
