"""A fALFF-like 3D map of one session, drawn from the subject's own anatomy (simulated mm cohort).

fALFF (fractional amplitude of low-frequency fluctuations, 0.01–0.1 Hz power over the
whole band; Zou et al. 2008, J Neurosci Methods 172:137) is higher in grey matter than in
white matter and lowest in CSF, and highest of all in the default-mode hubs (posterior
cingulate/precuneus). :func:`render_falff` builds such a map from a noise-free render of
the subject's T1 anatomy (so head size, deformation and atrophy carry over) in four steps:

1. **tissue baseline**: piecewise linear in the anatomy's T1 intensity ``t`` (template
   scale, ``[0, 1]``): CSF ``t ≤ 0.25`` → 0.20, grey matter ``t = 0.60`` → 0.40, white
   matter ``t ≥ 0.85`` → 0.28; 0 outside the brain (``t < 0.1``);
2. **default-mode boost**: × ``1 + dmn_boost · w_pcc`` in the posterior cingulate/precuneus;
3. **AD signal**: × ``max(floor, 1 − depth_r · w_r · score)`` for each planted region
   ``r`` (:data:`FALFF_REGIONS`), with ``score`` the session's fALFF disease score;
4. **functional noise**, much larger than the T1's (5 % voxel noise, gain log-SD 0.1):
   a subject gain (log-SD 0.20) and a smooth subject field (log-SD 0.15, correlation
   12 mm) that every session of the subject shares, a smooth session field (log-SD 0.10,
   correlation 20 mm) and Gaussian voxel noise (SD 0.06, about 15 % of grey matter).

Planted regions (MNI mm; weights ``w_r`` are the region's indicator smoothed by a
Gaussian of σ 3 mm, peak 1):

* ``pcc_precuneus``: one midline ellipsoid centred at ``(0, −58, 32)``, semi-axes
  12 (left–right) × 18 (anterior–posterior) × 16 (inferior–superior) mm, 14.5 ml,
  covering the posterior cingulate and ventral precuneus around the default-mode seed
  of Fox et al. 2005 (PNAS 102:9673, ``(−5, −49, 40)``) and Greicius et al. 2004
  (PNAS 101:4637). Reduced ALFF/fALFF there is the most reproduced resting-state
  finding in AD (e.g. Wang et al. 2011, Hum Brain Mapp 32:1720);
* ``hippocampus``: the two hippocampal ellipsoids of the simulated T1 brain
  (:func:`alignome.simulate.brain3d.hippocampus_mask`, 3.5 ml per side). Published
  hippocampal fALFF changes in AD vary in sign between studies; a decrease is planted
  here, so the hippocampus carries both the T1 atrophy and a functional signal.

The references are cited from memory (not re-read for this module); depths and noise levels
are our choices, set so that the fALFF oracle stays below the T1's (README, mm-dim).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from alignome.simulate.brain3d import Grid, SmoothField, hippocampus_mask

#: T1 intensity (template scale) → fALFF knots: CSF, grey matter, white matter.
TISSUE_KNOTS = ((0.25, 0.20), (0.60, 0.40), (0.85, 0.28))
#: Below this anatomical T1 intensity a voxel is outside the brain (fALFF 0).
BRAIN_T1 = 0.1
PCC_CENTRE_MM = (0.0, -58.0, 32.0)
PCC_SEMI_AXES_MM = (12.0, 18.0, 16.0)
REGION_SMOOTHING_MM = 3.0


@dataclass(frozen=True)
class FalffParams:
    """Dials of the fALFF map (see the module docstring); ``depth`` 0 gives the negative control."""

    depth: tuple[tuple[str, float], ...] = (("pcc_precuneus", 0.12), ("hippocampus", 0.08))
    floor: float = 0.2
    dmn_boost: float = 0.3
    subject_gain_log_sd: float = 0.20
    subject_field_log_sd: float = 0.15
    subject_field_sigma_mm: float = 12.0
    session_field_log_sd: float = 0.10
    session_field_sigma_mm: float = 20.0
    voxel_noise_sd: float = 0.06


def _ellipsoid(points: np.ndarray, centre: tuple[float, ...], semi_axes: tuple[float, ...]) -> np.ndarray:
    return sum(((points[i] - centre[i]) / semi_axes[i]) ** 2 for i in range(3)) <= 1.0


def falff_regions(grid: Grid) -> dict[str, np.ndarray]:
    """Weights in ``[0, 1]`` of every planted region on ``grid`` (see the module docstring)."""
    points = grid.points()
    masks = {
        "pcc_precuneus": _ellipsoid(points, PCC_CENTRE_MM, PCC_SEMI_AXES_MM),
        "hippocampus": hippocampus_mask(points),
    }
    out = {}
    for name, mask in masks.items():
        smooth = ndi.gaussian_filter(mask.astype(np.float64), REGION_SMOOTHING_MM / grid.spacing)
        out[name] = (smooth / smooth.max()).astype(np.float32) if smooth.max() > 0 else smooth.astype(np.float32)
    return out


def tissue_falff(t1: np.ndarray) -> np.ndarray:
    """Healthy fALFF of each voxel from its anatomical T1 intensity (template scale); 0 outside the brain."""
    xs, ys = zip(*TISSUE_KNOTS)
    base = np.interp(t1, xs, ys)
    return np.where(t1 >= BRAIN_T1, base, 0.0)


@dataclass(frozen=True)
class SubjectFunction:
    """What a subject's fALFF sessions share: its gain and its smooth spatial field."""

    gain: float
    field: SmoothField

    @classmethod
    def draw(cls, rng: np.random.Generator, params: FalffParams) -> SubjectFunction:
        gain = float(np.exp(rng.normal(0.0, params.subject_gain_log_sd)))
        return cls(gain, SmoothField.draw(rng, params.subject_field_sigma_mm, params.subject_field_log_sd, 1))


def render_falff(
    anatomy_t1: np.ndarray,
    grid: Grid,
    score: float,
    regions: dict[str, np.ndarray],
    subject: SubjectFunction,
    rng: np.random.Generator,
    params: FalffParams,
    noise: bool = True,
) -> np.ndarray:
    """One session's fALFF map (float32 on ``grid``).

    Parameters
    ----------
    anatomy_t1
        Noise-free T1 anatomy of the subject on ``grid``, template scale ``[0, 1]``.
    grid
        Output grid.
    score
        The session's fALFF disease score (0: healthy; larger: lower fALFF in the regions).
    regions
        :func:`falff_regions` of ``grid``.
    subject
        The subject's shared gain and field.
    rng
        The session's generator (its session field and voxel noise).
    params
        Dials.
    noise
        ``False`` leaves out every noise term, so tests see the planted signal alone.
    """
    falff = tissue_falff(anatomy_t1)
    inside = falff > 0
    falff = falff * (1.0 + params.dmn_boost * regions["pcc_precuneus"])
    for name, depth in params.depth:
        falff = falff * np.maximum(params.floor, 1.0 - depth * regions[name] * score)
    # session draws happen whether or not noise is on, so the stream does not depend on it
    session = SmoothField.draw(rng, params.session_field_sigma_mm, params.session_field_log_sd, 1)
    voxel = rng.standard_normal(grid.shape)
    if noise:
        points = grid.points()[:, inside]
        log_field = subject.field(points)[0] + session(points)[0]
        falff[inside] = subject.gain * falff[inside] * np.exp(log_field) + params.voxel_noise_sd * voxel[inside]
        falff = np.clip(falff, 0.0, None) * inside
    return falff.astype(np.float32)
