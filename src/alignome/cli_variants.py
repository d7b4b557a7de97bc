"""``alignome variants clump`` and ``alignome prs``: PLINK 1.9-exact clumping and scoring."""

from __future__ import annotations

from pathlib import Path

import typer

from alignome.errors import AlignomeError

variants_app = typer.Typer(no_args_is_help=True, help="Variant-level tools that reproduce PLINK 1.9 (clumping).")


def _fail(exc: AlignomeError) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@variants_app.command("clump")
def clump_command(
    bfile: Path = typer.Option(..., "--bfile", help="PLINK 1 binary fileset prefix (LD reference)."),
    sumstats: Path = typer.Option(..., "--sumstats", help="Association report with variant and p-value columns."),
    out: Path = typer.Option(..., "--out", help="Output prefix; writes PREFIX.clumped."),
    p1: float = typer.Option(1e-4, "--p1", help="Index variants need p <= p1 (--clump-p1)."),
    p2: float = typer.Option(1e-2, "--p2", help="Clump members are listed when p < p2 (--clump-p2)."),
    r2: float = typer.Option(0.5, "--r2", help="Variants join a clump when r² > r2 (--clump-r2)."),
    kb: float = typer.Option(250, "--kb", help="Window radius in kb (--clump-kb)."),
    snp_field: str = typer.Option("SNP", "--snp-field", help="Variant id column (--clump-snp-field)."),
    p_field: str = typer.Option("P", "--p-field", help="P-value column (--clump-field)."),
) -> None:
    """Clump association results exactly as `plink --clump` (PLINK 1.9) does.

    r² comes from EM-estimated two-locus haplotype frequencies, as in PLINK.

    Examples:

      alignome variants clump --bfile ref --sumstats gwas.assoc --out gwas

      alignome variants clump --bfile ref --sumstats gwas.tsv --p1 1e-5 --r2 0.05 --kb 5000 --out top
    """
    from alignome.genetics.clump import clump, read_clump_sumstats, write_clumped

    try:
        result = clump(bfile, read_clump_sumstats(sumstats, snp_field, p_field), p1=p1, p2=p2, r2=r2, kb=kb)
        path = write_clumped(result, out)
    except AlignomeError as exc:
        _fail(exc)
        return
    for variant, p in result.missing[:3]:
        typer.secho(f"warning: '{variant}' (p={p:g}) is missing from {bfile}.bim, and is a top variant", err=True)
    if len(result.missing) > 3:
        typer.secho(f"warning: {len(result.missing) - 3} more top variants missing from the .bim", err=True)
    typer.echo(f"{len(result.clumps)} clumps formed from {result.index_candidates} top variants; wrote {path}")


def prs_command(
    bfile: Path = typer.Option(..., "--bfile", help="PLINK 1 binary fileset prefix."),
    score: Path = typer.Option(..., "--score", help="Score file: variant id, allele, weight (whitespace-separated)."),
    out: Path = typer.Option(..., "--out", help="Output prefix; writes PREFIX.profile."),
    sum_: bool = typer.Option(False, "--sum", help="Report SCORESUM = Σ w·dosage instead of the average."),
    no_mean_imputation: bool = typer.Option(False, "--no-mean-imputation",
                                            help="Missing genotypes add nothing (average over called alleles)."),
    header: bool = typer.Option(False, "--header", help="The score file has a header line."),
) -> None:
    """Polygenic score equal to `plink --score FILE` (with its `sum` and `no-mean-imputation` modifiers).

    SCORE = Σ w·dosage / (2·M) with missing genotypes imputed as 2·frequency.

    Examples:

      alignome prs --bfile cohort --score weights.txt --out cohort_prs

      alignome prs --bfile cohort --score weights.txt --sum --out cohort_prs
    """
    from alignome.genetics.score import polygenic_score, read_score_file, write_profile

    try:
        profile, used = polygenic_score(bfile, read_score_file(score, header=header), sum_=sum_,
                                        mean_imputation=not no_mean_imputation)
        path = write_profile(profile, out)
    except AlignomeError as exc:
        _fail(exc)
        return
    if used.skipped:
        typer.secho(f"warning: {len(used.skipped)} score-file rows skipped (first: {used.skipped[0][0]}: "
                    f"{used.skipped[0][1]})", err=True)
    typer.echo(f"scored {len(profile)} samples on {len(used.variants)} variants; wrote {path}")
