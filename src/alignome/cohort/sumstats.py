"""Read GWAS summary statistics for variant ranking."""

from __future__ import annotations

import pandas as pd

from alignome.cohort.tables import numeric, read_table
from alignome.cohort.sources import SumstatsSource
from alignome.errors import DataError


def read_sumstats(source: SumstatsSource) -> pd.DataFrame:
    """Read summary statistics into columns ``variant`` (str), ``p`` (float) and,
    when present, ``effect_allele`` and ``beta``; rows keep file order.

    Raises
    ------
    DataError
        Missing column, non-numeric p or beta, p outside (0, 1], duplicated variant.
    """
    table = read_table(source.path, "sumstats", source.columns, ["variant", "p"], ["effect_allele", "beta"],
                       id_columns=("variant",))
    frame = table.frame
    out = pd.DataFrame({"variant": frame["variant"], "p": numeric(table, "p")})
    if table.has("effect_allele"):
        out["effect_allele"] = frame["effect_allele"]
    if table.has("beta"):
        out["beta"] = numeric(table, "beta")
    missing = out["variant"].isna()
    if missing.any():
        raise DataError("missing variant id", file=table.path, field=table.user("variant"),
                        row=int(out.index[missing][0]) + 1, fix="fill in or remove the row")
    from alignome.genetics.select import check_pvalues

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
