"""The built-in simulated ADNI-like cohort (paper 000) with known ground truth.

:func:`simulate_ad_cohort` writes, into one directory,

* ``genotypes.bed/.bim/.fam`` — PLINK 1 binary from msprime (A1 = minor allele);
* ``visits.csv`` — clinical assessments ``subject,age,diagnosis,mmse,sex,education``;
* ``volumes.csv`` — one row per MRI scan, ``subject,age`` then 97 FreeSurfer-like
  regions and ``EstimatedTotalIntraCranialVol`` (mm³);
* ``sumstats.tsv`` — an external GWAS of AD liability ``variant,effect_allele,beta,p``;
* ``truth.csv`` — per scan ``subject,age,latent_severity,genetic_liability,stage``
  (with ``shared_signal`` S > 0 also ``years_since_onset,shared_genetic_effect``);
* ``causal_variants.csv`` — ``variant,effect_on_liability,effect_on_volume,volume_regions``
  (with S > 0 also ``shared_effect_on_volume,shared_effect_on_rate,shared_regions``);
* ``cohort.yaml`` — the data section that reads all of it back (relative paths).

The disease model is described in :mod:`alignome.simulate.disease`. Volumes
follow, on the log scale,
``log V = log base + 0.8 log(ICV/ICV₀) + slope·(age − 73) − 0.03·w·m_i·s(age)^1.5
+ subject effect + genotype effect·(age − 55)/30 + w·e_i(age) + noise``
with region weights ``w`` graded from hippocampus/entorhinal (1) over temporal
and parietal cortex to motor/occipital (≈0); ventricles grow (w < 0).
``e_i`` is the shared genotype–imaging signal, zero at the default
``shared_signal=0`` (the negative control, byte-identical to the cohort before
the dial existed); :mod:`alignome.simulate.shared_signal` describes it and the
published APOE-ε4 effects that S = 1 reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.errors import ConfigError
from alignome.simulate.disease import (
    baseline_ages,
    DiseaseParams,
    GeneticArchitecture,
    genetic_liability,
    make_architecture,
    severity,
    stage_of,
    visit_schedule,
)
from alignome.simulate.genotypes import GenotypeData, pick_apoe_like, simulate_genotypes, write_plink
from alignome.simulate.regions import ICV_NAME, Region, default_regions, region_arrays
from alignome.simulate.shared_signal import (
    check_strength,
    make_shared_signal,
    shared_columns,
    shared_effect,
    SharedSignal,
    SharedSignalParams,
    years_since_onset,
)
from alignome.simulate.sumstats import expected_z, simulate_sumstats

MIN_SUBJECTS = 20
COHORT_YAML = """\
visits: {path: visits.csv, columns: {subject: subject, age: age, diagnosis: diagnosis, mmse: mmse, sex: sex, education: education}}
volumes: {path: volumes.csv, columns: {subject: subject, age: age}, regions: null}
genotypes: {bfile: genotypes}
sumstats: {path: sumstats.tsv, columns: {variant: variant, effect_allele: effect_allele, beta: beta, p: p}}
truth: truth.csv
"""


@dataclass(frozen=True)
class VolumeParams:
    """Parameters of the volume model."""

    disease_scale: float = 0.030
    atrophy_exponent: float = 1.5
    susceptibility_log_sd: float = 0.25
    shared_factor_loading: float = 0.5
    icv_exponent: float = 0.8
    icv_male: float = 1.58e6
    icv_female: float = 1.40e6
    icv_sd: float = 0.11e6
    icv_noise_sd: float = 0.01
    n_volume_causal: int = 6
    volume_effect_range: tuple[float, float] = (0.015, 0.035)
    regions_per_volume_snp: int = 5
    n_external: int = 20_000
    gwas_attenuation: float = 0.5


@dataclass(frozen=True)
class _Subjects:
    ids: list[str]
    male: np.ndarray
    education: np.ndarray
    liability: np.ndarray
    onset: np.ndarray
    rate: np.ndarray
    baseline_age: np.ndarray


def _check_subjects(subjects: int) -> int:
    if not isinstance(subjects, (int, np.integer)) or isinstance(subjects, bool) or subjects < MIN_SUBJECTS:
        raise ConfigError(
            f"cannot simulate a cohort of {subjects} subjects; at least {MIN_SUBJECTS} are needed "
            "for cross-validated diagnosis tasks",
            field="subjects",
            fix=f"use --subjects {MIN_SUBJECTS} or more (the paper's ADNI cohort has 844)",
        )
    return int(subjects)


def _draw_subjects(
    n: int, dosage: np.ndarray, arch: GeneticArchitecture, params: DiseaseParams, rng: np.random.Generator
) -> _Subjects:
    width = max(4, len(str(n)))
    ids = [f"S{i + 1:0{width}d}" for i in range(n)]
    male = rng.random(n) < 0.47
    education = np.clip(np.round(rng.normal(15.8, 2.8, n)), 6, 20).astype(int)
    liability = genetic_liability(dosage, arch)
    onset = params.onset_mean - liability + rng.normal(0.0, params.onset_env_sd, n)
    rate = params.rate_median * np.exp(rng.normal(0.0, params.rate_log_sd, n))
    return _Subjects(ids, male, education, liability, onset, rate, baseline_ages(onset, params, rng))


def _mmse(sev: np.ndarray, education: np.ndarray, missing: float, rng: np.random.Generator) -> pd.Series:
    """MMSE from severity and education, with a few missing values."""
    raw = 29.4 - 2.3 * sev + 0.12 * (education - 16) + rng.normal(0.0, 1.1, sev.size)
    score = np.clip(np.round(raw), 0, 30).astype("int64")
    out = pd.Series(score, dtype="Int64")
    out[rng.random(sev.size) < missing] = pd.NA
    return out


def _bilateral_stem(name: str) -> str | None:
    """``Left-X``/``Right-X`` -> ``X``; ``ctx-lh-X``/``ctx-rh-X`` -> ``ctx-X``; else None."""
    if name.startswith(("Left-", "Right-")):
        return name.split("-", 1)[1]
    if name.startswith(("ctx-lh-", "ctx-rh-")):
        return "ctx-" + name[7:]
    return None


def _volume_snps(
    geno: GenotypeData, exclude: int, regions: list[Region], vp: VolumeParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Volume-causal SNPs: index, per-allele log-volume effect at age 85, region loadings."""
    candidates = np.setdiff1d(np.arange(geno.n_variants), [exclude])
    idx = np.sort(rng.choice(candidates, size=min(vp.n_volume_causal, candidates.size), replace=False))
    lo, hi = vp.volume_effect_range
    effect = rng.uniform(lo, hi, idx.size) * rng.choice([-1.0, 1.0], idx.size)
    stems = [_bilateral_stem(r.name) for r in regions]
    eligible = sorted({st for st in stems if st is not None and "Vent" not in st})
    loadings = np.zeros((idx.size, len(regions)))
    for k in range(idx.size):
        chosen = set(rng.choice(eligible, size=vp.regions_per_volume_snp, replace=False).tolist())
        loadings[k] = [1.0 if st in chosen else 0.0 for st in stems]
    return idx, effect, loadings


def _volumes(
    scans: pd.DataFrame,
    subj: _Subjects,
    sev: np.ndarray,
    dosage: np.ndarray,
    vol_snps: tuple[np.ndarray, np.ndarray, np.ndarray],
    regions: list[Region],
    vp: VolumeParams,
    rng: np.random.Generator,
    shared: np.ndarray | None = None,
) -> pd.DataFrame:
    """Regional volumes (mm³) of every scan; ``shared`` adds a ``(scans, regions)`` log-volume term."""
    n = len(subj.ids)
    arr = region_arrays(regions)
    r = len(regions)
    icv = np.where(subj.male, vp.icv_male, vp.icv_female) + rng.normal(0.0, vp.icv_sd, n)
    susceptibility = np.exp(rng.normal(0.0, vp.susceptibility_log_sd, n))
    # a shared "brain reserve" factor that mimics the disease pattern plus region noise
    sign = np.where(arr["disease"] < 0, -1.0, 1.0)
    rho = vp.shared_factor_loading
    subject_effect = arr["subject_sd"] * (
        rho * rng.normal(size=(n, 1)) * sign + np.sqrt(1 - rho**2) * rng.normal(size=(n, r))
    )
    idx, effect, loadings = vol_snps
    g = dosage[:, idx].astype(float)
    genetic = (g - g.mean(axis=0)) @ (effect[:, None] * loadings)  # (n, r) at age 85

    row = pd.Index(subj.ids).get_indexer(scans["subject"])
    age = scans["age"].to_numpy()
    age_growth = np.clip((age - 55.0) / 30.0, 0.0, None)[:, None]
    logv = (
        np.log(arr["base"])[None, :]
        + vp.icv_exponent * np.log(icv[row] / 1.49e6)[:, None]
        + arr["age_slope"][None, :] * (age - 73.0)[:, None]
        - vp.disease_scale * arr["disease"][None, :] * (susceptibility[row] * sev**vp.atrophy_exponent)[:, None]
        + subject_effect[row]
        + genetic[row] * age_growth
        + arr["noise_sd"][None, :] * rng.normal(size=(row.size, r))
    )
    if shared is not None:
        logv = logv + shared
    vols = pd.DataFrame(np.exp(logv).round(1), columns=[reg.name for reg in regions])
    vols[ICV_NAME] = (icv[row] * np.exp(rng.normal(0.0, vp.icv_noise_sd, row.size))).round(0)
    vols.insert(0, "age", age.round(3))
    vols.insert(0, "subject", scans["subject"].to_numpy())
    return vols


def simulate_ad_cohort(
    out: Path,
    subjects: int = 844,
    seed: int = 0,
    *,
    disease: DiseaseParams | None = None,
    volume: VolumeParams | None = None,
    shared_signal: float = 0.0,
    shared: SharedSignalParams | None = None,
) -> Path:
    """Write the simulated ADNI-like cohort into ``out``.

    Parameters
    ----------
    out
        Directory to write into (created if needed; files are overwritten).
    subjects
        Number of subjects, at least 20 (paper 000: 844).
    seed
        Master seed; the same seed gives byte-identical files.
    disease, volume
        Model parameters; defaults are calibrated to paper 000 (see
        :mod:`alignome.simulate.calibration`).
    shared_signal
        Strength S ≥ 0 of the direct genotype effects on medial-temporal volumes
        and their atrophy rate (:mod:`alignome.simulate.shared_signal`): 0 is the
        negative control, 1 the published APOE-ε4 size. Only volumes and the
        truth tables change with S; genotypes, visits and sumstats do not.
    shared
        Sizes and carriers of the shared signal at S = 1.

    Returns
    -------
    pathlib.Path
        ``out``; ``out / "cohort.yaml"`` is the data section to read it back.

    Raises
    ------
    alignome.errors.ConfigError
        If ``subjects`` is below 20 or ``shared_signal`` is negative or not a number.

    Examples
    --------
    >>> from alignome.simulate import simulate_ad_cohort
    >>> path = simulate_ad_cohort("data/sim", subjects=200, seed=1)  # doctest: +SKIP
    """
    n = _check_subjects(subjects)
    strength = check_strength(shared_signal)
    dp = disease or DiseaseParams()
    vp = volume or VolumeParams()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    seq = np.random.SeedSequence(int(seed))
    s_geno, s_arch, s_subj, s_sched, s_vol, s_gwas, s_mmse = seq.spawn(7)
    geno = simulate_genotypes(n, int(s_geno.generate_state(1)[0]))
    apoe = pick_apoe_like(geno)
    arch_rng = np.random.default_rng(s_arch)
    arch = make_architecture(geno.dosage, apoe, dp, arch_rng)
    regions = default_regions()
    vol_snps = _volume_snps(geno, apoe, regions, vp, arch_rng)
    subj = _draw_subjects(n, geno.dosage, arch, dp, np.random.default_rng(s_subj))

    assessments, scans = visit_schedule(subj.ids, subj.baseline_age, subj.onset, subj.rate, dp, np.random.default_rng(s_sched))
    row_a = pd.Index(subj.ids).get_indexer(assessments["subject"])
    sev_a = severity(assessments["age"].to_numpy(), subj.onset[row_a], subj.rate[row_a])
    visits = pd.DataFrame(
        {
            "subject": assessments["subject"],
            "age": assessments["age"].round(3),
            "diagnosis": stage_of(sev_a, dp),
            "mmse": _mmse(sev_a, subj.education[row_a], dp.mmse_missing, np.random.default_rng(s_mmse)),
            "sex": np.where(subj.male[row_a], "M", "F"),
            "education": subj.education[row_a],
        }
    )
    row_s = pd.Index(subj.ids).get_indexer(scans["subject"])
    sev_s = severity(scans["age"].to_numpy(), subj.onset[row_s], subj.rate[row_s])
    truth = pd.DataFrame(
        {
            "subject": scans["subject"],
            "age": scans["age"].round(3),
            "latent_severity": sev_s.round(4),
            "genetic_liability": subj.liability[row_s].round(4),
            "stage": stage_of(sev_s, dp),
        }
    )
    # external GWAS: standardised effects, attenuated to the case-control scale
    total_sd = float(np.sqrt(np.var(subj.liability) + dp.onset_env_sd**2))
    joint = np.zeros(geno.n_variants)
    sd_g = geno.dosage.std(axis=0)
    joint[arch.liability_index] = vp.gwas_attenuation * arch.liability_effect * sd_g[arch.liability_index] / total_sd

    signal = None
    shared_term = None
    if strength > 0:
        gwas_z = expected_z(geno.dosage, geno.chromosome, joint, vp.n_external)
        signal = make_shared_signal(arch, regions, strength, shared or SharedSignalParams(), gwas_z)
        tau = years_since_onset(scans["age"].to_numpy(), subj.onset[row_s])
        effect = shared_effect(geno.dosage, row_s, tau, signal)
        shared_term = effect[:, None] * signal.region_weight[None, :]
        truth = truth.assign(years_since_onset=tau.round(4), shared_genetic_effect=effect.round(6))
    vols = _volumes(
        scans, subj, sev_s, geno.dosage, vol_snps, regions, vp, np.random.default_rng(s_vol), shared_term
    )

    sumstats = simulate_sumstats(
        geno.dosage, geno.chromosome, geno.variant_id, geno.allele_1, joint, vp.n_external,
        np.random.default_rng(s_gwas),
    )

    write_plink(out / "genotypes", geno, subj.ids, np.where(subj.male, 1, 2))
    visits.to_csv(out / "visits.csv", index=False)
    vols.to_csv(out / "volumes.csv", index=False)
    truth.to_csv(out / "truth.csv", index=False)
    sumstats.to_csv(out / "sumstats.tsv", sep="\t", index=False, float_format="%.6g")
    _causal_table(geno, arch, vol_snps, regions, signal).to_csv(
        out / "causal_variants.csv", index=False, float_format="%.6g"
    )
    (out / "cohort.yaml").write_text(COHORT_YAML)
    return out


def _causal_table(
    geno: GenotypeData,
    arch: GeneticArchitecture,
    vol_snps: tuple[np.ndarray, np.ndarray, np.ndarray],
    regions: list[Region],
    signal: SharedSignal | None = None,
) -> pd.DataFrame:
    """Causal variants with per-allele effects (counted allele = A1).

    ``effect_on_liability`` is in years of earlier onset per allele;
    ``effect_on_volume`` the log-volume change per allele at age 85 (growing
    linearly from zero at 55) in the regions listed in ``volume_regions``.
    With a shared signal, its columns follow (see
    :func:`alignome.simulate.shared_signal.shared_columns`).
    """
    idx, effect, loadings = vol_snps
    liab = dict(zip(arch.liability_index.tolist(), arch.liability_effect.tolist()))
    vol = dict(zip(idx.tolist(), effect.tolist()))
    where = {int(k): ";".join(regions[j].name for j in np.flatnonzero(loadings[i])) for i, k in enumerate(idx)}
    rows = sorted(set(liab) | set(vol))
    table = pd.DataFrame(
        {
            "variant": geno.variant_id[rows],
            "effect_on_liability": [liab.get(k, 0.0) for k in rows],
            "effect_on_volume": [vol.get(k, 0.0) for k in rows],
            "volume_regions": [where.get(k, "") for k in rows],
        }
    )
    if signal is None:
        return table
    return pd.concat([table, shared_columns(signal, regions, rows)], axis=1)
