"""Fixed-effect meta-analysis as METAL: ``SCHEME STDERR`` (inverse variance, with ``ANALYZE
HETEROGENEITY``) or ``SCHEME SAMPLESIZE`` (sample-size weighted Z-scores).

For a variant seen in studies i with effects β_i and standard errors s_i:
w_i = 1/s_i², β = Σ w_i β_i / Σ w_i, SE = (Σ w_i)^-1/2, Z = β/SE,
p = 2 Φ(−|Z|); Cochran's Q = Σ w_i (β_i − β)², its p from χ²(k − 1) and
I² = max(0, (Q − (k − 1)) / Q) · 100 (percent, as METAL's ``HetISq``).
With ``SCHEME SAMPLESIZE`` each study's p-value becomes a signed Z-score,
z_i = sign(β_i) Φ⁻¹(1 − p_i/2), weighted by w_i = √N_i: Z = Σ w_i z_i / √(Σ w_i²),
p = 2 Φ(−|Z|), ``n`` (METAL's ``Weight``) = Σ N_i; it needs per-variant sample
sizes but no standard errors, and reports no β, SE or heterogeneity.
The direction string has one character per input study, in input order:
``+``, ``-``, ``0`` (β = 0) or ``?`` (variant absent from that study).

Alleles: the first study carrying a variant fixes (effect, other); a later
study with the alleles exchanged has its β negated; one whose alleles match
neither order is left out for that variant (``?``) and counted in
``MetaResult.allele_mismatches`` — nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from alignome.errors import DataError


@dataclass
class MetaResult:
    """Meta-analysis table and bookkeeping.

    Attributes
    ----------
    table
        One row per variant (first-seen order): ``variant``, ``chrom``, ``pos``,
        ``effect_allele``, ``other_allele``, ``beta``, ``se``, ``z``, ``p``,
        ``direction``, ``q``, ``het_df``, ``het_p``, ``i2``, ``n_studies``, ``n``.
    allele_mismatches
        Per study (input order): variants left out because their alleles did not match.
    skipped_no_se
        Per study: rows without a usable beta/SE (missing, SE ≤ 0) — for
        ``samplesize``, without a usable effect sign, p or n — left out.
    scheme
        ``stderr`` or ``samplesize``.
    """

    table: pd.DataFrame
    allele_mismatches: list[list[str]] = field(default_factory=list)
    skipped_no_se: list[int] = field(default_factory=list)
    scheme: str = "stderr"


def _alleles(values, missing: str) -> np.ndarray:
    """Allele codes as an object array with ``missing`` where a code is absent."""
    values = np.asarray(values, dtype=object)
    return np.where(pd.isna(values), missing, values).astype(object)


def meta_analyse(studies: list[pd.DataFrame], scheme: str = "stderr") -> MetaResult:
    """Fixed-effect meta-analysis of standard sumstats frames (input order kept).

    Parameters
    ----------
    studies
        Frames as :func:`alignome.genetics.sumstats_io.read_sumstats_file` returns.
    scheme
        ``"stderr"`` (inverse-variance weighted β, METAL's default) or
        ``"samplesize"`` (√N-weighted Z-scores from p-values and effect signs).

    Raises
    ------
    DataError
        Fewer than one study; for ``stderr`` a study without ``beta``/``se``
        values, for ``samplesize`` one without ``p``, effect signs or ``n``.
    """
    if scheme not in ("stderr", "samplesize"):
        raise DataError(f"unknown meta-analysis scheme '{scheme}'", field="scheme", fix="use stderr or samplesize")
    if not studies:
        raise DataError("no summary statistics to meta-analyse", fix="give at least one file")
    first_seen: dict[str, int] = {}
    info: list[tuple] = []
    for study in studies:
        for v, c, pos, ea, oa in zip(study["variant"], study["chrom"], study["pos"], study["effect_allele"],
                                     study["other_allele"]):
            if v not in first_seen:
                first_seen[v] = len(info)
                info.append((v, c, pos, ea, oa))
    m, k = len(info), len(studies)
    B = np.full((m, k), np.nan)
    S = np.full((m, k), np.nan)
    N = np.full((m, k), np.nan)
    P = np.full((m, k), np.nan)
    mismatches: list[list[str]] = []
    skipped: list[int] = []
    ref_ea = np.array([r[3] for r in info], dtype=object)
    ref_oa = np.array([r[4] for r in info], dtype=object)
    for j, study in enumerate(studies):
        beta = study["beta"].to_numpy(dtype=float)
        se = study["se"].to_numpy(dtype=float)
        pval = study["p"].to_numpy(dtype=float)
        n_obs = study["n"].to_numpy(dtype=float)
        if scheme == "samplesize":
            _check_samplesize_inputs(study, beta, pval, n_obs)
            se = np.ones_like(beta)  # unused by this scheme; keeps the usable-row rule below
        elif not np.isfinite(beta).any() or not np.isfinite(se).any():
            raise DataError("the study has no beta/SE values, which SCHEME STDERR needs",
                            file=study.attrs.get("file"), field="beta" if not np.isfinite(beta).any() else "se",
                            fix="give a file with effect sizes and standard errors (e.g. PLINK .qassoc or .glm)")
        rows = np.array([first_seen[v] for v in study["variant"]], dtype=np.intp)
        # a missing allele (None, NaN or pd.NA, by reader) never equals another one
        ea = _alleles(study["effect_allele"], "\0study")
        oa = _alleles(study["other_allele"], "\0study")
        rea, roa = _alleles(ref_ea[rows], "\0ref"), _alleles(ref_oa[rows], "\0ref")
        same = (ea == rea) & ((oa == roa) | (oa == "\0study") | (roa == "\0ref"))
        swapped = (ea == roa) & (oa == rea)
        unknown = (ea == "\0study") & (rea == "\0ref")
        ok = same | swapped | unknown
        mismatches.append([str(v) for v in study["variant"].to_numpy()[~ok]])
        usable = ok & np.isfinite(beta) & np.isfinite(se) & (se > 0)
        if scheme == "samplesize":
            usable &= np.isfinite(pval) & (pval > 0) & (pval <= 1) & np.isfinite(n_obs) & (n_obs > 0)
        skipped.append(int((ok & ~usable).sum()))
        B[rows[usable], j] = np.where(swapped[usable], -beta[usable], beta[usable])
        S[rows[usable], j] = se[usable]
        N[rows[usable], j] = n_obs[usable]
        P[rows[usable], j] = pval[usable]
    present = np.isfinite(B)
    if scheme == "samplesize":
        return MetaResult(table=_samplesize_table(info, ref_ea, ref_oa, B, P, N, present),
                          allele_mismatches=mismatches, skipped_no_se=skipped, scheme=scheme)
    W = 1.0 / S**2
    sw = np.where(present, W, 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(present, W * B, 0).sum(axis=1) / sw
        se = np.sqrt(1.0 / sw)
        z = beta / se
        p = 2 * stats.norm.sf(np.abs(z))
        q = np.where(present, W * (B - beta[:, None]) ** 2, 0).sum(axis=1)
        n_studies = present.sum(axis=1)
        df = n_studies - 1
        het_p = np.where(df > 0, stats.chi2.sf(q, np.maximum(df, 1)), 1.0)
        i2 = np.where(q > df, (q - df) / q * 100.0, 0.0)
    symbols = np.where(~present, "?", np.where(B > 0, "+", np.where(B < 0, "-", "0")))
    direction = ["".join(row) for row in symbols]
    table = pd.DataFrame({
        "variant": [r[0] for r in info], "chrom": [r[1] for r in info], "pos": [r[2] for r in info],
        "effect_allele": ref_ea, "other_allele": ref_oa, "beta": beta, "se": se, "z": z, "p": p,
        "direction": direction, "q": q, "het_df": df, "het_p": het_p, "i2": i2, "n_studies": n_studies,
        "n": np.where(np.isfinite(N), N, 0).sum(axis=1),
    })
    table = table[n_studies > 0].reset_index(drop=True)
    return MetaResult(table=table, allele_mismatches=mismatches, skipped_no_se=skipped)


def _check_samplesize_inputs(study: pd.DataFrame, beta: np.ndarray, pval: np.ndarray, n_obs: np.ndarray) -> None:
    """A clear error when a study lacks what SCHEME SAMPLESIZE needs."""
    for name, values, fix in (
        ("p", pval, "give a file with p-values"),
        ("beta", beta, "give a file with effect sizes (their signs give the direction)"),
        ("n", n_obs, "give a file with per-variant sample sizes (PLINK NMISS / OBS_CT, or map n=COLUMN), "
                     "or use SCHEME STDERR"),
    ):
        if not np.isfinite(values).any():
            raise DataError(f"the study has no {name} values, which SCHEME SAMPLESIZE needs",
                            file=study.attrs.get("file"), field=name, fix=fix)


def _samplesize_table(info: list[tuple], ref_ea: np.ndarray, ref_oa: np.ndarray, B: np.ndarray, P: np.ndarray,
                      N: np.ndarray, present: np.ndarray) -> pd.DataFrame:
    """METAL SCHEME SAMPLESIZE: √N-weighted signed Z-scores of the harmonised studies."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z_i = np.sign(B) * stats.norm.isf(P / 2.0)
        w = np.sqrt(N)
        num = np.where(present, w * z_i, 0).sum(axis=1)
        den = np.sqrt(np.where(present, N, 0).sum(axis=1))
        z = num / den
        p = 2 * stats.norm.sf(np.abs(z))
    n_studies = present.sum(axis=1)
    symbols = np.where(~present, "?", np.where(B > 0, "+", np.where(B < 0, "-", "0")))
    nan = np.full(len(info), np.nan)
    table = pd.DataFrame({
        "variant": [r[0] for r in info], "chrom": [r[1] for r in info], "pos": [r[2] for r in info],
        "effect_allele": ref_ea, "other_allele": ref_oa, "beta": nan, "se": nan, "z": z, "p": p,
        "direction": ["".join(row) for row in symbols], "q": nan, "het_df": n_studies - 1, "het_p": nan,
        "i2": nan, "n_studies": n_studies, "n": np.where(present, N, 0).sum(axis=1),
    })
    return table[n_studies > 0].reset_index(drop=True)


def write_metal(result: MetaResult, out: str | Path) -> Path:
    """Write ``OUT.meta.tbl`` with METAL's columns (alleles lower case), readable by
    :func:`alignome.genetics.sumstats_io.read_sumstats_file` (format ``metal``).

    ``SCHEME SAMPLESIZE`` results get METAL's ``Weight`` and ``Zscore`` columns
    instead of ``Effect``, ``StdErr`` and the heterogeneity columns."""
    path = Path(f"{out}.meta.tbl")
    path.parent.mkdir(parents=True, exist_ok=True)
    t = result.table

    def lower(allele: object) -> str:
        return allele.lower() if isinstance(allele, str) else "NA"

    def fmt(column: str, spec: str) -> pd.Series:
        return t[column].map(lambda x: format(x, spec))

    head = {"MarkerName": t["variant"], "Allele1": t["effect_allele"].map(lower), "Allele2": t["other_allele"].map(lower)}
    if result.scheme == "samplesize":
        body = {"Weight": fmt("n", ".6g"), "Zscore": fmt("z", ".6g"), "P-value": fmt("p", ".6g"),
                "Direction": t["direction"]}
    else:
        body = {"Effect": fmt("beta", ".6g"), "StdErr": fmt("se", ".6g"), "P-value": fmt("p", ".6g"),
                "Direction": t["direction"], "HetISq": fmt("i2", ".1f"), "HetChiSq": fmt("q", ".3f"),
                "HetDf": t["het_df"], "HetPVal": fmt("het_p", ".4g")}
    place = {"CHR": t["chrom"].fillna("NA"), "BP": t["pos"].map(lambda x: "NA" if pd.isna(x) else str(int(x)))}
    pd.DataFrame({**head, **body, **place}).to_csv(path, sep="\t", index=False)
    return path
