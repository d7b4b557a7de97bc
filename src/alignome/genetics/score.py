"""Polygenic scores equal to PLINK 1.9 ``--score``.

PLINK 1.9's definitions, checked against ``plink1.9 --score`` (tests/genetics/test_score_plink.py):

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

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from alignome.errors import ConfigError, DataError
from alignome.io.fields import bed_kernel, file_line
from alignome.io.plink_fileset import founder_mask, read_fileset

if TYPE_CHECKING:
    import pandas as pd

# Neither pandas nor SciPy is imported on the path of ``alignome prs`` (read_score_columns →
# profile_columns → write_profile_columns); the DataFrame functions import pandas when called.


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


_SCORE_FIX = "write one 'variant allele weight' row per line"


def _weight(text: str) -> float:
    """A weight as pandas' float parser reads it (NaN where it is not a number)."""
    if "_" in text:  # float() reads 1_0 as 10; pandas does not
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_score_columns(path: str | Path, header: bool = False) -> tuple[list[str], list[str], np.ndarray]:
    """:func:`read_score_file` without pandas: the ``variant`` and ``allele`` columns (lists of str) and the
    ``weight`` column (float64), with the same checks and errors.

    Blank lines are skipped and columns after the third ignored; with ``header``, the first line is a header.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix="give a score file with columns: variant id, allele, weight")
    data = path.read_bytes()
    kernel = bed_kernel()
    columns = kernel.text_columns(data, 3) if kernel is not None and b"_" not in data else None
    weight = None
    if columns is not None and columns[0]:  # plain ASCII, three fields on every line
        variant, allele, text = (column[1:] for column in columns) if header else columns
        try:
            weight = np.fromiter(map(float, text), dtype=np.float64, count=len(text))
        except ValueError:
            weight = None
        if weight is not None and np.isnan(weight).any():
            weight = None
    if weight is None:  # another layout, or a weight that is not a number: split here to say which row
        try:
            lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise DataError(f"cannot read three whitespace-separated columns ({exc})", file=path,
                            fix=_SCORE_FIX) from None
        rows = [fields for fields in (line.split() for line in lines) if fields]
        if not rows:
            raise DataError("cannot read three whitespace-separated columns (empty file)", file=path, fix=_SCORE_FIX)
        if len(rows[0]) < 3:
            raise DataError(f"cannot read three whitespace-separated columns (the first line has {len(rows[0])})",
                            file=path, fix=_SCORE_FIX)
        rows = rows[int(header):]
        variant = [r[0] for r in rows]
        allele = [r[1] if len(r) > 1 else "nan" for r in rows]
        text = [r[2] if len(r) > 2 else "nan" for r in rows]
        weight = np.fromiter(map(_weight, text), dtype=np.float64, count=len(text))
        bad = np.flatnonzero(np.isnan(weight))
        if bad.size:
            row = int(bad[0])
            raise DataError(f"weight '{text[row]}' is not a number", file=path, field="column 3",
                            row=file_line(path, row + int(header)),
                            fix="give numeric weights (use header=True / --header if the file has one)")
    if len(set(variant)) != len(variant):
        seen: dict[str, int] = {}
        for v in variant:
            seen[v] = seen.get(v, 0) + 1
        row = next(i for i, v in enumerate(variant) if seen[v] > 1)
        raise DataError(f"variant '{variant[row]}' appears more than once", file=path, field="column 1",
                        row=file_line(path, row + int(header)), fix="keep one row per variant (PLINK 1.9 refuses duplicates too)")
    return variant, allele, weight


def read_score_file(path: str | Path, header: bool = False):
    """Read a PLINK ``--score`` file: variant, allele, weight (whitespace-separated).

    Returns a pandas DataFrame with columns ``variant``, ``allele``, ``weight``
    (:func:`read_score_columns` gives the columns without pandas).
    """
    import pandas as pd

    variant, allele, weight = read_score_columns(path, header)
    return pd.DataFrame({"variant": pd.Series(variant, dtype=str), "allele": pd.Series(allele, dtype=str),
                         "weight": weight})


def _resolve(variant, allele, weight: np.ndarray, index: dict[str, int], a1, a2) -> tuple[ScoreWeights, np.ndarray]:
    """Match score rows to the ``.bim`` (``index``: variant id → row; ``a1``, ``a2``: its allele columns).

    Returns the :class:`ScoreWeights` and the ``.bim`` row of each kept variant."""
    variant = np.asarray(variant, dtype=object)
    allele = np.asarray(allele, dtype=object)
    weight = np.asarray(weight, dtype=float)
    get = index.get
    where = np.fromiter((get(v, -1) for v in variant.tolist()), dtype=np.int64, count=variant.size)
    found = where >= 0
    a1 = np.asarray(a1, dtype=object)
    a2 = np.asarray(a2, dtype=object)
    a1 = np.where(found, a1[where] if a1.size else None, None)
    a2 = np.where(found, a2[where] if a2.size else None, None)
    is_a1 = found & (allele == a1)
    is_a2 = found & ~is_a1 & (allele == a2)
    keep = is_a1 | is_a2
    skipped = []
    for i in np.flatnonzero(~keep):
        if not found[i]:
            skipped.append((variant[i], "not in .bim"))
        else:
            skipped.append((variant[i], f"allele {allele[i]} is neither A1 ({a1[i]}) nor A2 ({a2[i]})"))
    return ScoreWeights(list(variant[keep]), is_a2[keep], weight[keep].astype(float), skipped), where[keep]


def resolve_weights(score, bim) -> ScoreWeights:
    """Match score rows (a DataFrame: ``variant``, ``allele``, ``weight``) to the ``.bim`` (a DataFrame: columns
    ``a1``, ``a2``, indexed by variant id)."""
    variant = score["variant"].astype(str).to_numpy(dtype=object)
    allele = score["allele"].astype(str).to_numpy(dtype=object)
    weight = score["weight"].to_numpy(dtype=float)
    index = {v: i for i, v in enumerate(bim.index.tolist())}
    return _resolve(variant, allele, weight, index, bim["a1"].to_numpy(dtype=object),
                    bim["a2"].to_numpy(dtype=object))[0]


def score_dosages(
    counts: np.ndarray,
    flip: np.ndarray,
    weights: np.ndarray,
    founders: np.ndarray | None = None,
    sum_: bool = False,
    mean_imputation: bool = True,
) -> pd.DataFrame:
    """Scores from A1 allele counts (samples × variants, NaN missing).

    Returns a pandas DataFrame with columns ``CNT``, ``CNT2`` and ``SCORE`` (or ``SCORESUM`` with ``sum_``).
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
    import pandas as pd

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
    """:func:`score_dosages` streamed from a ``.bed``, ``block`` variants at a time (a pandas DataFrame;
    :func:`score_bed_columns` gives its columns without pandas).

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
    import pandas as pd

    return pd.DataFrame(score_bed_columns(bed, n_samples, positions, flip, weights, founders, sum_=sum_,
                                          mean_imputation=mean_imputation, block=block))


def score_bed_columns(bed: str | Path, n_samples: int, positions: np.ndarray, flip: np.ndarray, weights: np.ndarray,
                      founders: np.ndarray | None = None, sum_: bool = False, mean_imputation: bool = True,
                      block: int | None = None) -> dict[str, np.ndarray]:
    """:func:`score_bed`'s columns ``CNT``, ``CNT2`` and ``SCORE`` (or ``SCORESUM``) as NumPy arrays."""
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
    return {"CNT": cnt.astype(int), "CNT2": np.rint(dosage[:n]).astype(int), name: value}


def profile_columns(bfile: str | Path, variant, allele, weight, sum_: bool = False,
                    mean_imputation: bool = True) -> tuple[dict[str, list], ScoreWeights]:
    """:func:`polygenic_score` without pandas: the score file's columns (:func:`read_score_columns`) in, the
    ``.profile`` columns (name → list or array, in PLINK's order) and the :class:`ScoreWeights` out."""
    fs = read_fileset(bfile)
    index = {v: i for i, v in enumerate(fs.ids)}
    resolved, positions = _resolve(variant, allele, weight, index, fs.a1, fs.a2)
    if not resolved.variants:
        raise DataError("no score-file variant matched the .bim (by id and allele)", field="variant",
                        fix="check that the score file's ids and alleles match the fileset's .bim")
    values = score_bed_columns(fs.bed, fs.n, positions, resolved.flip, resolved.weights, founder_mask(fs.fam),
                               sum_=sum_, mean_imputation=mean_imputation)
    return {"FID": fs.fam[0], "IID": fs.fam[1], "PHENO": fs.fam[5], **values}, resolved


def polygenic_score(
    bfile: str | Path,
    score,
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
        A pandas DataFrame with columns ``variant``, ``allele``, ``weight`` (:func:`read_score_file`).
    sum_
        Report ``SCORESUM`` = Σ w·dosage instead of the average.
    mean_imputation
        Impute missing genotypes with 2·(founder allele frequency) (PLINK's default).

    Returns
    -------
    profile, weights
        ``profile`` (a pandas DataFrame) has PLINK's ``.profile`` columns FID IID PHENO CNT CNT2
        SCORE/SCORESUM; ``weights`` tells which rows were used or skipped. :func:`profile_columns`
        gives the same without pandas.

    Examples
    --------
    >>> profile, used = polygenic_score("cohort", read_score_file("prs.txt"))  # doctest: +SKIP
    """
    import pandas as pd

    variant = score["variant"].astype(str).to_numpy(dtype=object)
    allele = score["allele"].astype(str).to_numpy(dtype=object)
    columns, resolved = profile_columns(bfile, variant, allele, score["weight"].to_numpy(dtype=float), sum_=sum_,
                                        mean_imputation=mean_imputation)
    profile = pd.DataFrame({name: np.asarray(values, dtype=object) if name in ("FID", "IID", "PHENO") else values
                            for name, values in columns.items()})
    return profile, resolved


def _profile_text(columns: list[tuple[str, list]]) -> str:
    """PLINK's ``.profile`` text: every column right-aligned to its widest cell, the last one (the score) as
    ``%.10g``; ``columns`` are (name, list of Python values)."""
    last = len(columns) - 1
    lines = []
    for k, (name, values) in enumerate(columns):
        text = [f"{v:.10g}" for v in values] if k == last else [str(v) for v in values]
        width = max(len(str(name)), *(len(t) for t in text)) if text else len(str(name))
        lines.append([str(name).rjust(width)] + [t.rjust(width) for t in text])
    return "\n".join(" ".join(row) for row in zip(*lines)) + "\n"


def write_profile_columns(columns: dict, out_prefix: str | Path) -> Path:
    """:func:`write_profile` of :func:`profile_columns`' columns (no pandas); the same bytes."""
    path = Path(f"{out_prefix}.profile")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_profile_text([(name, values.tolist() if isinstance(values, np.ndarray) else list(values))
                                   for name, values in columns.items()]))
    return path


def write_profile(profile: pd.DataFrame, out_prefix: str | Path) -> Path:
    """Write ``<out_prefix>.profile`` with PLINK's columns (space-aligned, full precision)."""
    path = Path(f"{out_prefix}.profile")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_profile_text([(c, list(profile[c].to_numpy(dtype=object))) for c in profile.columns]))
    return path
