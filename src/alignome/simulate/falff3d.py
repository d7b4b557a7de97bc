"""The built-in simulated multimodal cohort of paper 001: 3D T1 + fALFF per session, with known latents.

:func:`simulate_mm_cohort` writes, into one directory,

* ``images/sub-XXXX/ses-YY/anat/sub-XXXX_ses-YY_T1w.nii.gz`` — the calibrated T1 of
  :mod:`alignome.simulate.mri3d` (atrophy, CN/MCI/AD, conversions, scanners, noise);
* ``images/sub-XXXX/ses-YY/func/sub-XXXX_ses-YY_fALFF.nii.gz`` — a fALFF-like map
  (:mod:`alignome.simulate.falff_map`) acquired 1–60 days before or after the T1 of the
  same visit (never the same day); 15 % of visits have no fALFF (each subject keeps one);
* both on one MNI grid of ``voxel_mm`` voxels over a ~192 mm field (3 mm: the paper's
  ``64³`` grid; 6 mm: ``32³``), centred on the template brain's bounding box (:func:`mm_grid`);
* ``manifest.csv`` — ``subject, session, days, modality, path, diagnosis, age, sex``, one
  row per image; ``days`` counts from the subject's first T1, ``modality`` is ``T1w`` or
  ``fALFF``, ``diagnosis`` is that of the visit;
* ``truth.csv`` — one row per image: ``scan_id`` (``{subject}_{session}_{modality}``; an
  :class:`~alignome.cohort.image_cohort.ImageCohort` of one modality names its scans
  ``{subject}_{session}``, so join on ``subject, session, modality``),
  the manifest's columns but ``path``, ``shared_latent`` (the disease stage at that day:
  it drives the T1 atrophy and part of the fALFF signal), ``falff_own_latent`` (the
  subject's fALFF-only latent), ``falff_score`` (the fALFF reduction actually planted),
  ``baseline_diagnosis``, ``head_scale``, and, on T1 rows, the true volumes of
  :mod:`alignome.simulate.mri3d`;
* ``cohort.yaml`` — ``manifest: manifest.csv`` and ``truth: truth.csv``.

The fALFF disease score of a session is::

    falff_score = shared_weight · stage / stage_scale + falff_own_latent
    falff_own_latent ~ N(own_mean[baseline diagnosis], own_sd)      (one per subject)

so the fALFF's AD signal is partly the T1's (the stage) and partly its own, and its
within-class spread (``own_sd``) makes it a weaker marker than the T1 volumes (the
paper's best fALFF probe reaches 75.9 AUC against 84.6 on T1). :func:`oracle_auc` gives
each modality's bound from the truth alone. MCI subjects play the paper's "other"
group (pretraining only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.checkpoint import atomic_write_bytes
from alignome.errors import ConfigError, DataError
from alignome.simulate.brain3d import BrainAtlas, Grid, load_atlas
from alignome.simulate.cohort_args import check_cohort_args
from alignome.simulate.falff_map import FalffParams, SubjectFunction, falff_regions, render_falff
from alignome.simulate.mri3d import (
    COHORT_YAML,
    Mri3dParams,
    SubjectDesign,
    design_cohort,
    design_truth_rows,
    image_relpath,
    nifti_gz_bytes,
    render_subject,
)
from alignome.simulate.mri3d_calibration import VOLUMES, cross_validated_auc, t1_oracle_features
from alignome.simulate.progress import progress

MODALITIES = ("T1w", "fALFF")
#: Side of the cubic field of view (mm): the paper's 64 voxels of 3 mm.
FIELD_MM = 192.0
#: Centre (MNI mm) of the template brain's bounding box (x −72..72, y −107..73, z −72..82).
BRAIN_CENTRE_MM = np.array([0.0, -17.0, 5.0])
MANIFEST_COLUMNS = ["subject", "session", "days", "modality", "path", "diagnosis", "age", "sex"]
DAYS_PER_YEAR = 365.25
#: Seeds the fALFF stream apart from the T1 designs of the same seed.
FALFF_STREAM = 0xFA1FF
VISITS = (2, 4)
VOXEL_RANGE_MM = (2.0, 12.0)


@dataclass(frozen=True)
class MmParams:
    """Dials of the multimodal cohort (module docstring); ``shared_weight`` 0 and ``own_mean`` all 0 with
    ``falff.depth`` 0 give the negative control of the fALFF signal."""

    shared_weight: float = 0.3
    stage_scale: float = 0.15
    own_mean: tuple[float, float, float] = (0.0, 0.4, 0.8)  # CN, MCI, AD at baseline
    own_sd: float = 1.0
    offset_days: tuple[int, int] = (1, 60)
    missing_falff: float = 0.15
    falff: FalffParams = field(default_factory=FalffParams)


@dataclass
class FalffDesign:
    """A subject's fALFF sessions: which visits have one, their day offsets from the T1, and latents."""

    visits: list[int]
    offsets: list[int]
    own_latent: float
    image_seed: np.random.SeedSequence


def grid_side(voxel_mm: float) -> int:
    """Voxels per side covering the ~192 mm field at ``voxel_mm`` (3 mm: 64, 6 mm: 32)."""
    return int(round(FIELD_MM / voxel_mm))


def mm_grid(voxel_mm: float = 3.0) -> Grid:
    """The MNI grid of spacing ``voxel_mm`` over the ~192 mm field centred on the template brain.

    3 mm gives the paper's ``64³`` grid; coarser voxels give fewer of them, so a cohort meant for
    a ``32³`` network renders at 6 mm directly instead of rendering ``64³`` and resizing.
    """
    side = grid_side(voxel_mm)
    origin = BRAIN_CENTRE_MM - voxel_mm * (side - 1) / 2.0
    return Grid(shape=(side,) * 3, spacing=float(voxel_mm), origin=origin)


def design_falff(design: SubjectDesign, seed_seq: np.random.SeedSequence, params: MmParams) -> FalffDesign:
    """Draw which visits get a fALFF session, its day offset from the T1 and the subject's own latent."""
    design_ss, image_ss = seed_seq.spawn(2)
    rng = np.random.default_rng(design_ss)
    n = len(design.ages)
    has = rng.random(n) >= params.missing_falff
    if not has.any():
        has[int(rng.integers(n))] = True
    lo, hi = params.offset_days
    size = rng.integers(lo, hi + 1, size=n)
    sign = np.where(rng.random(n) < 0.5, -1, 1)
    sign[0] = 1  # days count from the first T1
    baseline = ("CN", "MCI", "AD").index(design.diagnoses[0])
    own = float(rng.normal(params.own_mean[baseline], params.own_sd))
    visits = [int(k) for k in np.flatnonzero(has)]
    return FalffDesign(visits, [int(sign[k] * size[k]) for k in visits], own, image_ss)


def t1_days(design: SubjectDesign) -> np.ndarray:
    """Days of each T1 visit since the subject's first, rounded to whole days."""
    return np.round((design.ages - design.ages[0]) * DAYS_PER_YEAR).astype(int)


def _stage_at(design: SubjectDesign, visit: int, offset_days: int) -> float:
    """Disease stage ``offset_days`` after visit ``visit`` (the stage grows at that visit's rate)."""
    return max(0.0, float(design.stage[visit] + design.stage_rate[visit] * offset_days / DAYS_PER_YEAR))


def falff_score(stage: float, own_latent: float, params: MmParams) -> float:
    """The planted fALFF disease score (module docstring)."""
    return params.shared_weight * stage / params.stage_scale + own_latent


def falff_relpath(subject: str, session: str) -> str:
    """BIDS-like path of a fALFF map, relative to the cohort directory."""
    return f"images/{subject}/{session}/func/{subject}_{session}_fALFF.nii.gz"


def subject_rows(design: SubjectDesign, fdesign: FalffDesign, params: MmParams) -> list[dict[str, object]]:
    """Truth rows of one subject's images (T1 first, then fALFF, each in visit order), ``path`` included."""
    days = t1_days(design)
    base_age = float(design.ages[0])
    common = {"subject": design.subject, "sex": design.sex, "baseline_diagnosis": design.diagnoses[0],
              "head_scale": round(design.head_scale, 4), "falff_own_latent": round(fdesign.own_latent, 5)}
    rows: list[dict[str, object]] = []
    for k, t1 in enumerate(design_truth_rows(design)):
        stage = float(design.stage[k])
        rows.append({**common, "scan_id": f"{design.subject}_{design.sessions[k]}_T1w",
                     "session": design.sessions[k], "days": int(days[k]), "modality": "T1w",
                     "path": image_relpath(design.subject, design.sessions[k]), "diagnosis": design.diagnoses[k],
                     "age": t1["age"], "shared_latent": round(stage, 5),
                     "falff_score": round(falff_score(stage, fdesign.own_latent, params), 5),
                     **{col: t1[col] for col in (*VOLUMES.values(), "scanner")}})
    for k, offset in zip(fdesign.visits, fdesign.offsets):
        stage = _stage_at(design, k, offset)
        d = int(days[k] + offset)
        rows.append({**common, "scan_id": f"{design.subject}_{design.sessions[k]}_fALFF",
                     "session": design.sessions[k], "days": d, "modality": "fALFF",
                     "path": falff_relpath(design.subject, design.sessions[k]), "diagnosis": design.diagnoses[k],
                     "age": round(base_age + d / DAYS_PER_YEAR, 3), "shared_latent": round(stage, 5),
                     "falff_score": round(falff_score(stage, fdesign.own_latent, params), 5)})
    return rows


def design_mm_cohort(
    subjects: int, seed: int, params: MmParams | None = None, visits: tuple[int, int] = VISITS
) -> list[tuple[SubjectDesign, FalffDesign]]:
    """Every subject's T1 and fALFF design; subject ``i`` depends only on ``seed`` and ``i``."""
    params = params or MmParams()
    t1 = design_cohort(subjects, visits, seed)
    children = np.random.SeedSequence([seed, FALFF_STREAM]).spawn(subjects)
    return [(d, design_falff(d, children[i], params)) for i, d in enumerate(t1)]


def mm_truth_without_images(subjects: int = 1000, seed: int = 0, params: MmParams | None = None) -> pd.DataFrame:
    """The truth table :func:`simulate_mm_cohort` would write, without rendering images."""
    params = params or MmParams()
    rows = [r for d, f in design_mm_cohort(subjects, seed, params) for r in subject_rows(d, f, params)]
    return pd.DataFrame(rows).drop(columns=["path"])


def render_mm_subject(
    design: SubjectDesign, fdesign: FalffDesign, atlas: BrainAtlas, grid: Grid, params: MmParams,
    regions: dict[str, np.ndarray], noise: bool = True,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One subject's T1 images (every visit) and fALFF maps (visits ``fdesign.visits``)."""
    t1_params = Mri3dParams()
    scans = render_subject(design, atlas, grid, t1_params, noise=noise, with_anatomy=True)
    t1 = [s.image for s in scans]
    # the fALFF follows the anatomy of its visit's T1 (≤ 60 days apart: well under 1 % of atrophy)
    level = t1_params.intensity_scale * design.gain
    rng = np.random.default_rng(fdesign.image_seed)
    subject = SubjectFunction.draw(rng, params.falff)
    maps = []
    for k, offset in zip(fdesign.visits, fdesign.offsets):
        session_rng = np.random.default_rng(rng.integers(0, 2**63))
        score = falff_score(_stage_at(design, k, offset), fdesign.own_latent, params)
        maps.append(render_falff(scans[k].anatomy / level, grid, score, regions, subject, session_rng,
                                 params.falff, noise=noise))
    return t1, maps


def _simulate_subject(
    design: SubjectDesign, fdesign: FalffDesign, atlas: BrainAtlas, grid: Grid, params: MmParams,
    regions: dict[str, np.ndarray], out: Path,
) -> list[dict[str, object]]:
    t1, maps = render_mm_subject(design, fdesign, atlas, grid, params, regions)
    rows = subject_rows(design, fdesign, params)
    for row, image in zip(rows, [*t1, *maps]):
        atomic_write_bytes(out / str(row["path"]), nifti_gz_bytes(image, grid.affine))
    return rows


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_bytes(path, frame.to_csv(index=False, lineterminator="\n").encode())


def simulate_mm_cohort(
    out: str | Path, subjects: int = 48, seed: int = 0, voxel_mm: float = 3.0, jobs: int = 2,
    params: MmParams | None = None,
) -> Path:
    """Simulate paired 3D T1 + fALFF sessions with known shared and fALFF-only latents; write them to ``out``.

    Parameters
    ----------
    out
        Directory to write into (created if needed; files of the same names are replaced).
    subjects
        Number of subjects (≥ 1); 2–4 visits each, 1–2 years apart.
    seed
        Random seed; the same seed gives the same bytes, whatever ``jobs``.
    voxel_mm
        Voxel size, 2–12 mm, over a ~192 mm field: 3 mm gives the paper's ``64³`` MNI grid,
        6 mm ``32³``, 12 mm ``16³`` (render at the size the network trains at).
    jobs
        Worker processes (joblib).
    params
        Dials (defaults when ``None``).

    Returns
    -------
    Path
        ``out``; ``out / "cohort.yaml"`` names the manifest and the truth table.
    """
    check_cohort_args(subjects, seed, jobs, voxel_mm, VOXEL_RANGE_MM,
                      "use --voxel-mm 3 (the paper's 64³ grid), 6 (32³) or 12 (16³)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a directory", field="out", fix="choose a new directory")
    params = params or MmParams()
    designs = design_mm_cohort(int(subjects), int(seed), params)
    atlas = load_atlas(float(voxel_mm))
    grid = mm_grid(float(voxel_mm))
    regions = falff_regions(grid)
    out.mkdir(parents=True, exist_ok=True)
    from joblib import Parallel, delayed

    per_subject = []
    with progress("simulating T1 + fALFF subjects", len(designs)) as advance:
        runner = Parallel(n_jobs=max(1, min(jobs, len(designs))), return_as="generator")
        for rows in runner(delayed(_simulate_subject)(d, f, atlas, grid, params, regions, out) for d, f in designs):
            per_subject.append(rows)
            advance()
    table = pd.DataFrame([row for rows in per_subject for row in rows])
    table = table.sort_values(["subject", "days", "modality"], kind="stable").reset_index(drop=True)
    _write_csv(out / "manifest.csv", table[MANIFEST_COLUMNS])
    _write_csv(out / "truth.csv", table.drop(columns=["path"]))
    atomic_write_bytes(out / "cohort.yaml", COHORT_YAML.encode())
    return out


def oracle_auc(truth: pd.DataFrame, modality: str, seed: int = 0, folds: int = 5) -> float:
    """Cross-validated AD-vs-CN AUC of what a perfect reader of one modality's images could know.

    One image per subject, its latest of ``modality`` (as the evaluation pairs take the latest
    pair), with diagnosis CN or AD. Features: for ``T1w`` the log true volumes (hippocampus,
    lateral ventricles, brain), age and log head scale (as
    :func:`alignome.simulate.mri3d_calibration.oracle_auc`); for ``fALFF`` the planted
    ``falff_score``. Logistic regression, ``folds``-fold stratified CV; NaN when a class has
    fewer than ``folds`` subjects.
    """
    if modality not in MODALITIES:
        raise DataError(f"unknown modality {modality!r}", field="modality", fix=f"use one of {', '.join(MODALITIES)}")
    rows = truth[truth["modality"] == modality].sort_values(["subject", "days"], kind="stable")
    rows = rows.groupby("subject", sort=True).tail(1)
    rows = rows[rows["diagnosis"].isin(["CN", "AD"])]
    x = t1_oracle_features(rows) if modality == "T1w" else rows[["falff_score"]].to_numpy(float)
    return cross_validated_auc(x, (rows["diagnosis"] == "AD").to_numpy(), seed, folds)
