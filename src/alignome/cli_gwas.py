"""``alignome gwas``: single- or multi-trait GWAS of phenotypes/embeddings on a PLINK fileset.

Registered in :mod:`alignome.cli` as the command ``alignome gwas``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from alignome.errors import AlignomeError, DataError

def _read_table(path: Path, what: str, columns: list[str] | None = None):
    """Read a whitespace/tab/comma table with an IID (or #IID) column."""
    import pandas as pd

    if not path.is_file():
        raise DataError("file not found", file=path, fix=f"give an existing {what} file")
    try:
        frame = pd.read_csv(path, sep=None, engine="python", na_values=["NA", "NaN", "nan", ""])
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot parse the {what} table: {exc}", file=path,
                        fix="write a header line with IID and one column per value") from None
    frame.columns = [str(c) for c in frame.columns]
    iid = next((c for c in ("IID", "#IID") if c in frame.columns), None)
    if iid is None:
        raise DataError(f"no IID column; columns are {list(frame.columns)[:10]}", file=path, field="IID",
                        fix="name the sample-id column IID (as in a plink2 .psam/--pheno file)")
    frame = frame.rename(columns={iid: "IID"}).drop(columns=[c for c in ("FID", "#FID") if c in frame.columns])
    frame["IID"] = frame["IID"].astype(str)
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"column(s) {missing} not in the {what} table; available: {list(frame.columns)[:20]}",
                            file=path, field=missing[0], fix="pick columns from the table's header")
        frame = frame[["IID", *columns]]
    bad = [c for c in frame.columns if c != "IID" and not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(f"non-numeric column(s) {bad[:5]}", file=path, field=bad[0],
                        fix="choose numeric columns with --pheno-cols, or encode categories as 0/1")
    return frame.set_index("IID")


def gwas(
    bfile: Path = typer.Option(..., "--bfile", help="PLINK 1 binary prefix (.bed/.bim/.fam)."),
    pheno: Path = typer.Option(..., "--pheno", help="Phenotype or embedding table with an IID column."),
    pheno_cols: Optional[list[str]] = typer.Option(
        None, "--pheno-cols", help="Columns to use (repeat or comma-separate); default: all but FID/IID."),
    covar: Optional[Path] = typer.Option(None, "--covar", help="Covariate table with an IID column."),
    embedding_pcs: Optional[int] = typer.Option(
        None, "--embedding-pcs", help="Treat the columns as an embedding: test its top D PCs, inverse-normal transformed."),
    mode: str = typer.Option("multi", "--mode", help="multi: one joint D-trait test; single: plink2 --glm per trait."),
    method: str = typer.Option("lrt", "--method", help="Multi-trait statistic: lrt (paper 003), ml or wilks."),
    block_size: int = typer.Option(1000, "--block-size", help="Variants read from the .bed at a time."),
    missing: str = typer.Option("drop", "--missing", help="Missing genotypes: drop (per variant, as plink2) or mean."),
    out: Path = typer.Option(Path("gwas"), "--out", help="Output prefix (TSV + Parquet)."),
) -> None:
    """Run a GWAS and write PLINK2-style result tables.

    Example: alignome gwas --bfile data/sim/genotypes --pheno emb.tsv --embedding-pcs 4 --covar covar.tsv --out runs/gwas/emb
    """
    from alignome.gwas.phenotypes import embedding_phenotypes
    from alignome.gwas.run import run_gwas

    if mode not in ("multi", "single"):
        typer.secho(f"error: --mode must be multi or single, got {mode!r}", err=True)
        raise typer.Exit(code=2)
    if method not in ("lrt", "ml", "wilks") or missing not in ("drop", "mean"):
        typer.secho("error: --method must be lrt|ml|wilks and --missing drop|mean", err=True)
        raise typer.Exit(code=2)
    cols = [c for item in (pheno_cols or []) for c in item.split(",") if c] or None
    try:
        ph = _read_table(pheno, "phenotype", cols)
        if embedding_pcs is not None:
            ph = embedding_phenotypes(ph, embedding_pcs)
        cv = None if covar is None else _read_table(covar, "covariate")
        result = run_gwas(bfile, ph, cv, mode=mode, method=method, block_size=block_size, missing=missing, out=out)
    except AlignomeError as exc:
        typer.secho(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    match = result.attrs["samples"]
    typer.echo(f"{match.describe()}")
    n_var = result["ID"].nunique()
    best = result.nsmallest(1, "P")
    top = "" if best.empty else f"; smallest P {best['P'].iloc[0]:.3g} at {best['ID'].iloc[0]}"
    typer.echo(f"{mode}-trait GWAS of {ph.shape[1]} trait(s) on {n_var} variants written to {out}.*{top}")
