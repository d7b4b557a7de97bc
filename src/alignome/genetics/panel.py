"""Variant panels: the variants a recipe's genotype encoder sees, chosen from summary statistics.

Two rules, as the papers use them:

* ``top_k`` (paper 000): the K variants with the smallest p (ties keep file
  order), restricted to those in the ``.bim`` when one is given.
* threshold + clumping (paper 003): variants with p ≤ ``p1`` clumped with
  PLINK 1.9 ``--clump`` semantics (``r2``, ``kb``; LD from the ``.bim`` fileset);
  the panel holds the index variants (paper 003: p < 1e-5, r² < 0.05, 5 Mb).

A panel file is a TSV with the header ``variant chrom pos effect_allele p source``, plus a
``beta`` column (the effect of ``effect_allele`` in the summary statistics) when they carry effects:
the GEMCONT genotype projector is initialised from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.errors import ConfigError, DataError

PANEL_COLUMNS = ["variant", "chrom", "pos", "effect_allele", "p", "source"]
EFFECT_COLUMN = "beta"


def panel_effects(frame: pd.DataFrame) -> np.ndarray:
    """The :data:`EFFECT_COLUMN` of a panel-like table as float64: NaN where an effect is missing or not a
    number, all NaN without the column."""
    if EFFECT_COLUMN not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[EFFECT_COLUMN], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass
class PanelResult:
    """A panel and how it was chosen.

    Attributes
    ----------
    panel
        :data:`PANEL_COLUMNS` and :data:`EFFECT_COLUMN` (NA where the sumstats carry no effect), most
        significant first.
    rule
        ``top_k`` or ``clump``.
    considered
        Sumstats rows considered (after restricting to the ``.bim``).
    not_genotyped
        Sumstats variants absent from the ``.bim`` (0 without a ``.bim``).
    """

    panel: pd.DataFrame
    rule: str
    considered: int
    not_genotyped: int


def select_panel(
    sumstats: pd.DataFrame,
    *,
    bfile: str | Path | None = None,
    top_k: int | None = None,
    p1: float | None = None,
    r2: float = 0.05,
    kb: float = 5000,
    source: str = "",
) -> PanelResult:
    """Choose a variant panel by top-K p or by p-threshold + PLINK clumping.

    Parameters
    ----------
    sumstats
        Standard frame (``variant``, ``p``; ``chrom``, ``pos``, ``effect_allele`` used when present).
    bfile
        PLINK fileset: restricts to genotyped variants (top-K), LD reference (clumping; required).
    top_k
        Keep the K smallest p-values. Exclusive with ``p1``.
    p1, r2, kb
        Clumping thresholds (``--clump-p1``, ``--clump-r2``, ``--clump-kb``); p2 = p1.
    source
        Written to the ``source`` column (e.g. the sumstats file).
    """
    if (top_k is None) == (p1 is None):
        raise ConfigError("choose exactly one rule: top_k, or p1 (with r2 and kb) for clumping",
                          field="top_k/p1", fix="e.g. --top-k 1000, or --p1 1e-5 --r2 0.05 --kb 5000")
    frame = sumstats.reset_index(drop=True)
    not_genotyped = 0
    bim = None
    if bfile is not None:
        from alignome.genetics.harmonise import read_bim

        bim = read_bim(bfile)
        inside = frame["variant"].astype(str).isin(bim.index)
        not_genotyped = int((~inside).sum())
        frame = frame[inside].reset_index(drop=True)
    if top_k is not None:
        if top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {top_k}", field="top_k", fix="e.g. --top-k 1000")
        chosen = frame.sort_values("p", kind="stable").head(top_k)
        rule = "top_k"
    else:
        if bfile is None:
            raise ConfigError("clumping needs an LD reference", field="bfile",
                              fix="give --bfile PREFIX (the genotypes the panel is for)")
        from alignome.genetics.clump import clump

        result = clump(bfile, frame[["variant", "p"]], p1=p1, p2=p1, r2=r2, kb=kb)
        order = {c.index: i for i, c in enumerate(result.clumps)}
        chosen = frame[frame["variant"].isin(order)].copy()
        chosen["_order"] = chosen["variant"].map(order)
        chosen = chosen.sort_values("_order").drop(columns="_order")
        rule = "clump"
    panel = pd.DataFrame({"variant": chosen["variant"].astype(str).to_numpy()})
    for name in ("chrom", "pos", "effect_allele"):
        values = chosen[name].to_numpy(dtype=object) if name in chosen.columns else np.full(len(chosen), pd.NA)
        if bim is not None and name in ("chrom", "pos"):
            fill = bim.loc[panel["variant"], name].to_numpy(dtype=object)
            values = np.where(pd.isna(values), fill, values)
        panel[name] = values
    panel["pos"] = pd.to_numeric(panel["pos"], errors="coerce").astype("Int64")
    panel["p"] = chosen["p"].to_numpy(dtype=float)
    panel["source"] = source
    panel[EFFECT_COLUMN] = panel_effects(chosen)
    return PanelResult(panel=panel, rule=rule, considered=len(frame), not_genotyped=not_genotyped)


def write_panel(panel: pd.DataFrame, path: str | Path) -> Path:
    """Write a panel TSV (:data:`PANEL_COLUMNS`, and :data:`EFFECT_COLUMN` when any effect is known; NA for
    unknown fields)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    has_effects = not np.isnan(panel_effects(panel)).all()
    columns = PANEL_COLUMNS + [EFFECT_COLUMN] if has_effects else PANEL_COLUMNS
    panel[columns].to_csv(path, sep="\t", index=False, na_rep="NA", float_format="%.6g")
    return path


def read_panel(path: str | Path) -> pd.DataFrame:
    """Read a panel TSV written by :func:`write_panel` (or by hand: ``variant`` is the one needed column).

    Returns :data:`PANEL_COLUMNS` and :data:`EFFECT_COLUMN` (float, NaN where the file has none).

    Raises
    ------
    DataError
        Missing file or ``variant`` column, duplicated variants, p outside (0, 1].
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("panel file not found", file=path, fix="write one with `alignome variants select ... --out`")
    frame = pd.read_csv(path, sep="\t", dtype={"variant": str, "chrom": str, "effect_allele": str, "source": str},
                        keep_default_na=True)
    if "variant" not in frame.columns:
        raise DataError(f"no 'variant' column; header: {list(frame.columns)}", file=path, field="variant",
                        fix=f"give a tab-separated file with header {' '.join(PANEL_COLUMNS)}")
    dup = frame["variant"].duplicated()
    if dup.any():
        raise DataError(f"variant '{frame['variant'][dup].iloc[0]}' is listed twice", file=path, field="variant",
                        row=int(np.flatnonzero(dup)[0]) + 2, fix="list each variant once")  # file line
    for name in PANEL_COLUMNS:
        if name not in frame.columns:
            frame[name] = pd.NA
    if frame["p"].notna().any():
        p = pd.to_numeric(frame["p"], errors="coerce")
        bad = frame["p"].notna() & ~((p > 0) & (p <= 1))
        if bad.any():
            raise DataError(f"p-value '{frame['p'][bad].iloc[0]}' not in (0, 1]", file=path, field="p",
                            row=int(np.flatnonzero(bad)[0]) + 2, fix="give p-values in (0, 1] or NA")
    frame["pos"] = pd.to_numeric(frame["pos"], errors="coerce").astype("Int64")
    numbers = panel_effects(frame)
    if EFFECT_COLUMN in frame.columns:
        bad = np.flatnonzero(frame[EFFECT_COLUMN].notna().to_numpy() & np.isnan(numbers))
        if bad.size:
            raise DataError(f"effect '{frame[EFFECT_COLUMN].iloc[bad[0]]}' is not a number", file=path,
                            field=EFFECT_COLUMN, row=int(bad[0]) + 2, fix="give each effect as a number, or NA")
    frame[EFFECT_COLUMN] = numbers
    return frame[PANEL_COLUMNS + [EFFECT_COLUMN]]
