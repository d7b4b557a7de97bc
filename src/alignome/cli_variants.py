"""``alignome variants clump`` and ``alignome prs``: PLINK 1.9-exact clumping and scoring."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from alignome.cli_common import command_errors
from alignome.io.writable import check_prefix_writable

variants_app = typer.Typer(no_args_is_help=True, help="Variant-level tools that reproduce PLINK 1.9 and METAL: qc, meta, clump, select.")


def _one_blas_thread() -> None:
    """Have OpenBLAS start one thread when numpy loads (unless it is loaded already).

    Clumping, scoring and QC make no BLAS call that threads would help, and OpenBLAS starts its
    whole thread pool at import, which every short command would pay for.
    """
    if "numpy" not in sys.modules:  # a value the user set is kept
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


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
    _one_blas_thread()
    from alignome.genetics.clump import clump_columns, read_clump_columns, write_clumped  # no pandas

    with command_errors():
        check_prefix_writable(out)
        result = clump_columns(bfile, *read_clump_columns(sumstats, snp_field, p_field), p1=p1, p2=p2, r2=r2, kb=kb)
        path = write_clumped(result, out)
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
    _one_blas_thread()
    from alignome.genetics.score import (  # no pandas
        profile_columns,
        read_score_columns,
        write_profile_columns,
    )

    with command_errors():
        check_prefix_writable(out)
        columns, used = profile_columns(bfile, *read_score_columns(score, header=header), sum_=sum_,
                                        mean_imputation=not no_mean_imputation)
        path = write_profile_columns(columns, out)
    if used.skipped:
        typer.secho(f"warning: {len(used.skipped)} score-file rows skipped (first: {used.skipped[0][0]}: "
                    f"{used.skipped[0][1]})", err=True)
    typer.echo(f"scored {len(columns['IID'])} samples on {len(used.variants)} variants; wrote {path}")


def _parse_columns(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    mapping = {}
    for item in text.split(","):
        if "=" not in item:
            from alignome.errors import ConfigError

            raise ConfigError(f"--columns item '{item}' is not STANDARD=COLUMN", field="columns",
                              fix="e.g. --columns variant=rsid,p=PVAL,effect_allele=EA")
        key, value = item.split("=", 1)
        mapping[key.strip()] = value.strip()
    return mapping


@variants_app.command("qc")
def qc_command(
    bfile: Path = typer.Option(..., "--bfile", help="PLINK 1 binary fileset prefix."),
    out: Path = typer.Option(..., "--out", help="Output prefix: .snplist .irem .keep .removed.tsv .hwe .frq .lmiss .imiss .qc.log"),
    geno: float = typer.Option(None, "--geno", help="Remove variants with missing call rate > this (plink --geno)."),
    mind: float = typer.Option(None, "--mind", help="Remove samples with missing call rate > this (plink --mind)."),
    maf: float = typer.Option(None, "--maf", help="Remove variants with minor allele frequency < this (plink --maf)."),
    hwe: float = typer.Option(None, "--hwe", help="Remove variants with HWE exact-test p < this (plink --hwe)."),
    hwe_midp: bool = typer.Option(False, "--hwe-midp", help="Mid-p exact test (plink --hwe P midp)."),
    allow_no_sex: bool = typer.Option(
        True, "--allow-no-sex/--no-allow-no-sex",
        help="--hwe counts the case/control phenotypes of samples of unknown sex, as plink --allow-no-sex and "
             "plink --make-bed do (default); --no-allow-no-sex ignores them, as a plink run that only writes "
             "--write-snplist does."),
) -> None:
    """Genotype QC with the same answers as PLINK 1.9 (--mind, then --geno, --hwe, --maf).

    Writes the kept variants as PREFIX.snplist (plink --write-snplist), removed samples as
    PREFIX.irem, every removed variant with its reason in PREFIX.removed.tsv, and the
    --missing/--freq/--hardy style reports. X, Y, XY and MT follow PLINK 1.9's rules.

    Examples:

      alignome variants qc --bfile cohort --geno 0.1 --mind 0.1 --maf 0.01 --hwe 1e-6 --out cohort_qc

      plink --bfile cohort --extract cohort_qc.snplist --keep cohort_qc.keep --make-bed --out cohort_clean
    """
    _one_blas_thread()
    from alignome.genetics.qc import run_qc
    from alignome.genetics.qc_reports import write_qc

    with command_errors():
        check_prefix_writable(out)
        result = run_qc(bfile, geno=geno, mind=mind, maf=maf, hwe=hwe, hwe_midp=hwe_midp, allow_no_sex=allow_no_sex)
        paths = write_qc(result, out)
    typer.echo(paths["qc.log"].read_text().rstrip())
    typer.echo(f"wrote {paths['snplist']}, {paths['irem']}, {paths['removed.tsv']}")


@variants_app.command("meta")
def meta_command(
    sumstats: list[Path] = typer.Option(..., "--sumstats", help="Summary-statistics files (repeat, or list after one flag)."),
    out: Path = typer.Option(..., "--out", help="Output prefix; writes PREFIX.meta.tbl (METAL columns)."),
    fmt: str = typer.Option("auto", "--format", help="auto, plink-assoc, plink-qassoc, plink2-glm, metal or tsv."),
    columns: str = typer.Option(None, "--columns", help="For tsv: STANDARD=COLUMN,... e.g. variant=rsid,p=PVAL,beta=B,se=SE"),
    scheme: str = typer.Option("stderr", "--scheme", help="stderr (inverse-variance β, METAL's default) or samplesize (√N-weighted Z)."),
) -> None:
    """Fixed-effect meta-analysis as METAL: SCHEME STDERR (default) or SCHEME SAMPLESIZE.

    Reports beta, SE, Z, p, the direction string (one +/-/? per input file, in input order),
    Cochran's Q, its p and I².

    Examples:

      alignome variants meta --sumstats cohortA.qassoc --sumstats cohortB.glm.linear --out meta

      alignome variants meta --sumstats a.tsv --sumstats b.tsv --format tsv --columns variant=rsid,p=P,beta=B,se=SE,effect_allele=EA,other_allele=NEA --out meta
    """
    from alignome.genetics.meta import meta_analyse, write_metal
    from alignome.genetics.sumstats_io import read_sumstats_file

    with command_errors():
        check_prefix_writable(out)
        mapping = _parse_columns(columns)
        studies = [read_sumstats_file(p, fmt=fmt, columns=mapping, effects_needed=True) for p in sumstats]
        result = meta_analyse(studies, scheme=scheme.lower())
        path = write_metal(result, out)
    for name, bad, skipped in zip(sumstats, result.allele_mismatches, result.skipped_no_se):
        if bad:
            typer.secho(f"warning: {len(bad)} variants of {name} left out: alleles match neither order "
                        f"(first: {bad[0]})", err=True)
        if skipped:
            need = "beta/SE" if result.scheme == "stderr" else "effect sign, p and n"
            typer.secho(f"warning: {skipped} rows of {name} left out: no usable {need}", err=True)
    typer.echo(f"meta-analysed {len(result.table)} variants from {len(studies)} files; wrote {path}")


@variants_app.command("select")
def select_command(
    sumstats: Path = typer.Option(..., "--sumstats", help="Summary statistics (any format `variants meta` reads)."),
    out: Path = typer.Option(..., "--out", help="Output prefix; writes PREFIX.panel.tsv."),
    bfile: Path = typer.Option(None, "--bfile", help="Genotypes: restricts to genotyped variants; LD reference for clumping."),
    top_k: int = typer.Option(None, "--top-k", help="Keep the K variants with the smallest p (paper 000)."),
    p1: float = typer.Option(None, "--p1", help="Clump variants with p <= p1 and keep the index variants (paper 003: 1e-5)."),
    r2: float = typer.Option(0.05, "--r2", help="Clumping r² threshold (--clump-r2)."),
    kb: float = typer.Option(5000, "--kb", help="Clumping window radius in kb (--clump-kb)."),
    fmt: str = typer.Option("auto", "--format", help="auto, plink-assoc, plink-qassoc, plink2-glm, metal or tsv."),
    columns: str = typer.Option(None, "--columns", help="For tsv: STANDARD=COLUMN,... e.g. variant=rsid,p=PVAL"),
) -> None:
    """Choose a variant panel (TSV: variant chrom pos effect_allele p source) that recipes consume.

    Examples:

      alignome variants select --sumstats meta.meta.tbl --bfile cohort --p1 1e-5 --r2 0.05 --kb 5000 --out panel

      alignome variants select --sumstats gwas.assoc --bfile cohort --top-k 1000 --out top1000
    """
    from alignome.genetics.panel import select_panel, write_panel
    from alignome.genetics.sumstats_io import read_sumstats_file

    with command_errors():
        check_prefix_writable(out)
        frame = read_sumstats_file(sumstats, fmt=fmt, columns=_parse_columns(columns))
        result = select_panel(frame, bfile=bfile, top_k=top_k, p1=p1, r2=r2, kb=kb, source=str(sumstats))
        path = write_panel(result.panel, Path(f"{out}.panel.tsv"))
    if result.not_genotyped:
        typer.secho(f"warning: {result.not_genotyped} sumstats variants are not in {bfile}.bim and were not considered",
                    err=True)
    typer.echo(f"{len(result.panel)} variants chosen ({result.rule}) from {result.considered}; wrote {path}")
