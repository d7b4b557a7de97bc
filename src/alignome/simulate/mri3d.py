"""The built-in simulated longitudinal 3D T1 MRI cohort (paper 004) with known ground truth.

:func:`simulate_mri3d` writes, into one directory,

* ``images/sub-XXXX/ses-YY/anat/sub-XXXX_ses-YY_T1w.nii.gz`` — float32 volumes in
  MNI space (affine: ``voxel_mm`` spacing, sform/qform code 4 = MNI152);
* ``manifest.csv`` — ``subject,session,age,modality,path,diagnosis,sex``, one row
  per scan, ``path`` relative to the directory;
* ``truth.csv`` — per scan ``scan_id`` (``{subject}_{session}``), ``subject``,
  ``session``, ``age``, ``diagnosis``, the true ``ventricle_ml`` (both lateral
  ventricles), ``hippocampus_ml`` (both hippocampi), ``brain_ml`` (brain mask minus
  lateral ventricles) and ``entorhinal_ml`` (both entorhinal cortices) of the volume model, the same measured on the rendered masks
  (``rendered_*_ml``, within 1 %), ``disease_stage`` and ``disease_rate`` (latent
  stage and its yearly growth), ``subject_pace``, ``baseline_diagnosis``,
  ``converts_to_ad`` and ``conversion_age`` (first AD visit after a non-AD one),
  ``scanner``, ``head_scale`` and ``sex``;
* ``cohort.yaml`` — ``manifest: manifest.csv`` and ``truth: truth.csv``;
* with ``raw=True``, raw-looking heads as the scans (:mod:`alignome.simulate.raw_head`) and the
  clean scans above under ``clean/``, with ``clean_path`` and the misregistration in ``truth.csv``.

Anatomy (see :mod:`alignome.simulate.brain3d`): the MNI152 template that nilearn
ships, its lateral ventricles (dark voxels near the centre, connected components)
and ellipsoidal hippocampi and entorhinal cortices (no atlas ships offline).

Model, per subject ``i`` (own seeded generator, so a subject does not change
when the cohort grows):

* baseline diagnosis CN / MCI / AD (40 / 35 / 25 %), baseline age normal (74, SD 6,
  within 60–88), sex, 2–4 visits 1–2 years apart;
* true volumes from :mod:`alignome.simulate.mri3d_volumes`: ageing and a latent
  disease stage act apart, with per-diagnosis rates and conversion CN → MCI → AD
  whose hazard rises with the stage (never backwards, one step per interval at most);
* the renderer finds, per visit, the displacements along the atlas flows that give
  the brain (shrinking from its surface), the ventricles (expanding) and the
  hippocampi and entorhinal cortices (shrinking) their true volumes, from
  volume-versus-displacement curves measured on the subject's own head;
* own anatomy: a smooth random deformation (SD 2 mm, correlation 20 mm) and a head
  scale (female 0.985, male 1.015, log-SD 0.028: an ICV CV of about 10 %); own
  intensity gain (log-SD 0.1);
* the tissue the hippocampi and entorhinal cortices lose turns into CSF (ex-vacuo widening around them);
* scanner/site: each subject starts on scanner A, B or C (60 / 20 / 20 %) and 30 % move
  to another one at a random follow-up; B and C differ in T1 contrast (``t1 ** 0.85``,
  ``t1 ** 1.2``), noise (× 1.5, × 0.8), blur (FWHM 1.5, 0.8 mm) and bias field (× 1.5, × 2);
* per visit: a pose difference (registration residual: rotation SD 2.5°,
  translation SD 2.5 mm), intensity gain (log-SD 0.03), a smooth multiplicative
  bias field (log-SD 0.12 times the scanner's factor, correlation 40 mm), Rician
  noise (SD 5 % of the template maximum times the scanner's factor) and skull
  stripping (zero outside the brain).

The truth is measured in the head's own frame (no pose), on partial-volume
label masks warped by the same maps as the image (``ventricle_ml``: lateral
ventricles; ``hippocampus_ml``: both hippocampi; ``brain_ml``: the template's
brain mask; ``entorhinal_ml``: both entorhinal cortices, warped by their own flow).

Images are sampled once per scan with linear interpolation
(``scipy.ndimage.map_coordinates``, ``order=1``) from the template smoothed to
the output resolution. Files are gzip-compressed with ``mtime=0``: the same seed
gives the same bytes.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from alignome.checkpoint import atomic_write_bytes
from alignome.diagnoses import DIAGNOSES
from alignome.errors import ConfigError
from alignome.simulate.cohort_args import check_cohort_args, is_whole
from alignome.simulate.mri3d_volumes import (
    DEFAULT_STRUCTURES,
    DiseaseModel,
    Structure,
    disease_course,
    structure_volumes,
)
from alignome.simulate.flow_walk import FlowWalk
from alignome.simulate.progress import progress
from alignome.simulate.raw_head import raw_head, raw_truth
from alignome.simulate.rician import rician_magnitude
from alignome.simulate.brain3d import (
    BrainAtlas,
    Flow,
    Grid,
    SmoothField,
    load_atlas,
    output_grid,
    rotation,
    sample,
)

STAGES = DIAGNOSES
COHORT_YAML = "manifest: manifest.csv\ntruth: truth.csv\n"
POSE_CENTRE_MM = np.array([0.0, -18.0, 18.0])
MAX_VISITS = 20
VOXEL_RANGE_MM = (1.0, 8.0)
SKULL_STRIP_FRACTION = 0.05
#: structures whose subject residual is drawn after every other draw of a subject's design, so that
#: their presence leaves the other draws (diagnosis course, scanners, gain) of each seed as they are
DRAWN_LAST = ("entorhinal",)


@dataclass(frozen=True)
class Scanner:
    """How one scanner/site renders a head: T1 contrast (``t1 ** contrast``), noise, blur and bias."""

    name: str
    contrast: float = 1.0
    noise_factor: float = 1.0
    blur_mm: float = 0.0
    bias_factor: float = 1.0


DEFAULT_SCANNERS = (
    Scanner("A"),
    Scanner("B", contrast=0.85, noise_factor=1.5, blur_mm=1.5, bias_factor=1.5),
    Scanner("C", contrast=1.2, noise_factor=0.8, blur_mm=0.8, bias_factor=2.0),
)


@dataclass(frozen=True)
class Mri3dParams:
    """Parameters of the simulated 3D MRI cohort (see the module docstring)."""

    diagnosis_probabilities: tuple[float, float, float] = (0.40, 0.35, 0.25)
    baseline_age: tuple[float, float] = (74.0, 6.0)  # mean, SD
    baseline_age_range: tuple[float, float] = (60.0, 88.0)
    gap_years: tuple[float, float] = (1.0, 2.0)
    disease: DiseaseModel = DiseaseModel()
    structures: tuple[tuple[str, Structure], ...] = tuple(DEFAULT_STRUCTURES.items())
    head_scale: tuple[float, float] = (0.985, 1.015)  # female, male
    head_scale_sd: float = 0.028
    deformation_sd_mm: float = 2.0
    deformation_sigma_mm: float = 20.0
    pose_rotation_sd_deg: float = 2.5
    pose_translation_sd_mm: float = 2.5
    subject_gain_log_sd: float = 0.10
    visit_gain_log_sd: float = 0.03
    bias_log_sd: float = 0.12
    bias_sigma_mm: float = 40.0
    noise_sd: float = 0.05
    intensity_scale: float = 1000.0
    scanners: tuple[Scanner, ...] = DEFAULT_SCANNERS
    scanner_probabilities: tuple[float, ...] = (0.6, 0.2, 0.2)
    scanner_change_share: float = 0.3  # subjects whose follow-ups move to another scanner


@dataclass
class SubjectDesign:
    """Everything drawn for one subject before its images are rendered."""

    subject: str
    sex: str
    head_scale: float
    rate_multiplier: float
    gain: float
    ages: np.ndarray
    diagnoses: list[str]
    stage: np.ndarray
    stage_rate: np.ndarray
    volumes: dict[str, np.ndarray]
    scanners: list[str]
    image_seed: np.random.SeedSequence
    sessions: list[str] = field(default_factory=list)

    @property
    def conversion_age(self) -> float:
        """Age at the first visit diagnosed AD after a non-AD one (NaN when the subject never converts)."""
        for k in range(1, len(self.diagnoses)):
            if self.diagnoses[k] == "AD" and self.diagnoses[k - 1] != "AD":
                return float(self.ages[k])
        return float("nan")


def _check_args(subjects: int, visits: tuple[int, int], voxel_mm: float, seed: int, jobs: int) -> tuple[int, int]:
    check_cohort_args(subjects, seed, jobs, voxel_mm, VOXEL_RANGE_MM,
                      "use --voxel-mm 4 (CI), 2 or 1 (the template's own resolution)")
    try:
        vmin, vmax = visits
    except (TypeError, ValueError):
        raise ConfigError(
            f"visits must be a pair (min, max), got {visits!r}", field="visits", fix="e.g. visits=(2, 4)"
        ) from None
    if not (is_whole(vmin) and is_whole(vmax)) or vmin < 1 or vmax < vmin or vmax > MAX_VISITS:
        raise ConfigError(
            f"visits per subject must satisfy 1 <= min <= max <= {MAX_VISITS}, got min={vmin!r}, max={vmax!r}",
            field="visits",
            fix="use --visits-min 2 --visits-max 4 (at least 2 visits give every subject a positive pair)",
        )
    return int(vmin), int(vmax)


def design_subject(
    index: int, seed_seq: np.random.SeedSequence, visits: tuple[int, int], params: Mri3dParams, width: int
) -> SubjectDesign:
    """Draw one subject's demographics, visit ages, diagnoses, disease stage, true volumes and scanners.

    Parameters
    ----------
    index
        0-based subject number (the id is ``sub-{index + 1}``, zero-padded to ``width``).
    seed_seq
        The subject's own seed sequence; its first child seeds the rendering.
    visits
        ``(min, max)`` visits, drawn uniformly.
    params
        Model parameters.
    width
        Digits of the subject number.
    """
    design_ss, image_ss = seed_seq.spawn(2)
    rng = np.random.default_rng(design_ss)
    dx = int(rng.choice(3, p=params.diagnosis_probabilities))
    male = bool(rng.random() < 0.5)
    n_visits = int(rng.integers(visits[0], visits[1] + 1))
    base_age = float(np.clip(rng.normal(*params.baseline_age), *params.baseline_age_range))
    gaps = rng.uniform(*params.gap_years, size=n_visits - 1)
    ages = base_age + np.concatenate([[0.0], np.cumsum(gaps)])
    stages, stage, stage_rate, pace = disease_course(rng, dx, gaps, params.disease)
    scale = params.head_scale[int(male)] * float(np.exp(rng.normal(0.0, params.head_scale_sd)))
    structures = dict(params.structures)
    residual = {name: float(rng.normal(0.0, s.subject_log_sd)) for name, s in structures.items()
                if name not in DRAWN_LAST}
    scanner = int(rng.choice(len(params.scanners), p=params.scanner_probabilities))
    moves = bool(rng.random() < params.scanner_change_share) and n_visits > 1
    move_at = int(rng.integers(1, max(n_visits, 2)))
    other = (scanner + 1 + int(rng.integers(0, len(params.scanners) - 1))) % len(params.scanners)
    scanners = [params.scanners[other if moves and k >= move_at else scanner].name for k in range(n_visits)]
    subject = f"sub-{index + 1:0{width}d}"
    gain = float(np.exp(rng.normal(0.0, params.subject_gain_log_sd)))
    residual.update({name: float(rng.normal(0.0, structures[name].subject_log_sd))
                     for name in DRAWN_LAST if name in structures})
    return SubjectDesign(
        subject=subject,
        sex="M" if male else "F",
        head_scale=scale,
        rate_multiplier=pace,
        gain=gain,
        ages=ages,
        diagnoses=[STAGES[s] for s in stages],
        stage=stage,
        stage_rate=stage_rate,
        volumes=structure_volumes(structures, ages, stage, scale, residual),
        scanners=scanners,
        image_seed=image_ss,
        sessions=[f"ses-{k + 1:02d}" for k in range(n_visits)],
    )


@dataclass(frozen=True)
class RenderedScan:
    """One simulated scan and what was measured on its warped label masks."""

    image: np.ndarray  # float32, output grid
    ventricle_ml: float
    hippocampus_ml: float
    brain_ml: float
    entorhinal_ml: float
    brain_mask: np.ndarray | None = None  # bool, output grid: the voxels the skull stripping kept
    anatomy: np.ndarray | None = None  # float32, output grid: the image ``noise=False`` renders (on request)


def render_subject(
    design: SubjectDesign,
    atlas: BrainAtlas,
    grid: Grid,
    params: Mri3dParams,
    noise: bool = True,
    with_anatomy: bool = False,
) -> list[RenderedScan]:
    """Render every visit of one subject.

    Parameters
    ----------
    design
        The subject (from :func:`design_subject`).
    atlas
        Template, masks and flows (from :func:`alignome.simulate.brain3d.load_atlas`).
    grid
        Output grid.
    params
        Model parameters.
    noise
        ``False`` leaves out the per-visit pose, gain, bias field and noise, so
        that tests can see anatomy and atrophy alone.
    with_anatomy
        Also return that noise-free image of every visit (:attr:`RenderedScan.anatomy`), from the
        same deformation, in the same pass.

    Returns
    -------
    list of RenderedScan
        One per visit, in visit order.
    """
    rng = np.random.default_rng(design.image_seed)
    deformation = SmoothField.draw(rng, params.deformation_sigma_mm, params.deformation_sd_mm, 3)
    centre = POSE_CENTRE_MM.reshape(3, 1)
    voxel_ml = grid.spacing**3 / 1000.0
    scanners = {s.name: s for s in params.scanners}

    def to_template(points: np.ndarray) -> np.ndarray:
        """Subject head frame -> template space, before atrophy: scale and own deformation."""
        return centre + (points - centre) / design.head_scale + deformation(points)

    # head frame -> template space on the whole grid; only voxels near the brain can be non-zero
    y_full = grid.points()
    anatomy = to_template(y_full.reshape(3, -1)).reshape(y_full.shape)
    support = sample(atlas.reach, atlas.grid, anatomy) > 0.5
    # the brain flow is zero deep inside the brain and far outside it: follow only the points it moves
    # (the curves leave the others in place too)
    brain_moves = atlas.brain_flow.moves(anatomy)
    y = y_full[:, support]
    del y_full
    # the brain shrinks from the same points at every visit: walk them once, read each visit's distance off
    brain_walk = FlowWalk.walk(atlas.brain_flow, anatomy[:, brain_moves], FLOW_STEP_MM["brain"],
                               -float(SOLVE_MM["brain"].max()), -float(SOLVE_MM["brain"].min()))
    # ventricles expand from the same points at every visit, except those the brain's shrinkage moved first
    vent_walk = FlowWalk.walk(atlas.ventricle_flow, anatomy.reshape(3, -1), FLOW_STEP_MM["ventricle"],
                              float(SOLVE_MM["ventricle"].min()), float(SOLVE_MM["ventricle"].max()))
    # how each structure's volume answers its flow, measured once on this head
    brain_curve = _walked_volume_curve(brain_walk, np.flatnonzero(support[brain_moves]), atlas.brain, atlas.grid,
                                       anatomy[:, support & ~brain_moves], -SOLVE_MM["brain"])
    vent_moves = atlas.ventricle_flow.moves(anatomy[:, support])
    vent_curve = _walked_volume_curve(vent_walk, np.flatnonzero(support.ravel())[vent_moves], atlas.ventricles,
                                      atlas.grid, anatomy[:, support][:, ~vent_moves], SOLVE_MM["ventricle"])
    level = params.intensity_scale * design.gain
    out: list[RenderedScan] = []
    for k in range(len(design.ages)):
        # per-visit draws come first and in a fixed order, whether or not they are used
        angles = rng.normal(0.0, params.pose_rotation_sd_deg, 3)
        shift = rng.normal(0.0, params.pose_translation_sd_mm, 3)
        visit_gain = float(np.exp(rng.normal(0.0, params.visit_gain_log_sd)))
        bias = SmoothField.draw(rng, params.bias_sigma_mm, params.bias_log_sd, 1)
        visit_rng = np.random.default_rng(rng.integers(0, 2**63))
        scanner = scanners[design.scanners[k]]
        vent_ml = design.volumes["ventricle"][k]
        b_mm = _distance_for(design.volumes["brain"][k] + vent_ml, brain_curve * voxel_ml, SOLVE_MM["brain"])
        v_mm = _distance_for(vent_ml, vent_curve * voxel_ml, SOLVE_MM["ventricle"])
        # anatomy in the head's own frame: the truth is measured here, free of the pose; the brain
        # shrinks from its surface, ventricles expand (pushing tissue away), then hippocampi shrink
        shrunk_brain = anatomy.copy()
        shrunk_brain[:, brain_moves] = brain_walk.at(-b_mm)
        expanded = vent_walk.at(v_mm).reshape(anatomy.shape)
        expanded[:, brain_moves] = atlas.ventricle_flow.follow(shrunk_brain[:, brain_moves], v_mm,
                                                               step_mm=FLOW_STEP_MM["ventricle"])
        expanded_support = expanded[:, support]
        # hippocampi and entorhinal cortices (masks zero outside their flows' boxes) shrink along their own
        # flows from the same points; only points near those boxes take part
        local = np.flatnonzero(atlas.hippocampus_flow.inside_box(expanded_support, 1)
                               | atlas.entorhinal_flow.inside_box(expanded_support, 1))
        hip_before, hip, hip_moved = _shrink_to(atlas.hippocampus_flow, atlas.hippocampus, atlas.grid,
                                                expanded_support[:, local], design.volumes["hippocampus"][k],
                                                "hippocampus", voxel_ml)
        ec_before, ec, _ = _shrink_to(atlas.entorhinal_flow, atlas.entorhinal, atlas.grid,
                                      expanded_support[:, local], design.volumes["entorhinal"][k], "entorhinal",
                                      voxel_ml)
        shrunk = expanded_support.copy()
        shrunk[:, local] = hip_moved
        vent = sample(atlas.ventricles, atlas.grid, shrunk)
        brain = sample(atlas.brain, atlas.grid, shrunk)
        # the tissue they lost is replaced by CSF (ex-vacuo widening around them)
        lost_support = np.zeros(shrunk.shape[1])
        lost_support[local] = np.minimum(np.clip(hip_before - hip, 0.0, 1.0) + np.clip(ec_before - ec, 0.0, 1.0), 1.0)
        lost = np.zeros(grid.shape)
        lost[support] = lost_support
        values = np.zeros(y.shape[1], dtype=np.float64)
        kept = np.zeros(grid.shape, dtype=bool)
        clean = None
        if with_anatomy or not noise:
            loss = lost[support]
            clean = level * ((1.0 - loss) * sample(atlas.t1, atlas.grid, expanded_support) + loss * atlas.csf)
        if noise:
            # the scanner sees the head slightly moved (registration residual) ...
            p = grid.to_index(rotation(angles) @ (y - centre) + centre + shift.reshape(3, 1))
            x = np.stack([ndi.map_coordinates(c, p, order=1, mode="nearest") for c in expanded])
            loss = ndi.map_coordinates(lost, p, order=1, mode="constant", cval=0.0)
            t1 = (1.0 - loss) * sample(atlas.t1, atlas.grid, x) + loss * atlas.csf
            # ... through its own contrast, bias field and blur ...
            signal = np.zeros(grid.shape)
            signal[support] = level * visit_gain * np.clip(t1, 0.0, None) ** scanner.contrast * np.exp(
                scanner.bias_factor * bias(y)[0]
            )
            if scanner.blur_mm > 0:
                signal = ndi.gaussian_filter(signal, scanner.blur_mm / 2.355 / grid.spacing)
            signal = signal[support]
            # ... with Rician noise, then skull-stripped
            noisy = rician_magnitude(signal, params.noise_sd * scanner.noise_factor * level, visit_rng)
            keep = sample(atlas.brain, atlas.grid, x) > SKULL_STRIP_FRACTION
            values[keep] = noisy[keep]
            kept[support] = keep
        else:
            values[:] = clean
            kept[support] = values > 0
        img = np.zeros(grid.shape, dtype=np.float32)
        img[support] = values
        anatomy_image = None
        if with_anatomy:
            anatomy_image = np.zeros(grid.shape, dtype=np.float32)
            anatomy_image[support] = clean
        out.append(
            RenderedScan(
                image=img,
                ventricle_ml=float(vent.sum() * voxel_ml),
                hippocampus_ml=float(hip.sum() * voxel_ml),
                brain_ml=float((brain.sum() - vent.sum()) * voxel_ml),
                entorhinal_ml=float(ec.sum() * voxel_ml),
                brain_mask=kept,
                anatomy=anatomy_image,
            )
        )
    return out


#: displacements (mm) at which a structure's volume is measured to find the one that gives its true
#: volume: the brain's, hippocampi's and entorhinal cortices' shrinkage, the ventricles' expansion
SOLVE_MM = {
    "brain": np.linspace(-4.0, 8.0, 7),
    "ventricle": np.linspace(-4.0, 28.0, 33),
    "hippocampus": np.linspace(-3.0, 4.0, 15),
    "entorhinal": np.linspace(-3.0, 4.0, 15),
}
#: Euler step (mm) of each flow, in the curves and the render alike, so that a curve measures the
#: very maps the render applies; distances between these steps cost one extra (shorter) step each
FLOW_STEP_MM = {"brain": 2.0, "ventricle": 2.0, "hippocampus": 1.0, "entorhinal": 1.0}


def _shrink_to(
    flow: Flow, mask: np.ndarray, mask_grid: Grid, points: np.ndarray, target_ml: float, name: str, voxel_ml: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shrink a structure along its flow until its mask holds ``target_ml`` over ``points``.

    Returns the mask fraction at every point before and after, and the moved points.
    """
    curve = _volume_curve(flow, mask, mask_grid, points, -SOLVE_MM[name], FLOW_STEP_MM[name])
    distance = _distance_for(target_ml, curve * voxel_ml, SOLVE_MM[name])
    moved = flow.follow(points, -distance, step_mm=FLOW_STEP_MM[name])
    return sample(mask, mask_grid, points), sample(mask, mask_grid, moved), moved


def _volume_curve(
    flow: Flow, mask: np.ndarray, mask_grid: Grid, points: np.ndarray, distances: np.ndarray, step_mm: float
) -> np.ndarray:
    """Summed mask fraction over ``points`` after following ``flow`` (steps of ``step_mm``) by each distance."""
    moving = flow.moves(points)
    fixed = sample(mask, mask_grid, points[:, ~moving]).sum()
    curve = np.empty(len(distances))
    for i, moved in flow.follow_each(points[:, moving], distances, step_mm):
        curve[i] = fixed + sample(mask, mask_grid, moved).sum()
    return curve


def _walked_volume_curve(
    walk: FlowWalk, columns: np.ndarray, mask: np.ndarray, mask_grid: Grid, fixed_points: np.ndarray,
    distances: np.ndarray,
) -> np.ndarray:
    """:func:`_volume_curve` over ``fixed_points`` (which the flow leaves in place) and the walked points
    ``columns``, read off a walk that spans ``distances``."""
    fixed = sample(mask, mask_grid, fixed_points).sum()
    return np.array([fixed + sample(mask, mask_grid, walk.at(float(d), columns)).sum() for d in distances],
                    dtype=np.float64)


def _distance_for(target_ml: float, curve_ml: np.ndarray, distances: np.ndarray) -> float:
    """The displacement at which the (monotone) volume curve reaches ``target_ml`` (linear interpolation)."""
    order = np.argsort(curve_ml)
    return float(np.interp(target_ml, curve_ml[order], distances[order]))


def nifti_gz_bytes(image: np.ndarray, affine: np.ndarray, space_code: int = 4) -> bytes:
    """Deterministic ``.nii.gz`` bytes (sform/qform code 4 = MNI152 by default, 1 = scanner; units mm; gzip mtime 0)."""
    import nibabel as nib

    img = nib.Nifti1Image(np.asarray(image, dtype=np.float32), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.set_sform(affine, code=space_code)
    img.set_qform(affine, code=space_code)
    return gzip.compress(img.to_bytes(), compresslevel=1, mtime=0)


def image_relpath(subject: str, session: str, folder: str = "images") -> str:
    """BIDS-like path of a scan, relative to the cohort directory (raw cohorts keep the clean scans in ``clean/``)."""
    return f"{folder}/{subject}/{session}/anat/{subject}_{session}_T1w.nii.gz"


def design_truth_rows(design: SubjectDesign) -> list[dict[str, object]]:
    """The truth of every scan of one subject that needs no image (true volumes, stage, scanner)."""
    rows = []
    conversion = design.conversion_age
    for k, session in enumerate(design.sessions):
        rows.append(
            {
                "scan_id": f"{design.subject}_{session}",
                "subject": design.subject,
                "session": session,
                "age": round(float(design.ages[k]), 3),
                "diagnosis": design.diagnoses[k],
                "ventricle_ml": round(float(design.volumes["ventricle"][k]), 4),
                "hippocampus_ml": round(float(design.volumes["hippocampus"][k]), 4),
                "brain_ml": round(float(design.volumes["brain"][k]), 2),
                "entorhinal_ml": round(float(design.volumes["entorhinal"][k]), 4),
                "disease_stage": round(float(design.stage[k]), 5),
                "disease_rate": round(float(design.stage_rate[k]), 5),
                "subject_pace": round(design.rate_multiplier, 4),
                "baseline_diagnosis": design.diagnoses[0],
                "converts_to_ad": bool(np.isfinite(conversion)),
                "conversion_age": round(conversion, 3) if np.isfinite(conversion) else np.nan,
                "scanner": design.scanners[k],
                "head_scale": round(design.head_scale, 4),
                "sex": design.sex,
            }
        )
    return rows


def _simulate_subject(
    design: SubjectDesign, atlas: BrainAtlas, grid: Grid, params: Mri3dParams, out: Path, raw: bool = False
) -> list[dict[str, object]]:
    scans = render_subject(design, atlas, grid, params)
    rows = design_truth_rows(design)
    # a stream of its own, so raw heads leave every other draw (and the clean scans) as they are
    raw_rng = np.random.default_rng(
        np.random.SeedSequence(design.image_seed.entropy, spawn_key=(*design.image_seed.spawn_key, 0)))
    for k, (scan, row) in enumerate(zip(scans, rows)):
        rel = image_relpath(design.subject, design.sessions[k])
        if raw:
            head = raw_head(scan.image, scan.brain_mask, grid, params.intensity_scale * design.gain,
                            POSE_CENTRE_MM, raw_rng)
            clean = image_relpath(design.subject, design.sessions[k], folder="clean")
            atomic_write_bytes(out / clean, nifti_gz_bytes(scan.image, grid.affine))
            atomic_write_bytes(out / rel, nifti_gz_bytes(head.image, head.affine, space_code=1))
            row.update(clean_path=clean, **raw_truth(head))
        else:
            atomic_write_bytes(out / rel, nifti_gz_bytes(scan.image, grid.affine))
        row.update(
            rendered_ventricle_ml=round(scan.ventricle_ml, 4),
            rendered_hippocampus_ml=round(scan.hippocampus_ml, 4),
            rendered_brain_ml=round(scan.brain_ml, 2),
            rendered_entorhinal_ml=round(scan.entorhinal_ml, 4),
            path=rel,
        )
    return rows


def _remove_stale_images(out: Path, keep: set[str]) -> None:
    """Delete images an earlier simulation listed in ``out/manifest.csv`` that this one did not write
    (and the sessions tables of subjects left without images)."""
    old = out / "manifest.csv"
    if not old.is_file():
        return
    try:
        listed = pd.read_csv(old, usecols=["path"])["path"].astype(str)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return
    kept_subjects = {Path(k).parts[1] for k in keep if len(Path(k).parts) > 1}
    for rel in listed:
        if rel in keep or not rel.startswith("images/sub-") or not rel.endswith("_T1w.nii.gz") or ".." in rel:
            continue
        path = out / rel
        subject = Path(rel).parts[1]
        if subject not in kept_subjects:  # its BIDS sessions table goes with its last image
            (out / "images" / subject / f"{subject}_sessions.tsv").unlink(missing_ok=True)
        if path.is_file():
            path.unlink()
            for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()


def design_cohort(
    subjects: int, visits: tuple[int, int], seed: int, params: Mri3dParams | None = None
) -> list[SubjectDesign]:
    """Draw every subject's design; subject ``i`` depends only on ``seed`` and ``i``.

    Parameters
    ----------
    subjects
        Number of subjects.
    visits
        ``(min, max)`` visits per subject.
    seed
        Random seed.
    params
        Model parameters (defaults when ``None``).
    """
    params = params or Mri3dParams()
    width = max(4, len(str(subjects)))
    children = np.random.SeedSequence(seed).spawn(subjects)
    return [design_subject(i, children[i], visits, params, width) for i in range(subjects)]


def simulate_mri3d(
    out: str | Path,
    subjects: int = 24,
    visits: tuple[int, int] = (2, 4),
    voxel_mm: float = 4.0,
    seed: int = 0,
    jobs: int = 2,
    raw: bool = False,
) -> Path:
    """Simulate a longitudinal 3D T1 MRI cohort with known atrophy and write it to ``out``.

    Parameters
    ----------
    out
        Directory to write into (created if needed). Files of the same names are
        replaced, and images listed by an earlier ``manifest.csv`` in it but not
        written again are removed, so a BIDS-style read of ``images/`` sees this
        cohort only.
    subjects
        Number of subjects (≥ 1).
    visits
        ``(min, max)`` visits per subject, drawn uniformly; ``1 <= min <= max <= 20``.
    voxel_mm
        Isotropic voxel size in mm, 1–8: 4 gives 50 × 59 × 48 voxels (CI), 2 nilearn's
        99 × 117 × 95 MNI grid, 1 the template's 197 × 233 × 189 (each halving of the
        voxel size costs about eight times the time and memory per scan).
    seed
        Random seed; the same seed gives the same bytes, whatever ``jobs``.
    jobs
        Worker processes for the per-subject rendering (joblib).
    raw
        Write raw-looking heads (:mod:`alignome.simulate.raw_head`: scalp, skull, neck,
        misregistration, bias field, a sagittal scanner grid) as the scans, and the clean
        skull-stripped MNI-space scans under ``clean/`` (``clean_path`` and the transform in
        ``truth.csv``); the clean scans are the very images a non-raw run writes.

    Returns
    -------
    Path
        ``out``; ``out / "cohort.yaml"`` names the manifest and the truth table.

    Raises
    ------
    alignome.errors.ConfigError
        An argument is out of range, or ``out`` is an existing file.

    Examples
    --------
    >>> simulate_mri3d("data/mri3d", subjects=24, seed=0)  # doctest: +SKIP
    PosixPath('data/mri3d')
    """
    vmin, vmax = _check_args(subjects, visits, voxel_mm, seed, jobs)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a directory", field="out", fix="choose a new directory")
    params = Mri3dParams()
    designs = design_cohort(int(subjects), (vmin, vmax), int(seed), params)
    atlas = load_atlas(float(voxel_mm))
    grid = output_grid(float(voxel_mm))
    out.mkdir(parents=True, exist_ok=True)
    from joblib import Parallel, delayed

    per_subject = []
    with progress("simulating 3D MRI subjects", len(designs)) as advance:
        runner = Parallel(n_jobs=max(1, min(jobs, len(designs))), return_as="generator")
        for rows in runner(delayed(_simulate_subject)(d, atlas, grid, params, out, bool(raw)) for d in designs):
            per_subject.append(rows)
            advance()
    table = pd.DataFrame([row for rows in per_subject for row in rows])
    _remove_stale_images(out, set(table["path"]))
    manifest = table.assign(modality="T1w")[["subject", "session", "age", "modality", "path", "diagnosis", "sex"]]
    truth = table.drop(columns=["path"])
    atomic_write_bytes(out / "manifest.csv", manifest.to_csv(index=False, lineterminator="\n").encode())
    atomic_write_bytes(out / "truth.csv", truth.to_csv(index=False, lineterminator="\n").encode())
    atomic_write_bytes(out / "cohort.yaml", COHORT_YAML.encode())
    _write_bids_tables(out / "images", manifest)
    return out


def _write_bids_tables(root: Path, manifest: pd.DataFrame) -> None:
    """``participants.tsv`` and one ``sub-*_sessions.tsv`` per subject, so ``images/`` is also a
    BIDS-like folder that :func:`alignome.cohort.image_cohort.read_bids_folder` reads (``bids: images``)."""
    people = manifest.groupby("subject", sort=True)["sex"].first().rename_axis("participant_id").reset_index()
    atomic_write_bytes(root / "participants.tsv", people.to_csv(sep="\t", index=False, lineterminator="\n").encode())
    for subject, rows in manifest.groupby("subject", sort=True):
        sessions = rows[["session", "age", "diagnosis"]].rename(columns={"session": "session_id"})
        text = sessions.to_csv(sep="\t", index=False, lineterminator="\n")
        atomic_write_bytes(root / subject / f"{subject}_sessions.tsv", text.encode())
