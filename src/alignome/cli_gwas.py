"""``alignome gwas``: single- or multi-trait GWAS of phenotypes/embeddings on a PLINK fileset.

Registered in :mod:`alignome.cli` as the command ``alignome gwas``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import typer

from alignome.cli_common import command_errors, exit_with_error
from alignome.errors import DataError
from alignome.io.writable import check_prefix_writable

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
    genetic_pcs: int = typer.Option(0, "--genetic-pcs", help="Add the top K genetic PCs (streamed randomised PCA) as covariates."),
    pca_seed: int = typer.Option(0, "--pca-seed", help="Seed of the randomised PCA sketch."),
    trained_on: Optional[Path] = typer.Option(
        None, "--trained-on", help="Sample IDs the embeddings were trained on (one per line, or a table with IID): warn on overlap."),
    exclude_trained: bool = typer.Option(False, "--exclude-trained", help="Drop the --trained-on samples from the GWAS."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Dask backend: threads, processes, or a dask.distributed address (tcp://host:8786)."),
    threads: Optional[int] = typer.Option(
        None, "--threads", help="Worker threads over variant blocks (default: all usable cores; BLAS kept at one)."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Manhattan and QQ plots (PNG) with λGC."),
    loci: bool = typer.Option(True, "--loci/--no-loci", help="Clump hits into independent loci ({out}.loci.tsv)."),
    clump_p1: float = typer.Option(5e-8, "--clump-p1", help="Significance of index variants (genome-wide)."),
    clump_r2: float = typer.Option(0.05, "--clump-r2", help="LD r² threshold for clumping (paper 003: 0.05)."),
    clump_kb: float = typer.Option(5000, "--clump-kb", help="Clumping window in kb (paper 003: 5000 = 5 Mb)."),
    known_loci: Optional[Path] = typer.Option(
        None, "--known-loci", help="Known disease loci: lead variants (ID or CHROM/POS) or summary statistics (clumped)."),
    known_window_kb: float = typer.Option(250.0, "--known-window-kb", help="A known locus is recovered by a hit within ± this many kb (0: the lead variant itself)."),
    out: Path = typer.Option(Path("gwas"), "--out", help="Output prefix (TSV + Parquet)."),
) -> None:
    """Run a GWAS and write PLINK2-style result tables.

    Example: alignome gwas --bfile data/sim/genotypes --pheno emb.tsv --embedding-pcs 4 --covar covar.tsv --out runs/gwas/emb
    """
    from alignome.gwas.report import report_gwas
    from alignome.gwas.run import scan_gwas
    from alignome.gwas.traits import read_ids, read_trait_table

    if mode not in ("multi", "single"):
        exit_with_error(f"--mode must be multi or single, got {mode!r}")
    if method not in ("lrt", "ml", "wilks") or missing not in ("drop", "mean"):
        exit_with_error("--method must be lrt|ml|wilks and --missing drop|mean")
    cols = [c for item in (pheno_cols or []) for c in item.split(",") if c] or None
    with command_errors():
        check_prefix_writable(out)
        ph = read_trait_table(pheno, "phenotype", cols)
        if embedding_pcs is not None:
            from alignome.gwas.phenotypes import embedding_phenotypes

            ph = embedding_phenotypes(ph.to_frame(), embedding_pcs)
        cv = None if covar is None else read_trait_table(covar, "covariate")
        train = None if trained_on is None else read_ids(trained_on)
        if exclude_trained and train is None:
            raise DataError("--exclude-trained needs --trained-on FILE", field="trained-on",
                            fix="give the file of training sample IDs")
        known = None
        if known_loci is not None:  # a bad file fails before the scan
            from alignome.gwas.loci import read_known_loci

            known = read_known_loci(known_loci, bfile, p1=clump_p1, r2=clump_r2, kb=clump_kb)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the overlap is reported below
            scan = scan_gwas(bfile, ph, cv, mode=mode, method=method, block_size=block_size, missing=missing,
                             genetic_pcs=genetic_pcs, pca_seed=pca_seed, trained_on=train,
                             exclude_trained=exclude_trained, scheduler=scheduler, threads=threads, out=out)
        report = report_gwas(scan, bfile, out, plots=plots, loci=loci, p1=clump_p1, r2=clump_r2, kb=clump_kb,
                             known_loci=known, window_kb=known_window_kb)
    typer.echo(scan.samples.describe())
    for skipped in scan.skipped:
        typer.echo(skipped.describe())
    if scan.trained is not None:
        typer.echo(scan.trained.describe())
    pcs = scan.genetic_pcs
    if pcs is not None:
        typer.echo(f"{genetic_pcs} genetic PCs (randomised PCA on {pcs.n_variants} variants, seed {pca_seed}) "
                   f"added as covariates GPC1..GPC{genetic_pcs}; written to {out}.eigenvec")
    lam = ", ".join(f"{k} {v:.3f}" for k, v in report["lambda_gc"].items())
    typer.echo(f"λGC: {lam}")
    if "n_loci" in report:
        typer.echo(f"independent loci at P < {clump_p1:g} (clump r² {clump_r2:g}, {clump_kb:g} kb): "
                   + ", ".join(f"{k} {v}" for k, v in report["n_loci"].items()) + f" → {out}.loci.tsv")
    for name, rec in report.get("recovery", {}).items():
        typer.echo(f"known loci recovered ({name}, ±{known_window_kb:g} kb): genome-wide {rec.recovered_genome_wide}/"
                   f"{rec.n_known} ({rec.fraction_genome_wide:.1%}), Bonferroni P < {rec.bonferroni_threshold:.3g} "
                   f"{rec.recovered_bonferroni}/{rec.n_known} ({rec.fraction_bonferroni:.1%})")
    best = scan.smallest_p()
    top = "" if best is None else f"; smallest P {best[0]:.3g} at {best[1]}"
    typer.echo(f"{mode}-trait GWAS of {len(scan.traits)} trait(s) on {scan.n_variants} variants written to {out}.*{top}")
