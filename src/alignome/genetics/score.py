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

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort.genotypes import open_plink
from alignome.errors import ConfigError, DataError


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


def read_score_file(path: str | Path, header: bool = False) -> pd.DataFrame:
    """Read a PLINK ``--score`` file: variant, allele, weight (whitespace-separated).

    Returns columns ``variant``, ``allele``, ``weight``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix="give a score file with columns: variant id, allele, weight")
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=0 if header else None, dtype=str, usecols=[0, 1, 2],
                            engine="python")
    except (pd.errors.EmptyDataError, ValueError) as exc:
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
    variants, flips, weights, skipped = [], [], [], []
    for variant, allele, weight in zip(score["variant"], score["allele"], score["weight"]):
        if variant not in bim.index:
            skipped.append((variant, "not in .bim"))
            continue
        a1, a2 = bim.at[variant, "a1"], bim.at[variant, "a2"]
        if allele == a1:
            flips.append(False)
        elif allele == a2:
            flips.append(True)
        else:
            skipped.append((variant, f"allele {allele} is neither A1 ({a1}) nor A2 ({a2})"))
            continue
        variants.append(variant)
        weights.append(float(weight))
    return ScoreWeights(variants, np.asarray(flips, dtype=bool), np.asarray(weights, dtype=float), skipped)


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


def polygenic_score(
    bfile: str | Path,
    score: pd.DataFrame,
    sum_: bool = False,
    mean_imputation: bool = True,
) -> tuple[pd.DataFrame, ScoreWeights]:
    """``plink --bfile BFILE --score FILE [sum] [no-mean-imputation]`` (PLINK 1.9).

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
    geno = open_plink(Path(bfile))
    resolved = resolve_weights(score, geno.variants)
    if not resolved.variants:
        raise DataError("no score-file variant matched the .bim (by id and allele)", field="variant",
                        fix="check that the score file's ids and alleles match the fileset's .bim")
    fam = pd.read_csv(Path(str(geno.path)[:-4] + ".fam"), sep=r"\s+", header=None, dtype=str)
    present = set(zip(fam[0], fam[1]))
    founders = ~np.array([(f, p) in present or (f, m) in present for f, p, m in zip(fam[0], fam[2], fam[3])])
    positions = geno.variants.index.get_indexer(pd.Index(resolved.variants))
    counts = geno.reader(positions.astype(np.intp)).astype(np.float64)
    values = score_dosages(counts, resolved.flip, resolved.weights, founders, sum_=sum_, mean_imputation=mean_imputation)
    profile = pd.concat([pd.DataFrame({"FID": fam[0].to_numpy(), "IID": fam[1].to_numpy(), "PHENO": fam[5].to_numpy()}),
                         values], axis=1)
    return profile, resolved


def write_profile(profile: pd.DataFrame, out_prefix: str | Path) -> Path:
    """Write ``<out_prefix>.profile`` with PLINK's columns (space-aligned, full precision)."""
    path = Path(f"{out_prefix}.profile")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = profile.copy()
    last = text.columns[-1]
    text[last] = [f"{v:.10g}" for v in text[last]]
    widths = {c: max(len(str(c)), *(len(str(v)) for v in text[c])) for c in text.columns}
    lines = [" ".join(str(c).rjust(widths[c]) for c in text.columns)]
    for row in text.itertuples(index=False):
        lines.append(" ".join(str(v).rjust(widths[c]) for c, v in zip(text.columns, row)))
    path.write_text("\n".join(lines) + "\n")
    return path
