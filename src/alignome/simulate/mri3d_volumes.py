"""Calibrated regional volumes of the simulated 3D MRI cohort: ageing and disease kept apart.

Each subject's true volumes are set here, before any image exists; the renderer
(:mod:`alignome.simulate.mri3d`) then deforms the template until its masks hold
these volumes. For structure ``r`` at age ``a``::

    log V_r = log base_r + head_exponent_r · log s + ageing_r · (a − 74)
              + disease_r · z(a) + u_r

with ``s`` the head scale, ``u_r`` the subject's own residual (SD ``subject_log_sd``)
and ``z`` the latent **disease stage** (hippocampal log-volume lost to disease):
``z₀ = max(0, N(stage_mean[dx], stage_sd[dx]))`` at baseline, then growing at
``m · progression[dx]`` per year (``m`` log-normal, the subject's pace; the interval
leading to a visit runs at that visit's diagnosis). Ageing acts on everyone alike,
so the age range no longer masks the diagnosis. Conversion CN→MCI and MCI→AD
happens with a yearly hazard that rises with the stage (``hazard ·
exp(stage_hazard_slope · (z − stage_mean[dx]))``). The numbers and their sources
are in the README (longitudinal-mri, "The simulated brain").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REFERENCE_AGE = 74.0
STRUCTURES = ("hippocampus", "ventricle", "brain", "entorhinal")


@dataclass(frozen=True)
class Structure:
    """Volume model of one structure (log scale; see the module docstring)."""

    base_ml: float
    ageing_per_year: float
    disease_per_stage: float
    head_exponent: float
    subject_log_sd: float


#: hippocampus: both sides; ventricle: both lateral ventricles; brain: parenchyma
#: (brain mask minus lateral ventricles; the MNI152 brain is larger than an elderly one);
#: entorhinal: both entorhinal cortices (the atlas ellipsoids hold 2.5 ml), more variable between
#: subjects than the hippocampus and a little more affected by disease.
DEFAULT_STRUCTURES = {
    "hippocampus": Structure(base_ml=6.6, ageing_per_year=-0.0135, disease_per_stage=-1.0,
                             head_exponent=1.5, subject_log_sd=0.055),
    "ventricle": Structure(base_ml=22.0, ageing_per_year=0.030, disease_per_stage=1.5,
                           head_exponent=3.0, subject_log_sd=0.22),
    "brain": Structure(base_ml=1780.0, ageing_per_year=-0.0035, disease_per_stage=-0.25,
                       head_exponent=3.0, subject_log_sd=0.02),
    "entorhinal": Structure(base_ml=2.4, ageing_per_year=-0.009, disease_per_stage=-1.1,
                            head_exponent=1.5, subject_log_sd=0.12),
}


@dataclass(frozen=True)
class DiseaseModel:
    """Disease stage at enrolment, its yearly progression and conversion, per diagnosis CN / MCI / AD."""

    stage_mean: tuple[float, float, float] = (-0.02, 0.12, 0.27)
    stage_sd: tuple[float, float, float] = (0.08, 0.10, 0.15)
    progression: tuple[float, float, float] = (0.001, 0.015, 0.032)
    pace_log_sd: float = 0.3
    convert_hazard_per_year: tuple[float, float] = (0.03, 0.11)  # CN→MCI, MCI→AD
    stage_hazard_slope: float = 10.0


def disease_course(
    rng: np.random.Generator, dx: int, gaps: np.ndarray, model: DiseaseModel
) -> tuple[list[int], np.ndarray, np.ndarray, float]:
    """Diagnoses, stage and stage rate at each visit, and the subject's pace ``m``.

    Conversions move one step forward at most per interval, never back; the
    interval leading to a visit progresses at that visit's diagnosis.
    """
    pace = float(np.exp(rng.normal(0.0, model.pace_log_sd)))
    stage = [max(0.0, rng.normal(model.stage_mean[dx], model.stage_sd[dx]))]
    stages = [dx]
    rates = [pace * model.progression[dx]]
    for gap in gaps:
        cur = stages[-1]
        if cur < 2:
            hazard = model.convert_hazard_per_year[cur] * np.exp(
                model.stage_hazard_slope * (stage[-1] - model.stage_mean[cur])
            )
            if rng.random() < 1.0 - np.exp(-hazard * gap):
                cur += 1
        rate = pace * model.progression[cur]
        stages.append(cur)
        rates.append(rate)
        stage.append(stage[-1] + rate * gap)
    return stages, np.array(stage), np.array(rates), pace


def structure_volumes(
    structures: dict[str, Structure], ages: np.ndarray, stage: np.ndarray, head_scale: float,
    residual: dict[str, float],
) -> dict[str, np.ndarray]:
    """True volume (ml) of every structure at every visit."""
    out = {}
    for name, s in structures.items():
        log_v = (np.log(s.base_ml) + s.head_exponent * np.log(head_scale)
                 + s.ageing_per_year * (ages - REFERENCE_AGE) + s.disease_per_stage * stage + residual[name])
        out[name] = np.exp(log_v)
    return out
