"""Command line: every command is a thin wrapper over a library function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from alignome.cli_common import INTERRUPTED, command_errors
from alignome.cli_gwas import gwas as gwas_command
from alignome.cli_variants import prs_command, variants_app
from alignome.io.writable import check_writable

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="alignome: align genotypes with brain phenotypes by contrastive learning, evaluate, discover.",
)
simulate_app = typer.Typer(no_args_is_help=True, help="Write simulated cohorts with known ground truth.")
app.add_typer(simulate_app, name="simulate")
app.add_typer(variants_app, name="variants")
app.command("gwas")(gwas_command)
app.command("prs")(prs_command)


def _report(message: str) -> None:
    """Print a command's closing message on stderr with rich (imported here, so commands that never print skip it)."""
    from rich.console import Console

    Console(stderr=True).print(message)


@simulate_app.command("ad-cohort")
def simulate_ad_cohort_cmd(
    out: Path = typer.Option(..., "--out", help="Directory to write the cohort into."),
    subjects: int = typer.Option(844, "--subjects", help="Number of subjects."),
    seed: int = typer.Option(0, "--seed", help="Random seed; same seed, same bytes."),
    shared_signal: float = typer.Option(
        0.0, "--shared-signal",
        help="Direct genotype effects on medial-temporal volumes and atrophy rate: 0 = none (negative control), "
        "1 = published APOE-ε4 size.",
    ),
) -> None:
    """Simulate an ADNI-like cohort: genotypes, visits, FreeSurfer-like volumes, sumstats, truth.

    Example: alignome simulate ad-cohort --out data/sim --subjects 844 --seed 0 --shared-signal 1
    """
    from alignome.simulate.ad_cohort import simulate_ad_cohort

    with command_errors():
        path = simulate_ad_cohort(check_writable(out), subjects=subjects, seed=seed, shared_signal=shared_signal)
    _report(f"simulated cohort written to {path} (data section: {Path(path) / 'cohort.yaml'})")


@simulate_app.command("mri3d")
def simulate_mri3d_cmd(
    out: Path = typer.Option(..., "--out", help="Directory to write the cohort into."),
    subjects: int = typer.Option(24, "--subjects", help="Number of subjects."),
    visits_min: int = typer.Option(2, "--visits-min", help="Fewest visits per subject."),
    visits_max: int = typer.Option(4, "--visits-max", help="Most visits per subject."),
    voxel_mm: float = typer.Option(4.0, "--voxel-mm", help="Isotropic voxel size in mm: 4 (CI), 2 or 1."),
    seed: int = typer.Option(0, "--seed", help="Random seed; same seed, same bytes."),
    jobs: int = typer.Option(2, "--jobs", help="Worker processes."),
    raw: bool = typer.Option(False, "--raw", help="Write raw-looking heads (skull, neck, misregistration, bias, "
                             "scanner grid); the clean MNI-space scans go to clean/."),
) -> None:
    """Simulate a longitudinal 3D T1 MRI cohort (NIfTI + manifest + truth) with known atrophy.

    Example: alignome simulate mri3d --out data/mri3d --subjects 24 --voxel-mm 4 --seed 0
    """
    from alignome.simulate.mri3d import simulate_mri3d

    with command_errors():
        path = simulate_mri3d(
            check_writable(out), subjects=subjects, visits=(visits_min, visits_max), voxel_mm=voxel_mm, seed=seed,
            jobs=jobs, raw=raw,
        )
    _report(f"simulated 3D MRI cohort written to {path} (data section: {Path(path) / 'cohort.yaml'})")


@simulate_app.command("mm-cohort")
def simulate_mm_cohort_cmd(
    out: Path = typer.Option(..., "--out", help="Directory to write the cohort into."),
    subjects: int = typer.Option(48, "--subjects", help="Number of subjects."),
    voxel_mm: float = typer.Option(3.0, "--voxel-mm", help="Voxel size in mm over a 192 mm field: 3 (the paper's 64³), 6 (32³), 12 (16³)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; same seed, same bytes."),
    jobs: int = typer.Option(2, "--jobs", help="Worker processes."),
) -> None:
    """Simulate paired 3D T1 + fALFF sessions (NIfTI + manifest + truth) with shared and fALFF-only AD latents.

    Example: alignome simulate mm-cohort --out data/mm --subjects 48 --seed 0
    """
    from alignome.simulate.falff3d import simulate_mm_cohort

    with command_errors():
        path = simulate_mm_cohort(check_writable(out), subjects=subjects, seed=seed, voxel_mm=voxel_mm, jobs=jobs)
    _report(f"simulated T1 + fALFF cohort written to {path} (data section: {Path(path) / 'cohort.yaml'})")


@simulate_app.command("mri3d-calibration")
def simulate_mri3d_calibration_cmd(
    truth: Optional[Path] = typer.Option(
        None, "--truth", help="A truth.csv written by `simulate mri3d`; default: draw a cohort's truth without images."),
    subjects: int = typer.Option(1000, "--subjects", help="Subjects to draw when no --truth is given."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the drawn cohort and the cross-validation."),
) -> None:
    """Print the simulated brain's oracle AD-vs-CN AUC and annual-change table next to the published ranges.

    Example: alignome simulate mri3d-calibration --subjects 1000 --seed 0
    """
    from alignome.simulate.mri3d_calibration import format_calibration, mri3d_calibration, read_truth, truth_without_images

    with command_errors():
        table = read_truth(truth) if truth is not None else truth_without_images(subjects, seed=seed)
        typer.echo(format_calibration(mri3d_calibration(table, seed=seed)))


@app.command("run")
def run_cmd(
    recipe: Path = typer.Argument(..., help="Recipe YAML, e.g. recipes/ad-gated-fusion.yaml or recipes/longitudinal-mri.yaml."),
    preset: Optional[str] = typer.Option(None, "--preset", help="Preset in the recipe: quick, paper, ..."),
    data: Optional[Path] = typer.Option(None, "--data", help="Directory with a cohort.yaml; replaces the data section."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default runs/<recipe>-<preset>)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Override the recipe's seed."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Delete the run directory first (a run of another recipe kind, or to start afresh)."),
) -> None:
    """Run a recipe end to end and write a run directory with a report.

    Rerunning the same command into the same directory resumes; Ctrl-C keeps what is done.

    Examples: alignome run recipes/ad-gated-fusion.yaml --preset quick --out runs/quick

              alignome run recipes/longitudinal-mri.yaml --preset quick --out runs/quick-mri
    """
    from alignome.recipes.runner import run_recipe

    try:
        with command_errors():
            run_dir = run_recipe(recipe, preset=preset, data_dir=data, out=out, seed=seed, overwrite=overwrite)
    except KeyboardInterrupt:
        typer.secho("interrupted: finished steps are checkpointed; rerun the same command to resume",
                    fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=INTERRUPTED) from None
    _report(f"report: {Path(run_dir) / 'report.html'}")


@app.command("report")
def report_cmd(run_dir: Path = typer.Argument(..., help="A run directory written by 'alignome run'.")) -> None:
    """Rebuild summary.md, figures and report.html of a run directory.

    Example: alignome report runs/ad-gated-fusion-quick
    """
    from alignome.recipes.runner import build_report

    with command_errors():
        path = build_report(run_dir)
    _report(f"report: {path}")


def main() -> None:  # pragma: no cover - entry point for python -m
    app(prog_name="alignome")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
