"""Genetic architecture, latent disease trajectories and the visit schedule.

Disease model (per subject ``i``):

* genetic liability ``L_i = Σ_k a_k (g_ik − mean_k)`` in *years of earlier
  onset*: one APOE-like variant with a large per-allele effect plus many
  small effects;
* onset age ``A_i = onset_mean − L_i + ε_i``, ``ε_i ~ N(0, onset_env_sd²)``;
* latent severity ``s_i(t) = softplus(r_i (t − A_i))`` with a subject-specific
  progression rate ``r_i`` (log-normal); severity is ~0 long before onset and
  grows about linearly after it;
* stage ``CN`` if ``s < mci_threshold``, ``MCI`` if below ``ad_threshold``,
  else ``AD``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alignome.diagnoses import DIAGNOSES

STAGES = DIAGNOSES


@dataclass(frozen=True)
class DiseaseParams:
    """Parameters of the simulated disease; defaults are calibrated to paper 000."""

    onset_mean: float = 73.7
    onset_env_sd: float = 6.0
    apoe_years_per_allele: float = 5.0
    polygenic_sd_years: float = 3.0
    n_small_causal: int = 70
    rate_median: float = 0.30
    rate_log_sd: float = 0.35
    mci_threshold: float = 1.0
    ad_threshold: float = 2.5
    # enrolment: baseline age = mean + coupling * (onset - onset_mean) + N(0, sd²)
    baseline_age_mean: float = 73.5
    enrolment_coupling: float = 0.6
    baseline_age_sd: float = 3.6
    # schedule
    extra_visits_mean: float = 4.1
    max_visits: int = 12
    scan_probability: float = 0.9
    late_scan_probability: float = 0.04
    scan_jitter_days: float = 12.0
    dropout_after_ad: float = 0.35
    mmse_missing: float = 0.03


@dataclass(frozen=True)
class GeneticArchitecture:
    """Causal variants of the liability (indices into the genotype columns)."""

    apoe_index: int
    liability_index: np.ndarray
    liability_effect: np.ndarray  # years of earlier onset per counted allele


def make_architecture(
    dosage: np.ndarray, apoe_index: int, params: DiseaseParams, rng: np.random.Generator
) -> GeneticArchitecture:
    """Draw the causal variants and their per-allele effects on liability.

    Parameters
    ----------
    dosage
        ``(n, m)`` counts of the counted allele.
    apoe_index
        Column of the APOE-like variant (large effect, risk = counted allele).
    params
        Disease parameters (``apoe_years_per_allele``, ``polygenic_sd_years``,
        ``n_small_causal``).
    rng
        Random generator.
    """
    m = dosage.shape[1]
    others = np.setdiff1d(np.arange(m), [apoe_index])
    k = min(params.n_small_causal, others.size)
    small = np.sort(rng.choice(others, size=k, replace=False))
    raw = rng.normal(size=k)
    centred = dosage[:, small] - dosage[:, small].mean(axis=0)
    score_sd = float(np.std(centred @ raw)) or 1.0
    small_effect = raw * params.polygenic_sd_years / score_sd
    index = np.concatenate([[apoe_index], small])
    effect = np.concatenate([[params.apoe_years_per_allele], small_effect])
    return GeneticArchitecture(apoe_index=apoe_index, liability_index=index, liability_effect=effect)


def genetic_liability(dosage: np.ndarray, arch: GeneticArchitecture) -> np.ndarray:
    """Genetic liability in years of earlier onset, centred on the cohort mean."""
    g = dosage[:, arch.liability_index].astype(float)
    return (g - g.mean(axis=0)) @ arch.liability_effect


def softplus(x: np.ndarray) -> np.ndarray:
    """Numerically stable ``log(1 + exp(x))``."""
    return np.logaddexp(0.0, x)


def severity(age: np.ndarray, onset: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Latent severity at ``age`` given onset ages and progression rates."""
    return softplus(rate * (age - onset))


def stage_of(sev: np.ndarray, params: DiseaseParams) -> np.ndarray:
    """True stage (``CN``/``MCI``/``AD``) of each latent severity."""
    idx = (np.asarray(sev) >= params.mci_threshold).astype(int) + (np.asarray(sev) >= params.ad_threshold)
    return np.array(STAGES, dtype=object)[idx]


def baseline_ages(onset: np.ndarray, params: DiseaseParams, rng: np.random.Generator) -> np.ndarray:
    """Age at enrolment, partly coupled to onset age as in a clinic-based cohort.

    ADNI enrols people with and without symptoms at similar ages, so age at
    enrolment is only weakly related to disease stage. Coupling baseline age
    to onset age (``enrolment_coupling`` λ) with residual SD σ makes
    ``cov(age, age − onset) = σ² − λ(1 − λ) var(onset)``, about zero at the
    defaults, while a fraction ``1 − λ`` of the genetic effect on onset still
    shows as a genetic effect on stage.
    """
    age = (
        params.baseline_age_mean
        + params.enrolment_coupling * (onset - params.onset_mean)
        + rng.normal(0.0, params.baseline_age_sd, onset.size)
    )
    return np.clip(age, 55.0, 90.0)


def visit_schedule(
    subjects: list[str],
    base_age: np.ndarray,
    onset: np.ndarray,
    rate: np.ndarray,
    params: DiseaseParams,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assessment and scan ages of every subject.

    Visits start at ``base_age`` and follow ADNI's rhythm (baseline, then every 0.5–2 years); subjects
    with an AD diagnosis drop out more often. Each assessment has a scan with
    probability ``scan_probability`` (the baseline always has one), usually
    within days of it and, with probability ``late_scan_probability``, 91–180
    days away (so a 90-day pairing window drops it unless another assessment
    is close).

    Returns
    -------
    assessments, scans
        Tables with columns ``subject``, ``age`` (years); ``scans`` also has
        ``assessment_age``, the assessment it was planned with.
    """
    n = len(subjects)
    n_events = 1 + np.minimum(rng.poisson(params.extra_visits_mean, n), params.max_visits - 1)
    gaps = np.array([0.5, 1.0, 1.0, 1.0, 1.0, 1.5, 2.0])
    a_rows: list[tuple[str, float]] = []
    s_rows: list[tuple[str, float, float]] = []
    for i, subj in enumerate(subjects):
        t = base_age[i]
        for e in range(n_events[i]):
            if e > 0:
                t = t + rng.choice(gaps) + rng.normal(0.0, 0.04)
            a_rows.append((subj, t))
            if e == 0 or rng.random() < params.scan_probability:
                if rng.random() < params.late_scan_probability:
                    offset = rng.choice([-1.0, 1.0]) * rng.uniform(91.0, 180.0)
                else:
                    offset = rng.normal(0.0, params.scan_jitter_days)
                s_rows.append((subj, t + offset / 365.25, t))
            sev = severity(np.array([t]), onset[i : i + 1], rate[i : i + 1])
            if stage_of(sev, params)[0] == "AD" and rng.random() < params.dropout_after_ad:
                break
    assessments = pd.DataFrame(a_rows, columns=["subject", "age"])
    scans = pd.DataFrame(s_rows, columns=["subject", "age", "assessment_age"])
    scans = scans.sort_values(["subject", "age"], kind="stable").reset_index(drop=True)
    return assessments, scans
