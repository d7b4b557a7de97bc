"""Choose the variants a model sees: the top-k by GWAS p-value among those genotyped.

:func:`read_sumstats` reads the summary statistics that rank them (a table with a variant id and a
p-value per row); :func:`select_top_variants` picks the top k.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignome.errors import DataError
from alignome.io.tables import numeric, read_table


P_FIX = "give p-values (not -log10 p) between 0 (excluded) and 1; drop rows without a p-value"


def check_pvalues(sumstats: pd.DataFrame, file: str | Path | None = None, field: str = "p") -> None:
    """Raise :class:`DataError` unless every ``p`` is a number in (0, 1].

    Parameters
    ----------
    sumstats
        Table with a ``p`` column; the row named is the index + 1 (the file line for a table of
        :func:`read_sumstats`, :attr:`alignome.io.tables.Table.frame`).
    file, field
        Named in the error message.
    """
    p = pd.to_numeric(sumstats["p"], errors="coerce").to_numpy(dtype=float)
    bad = ~((p > 0) & (p <= 1))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"p-value '{sumstats['p'].iloc[position]}' is not a number in (0, 1] ({int(bad.sum())} such row(s))",
            file=file,
            field=field,
            row=int(sumstats.index[position]) + 1,
            fix=P_FIX,
        )


def read_sumstats(path: str | Path, columns: dict[str, str] | None = None,
                  options: dict[str, str] | None = None) -> pd.DataFrame:
    """Read summary statistics into columns ``variant`` (str), ``p`` (float) and, when present,
    ``effect_allele`` and ``beta``; rows keep file order.

    Parameters
    ----------
    path
        CSV/TSV/whitespace/Parquet table (:func:`alignome.io.tables.read_table`).
    columns
        alignome name (``variant``, ``p``, ``effect_allele``, ``beta``) -> the file's column name;
        a name not given is looked up under its own name.
    options
        alignome name -> the command-line option that names its column, for the fix of a missing column
        (:func:`alignome.io.tables.read_table`).

    Raises
    ------
    DataError
        Missing column, non-numeric p or beta, p outside (0, 1], duplicated variant.
    """
    table = read_table(Path(path), "sumstats", dict(columns or {}), ["variant", "p"], ["effect_allele", "beta"],
                       id_columns=("variant",), options=options)
    frame = table.frame
    out = pd.DataFrame({"variant": frame["variant"], "p": numeric(table, "p", fix=P_FIX)})
    if table.has("effect_allele"):
        out["effect_allele"] = frame["effect_allele"]
    if table.has("beta"):
        out["beta"] = numeric(table, "beta")
    missing = out["variant"].isna()
    if missing.any():
        raise DataError("missing variant id", file=table.path, field=table.user("variant"),
                        row=int(out.index[missing][0]) + 1, fix="fill in or remove the row")
    check_pvalues(out, file=table.path, field=table.user("p"))
    dup = out["variant"].duplicated(keep=False)
    if dup.any():
        first = out.loc[dup, "variant"].iloc[0]
        rows = [int(i) + 1 for i in out.index[out["variant"] == first]]
        raise DataError(
            f"variant '{first}' appears more than once (rows {rows[:5]})",
            file=table.path,
            field=table.user("variant"),
            row=rows[0],
            fix="keep one row per variant (e.g. the one for the genotyped allele)",
        )
    return out


def select_top_variants(
    sumstats: pd.DataFrame | None,
    available: pd.Index,
    k: int | None,
    *,
    file: str | Path | None = None,
) -> list[str]:
    """The ``k`` genotyped variants with the smallest p-values.

    Parameters
    ----------
    sumstats
        Columns ``variant`` and ``p``, in file order (ties in p keep file
        order), or ``None`` when no summary statistics were given.
    available
        Variant ids present in the genotypes.
    k
        How many to keep; ``None`` keeps all (ranked by p when sumstats are given).
    file
        The sumstats file, for error messages.

    Returns
    -------
    list of str
        Variant ids, most significant first (file order of ``available``
        without sumstats). Fewer than ``k`` when fewer sumstats variants are
        genotyped; see :func:`count_not_genotyped`.

    Raises
    ------
    DataError
        A p-value outside (0, 1], or no sumstats while more than ``k`` variants
        are available.
    """
    if sumstats is None:
        if k is None or len(available) <= k:
            return [str(v) for v in available]
        raise DataError(
            f"the genotypes hold {len(available)} variants but n_snps = {k} and no summary statistics were given to rank them",
            field="data.sumstats",
            fix="give `sumstats: {path: ...}` in the recipe's data section (columns variant and p),"
            f" or raise method.n_snps to {len(available)}",
        )
    check_pvalues(sumstats, file=file)
    p = pd.to_numeric(sumstats["p"], errors="coerce")
    ranked = pd.DataFrame({"variant": sumstats["variant"].astype(str).to_numpy(), "p": p.to_numpy(dtype=float)})
    ranked = ranked[ranked["variant"].isin(pd.Index(available).astype(str))]
    ranked = ranked.sort_values("p", kind="stable").drop_duplicates("variant")
    chosen = ranked["variant"].tolist()
    return chosen if k is None else chosen[:k]


def count_not_genotyped(sumstats: pd.DataFrame, available: pd.Index) -> int:
    """How many distinct sumstats variants are absent from the genotypes."""
    variants = pd.Index(sumstats["variant"].astype(str).unique())
    return int((~variants.isin(pd.Index(available).astype(str))).sum())
