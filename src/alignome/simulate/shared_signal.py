"""The shared genotype–imaging signal of the simulated AD cohort (the ``shared_signal`` dial S).

Without it (S = 0) genotypes reach volumes only through disease onset and six
volume-causal variants that the AD summary statistics barely rank, so a
contrastive SNP↔volume objective has nothing real to align. With S > 0 the
variants that the recipe's selection picks first — the APOE-like variant and
the ``n_polygenic`` liability variants with the largest expected external-GWAS
z-score (effect, allele frequency and linkage disequilibrium together) — also
act on medial-temporal volumes directly, at any disease stage:

``Δ log V_r(t) = w_r · e_i(t)``,
``e_i(t) = −S · Σ_k (g_ik − ḡ_k) · (a_k / a_APOE) · (level + rate · τ_i(t))``

with ``g`` the counted-allele dosage, ``a_k`` the variant's effect on onset
(years per allele; the APOE-like variant's is ``a_APOE``), ``τ_i(t) = max(t −
onset_i, 0)`` the years since the subject's latent onset, and ``w_r`` the
region's disease weight (hippocampus and entorhinal 1, amygdala 0.9, ...;
the inferior lateral ventricle, −1.2, grows) for regions with ``|w_r| ≥
min_region_weight``. ``e`` is the shift of log hippocampal volume. The term
changes volumes by genotype *beyond* what flows through severity: at a fixed
stage and a fixed time since onset, carriers have smaller volumes and lose them
faster.

Sizes at S = 1 (per APOE-ε4-like allele, hippocampus): ``level`` = 2 %
smaller volume and ``rate`` = 0.5 %/year faster atrophy after onset. They
are of the size ADNI reports for APOE ε4 at a fixed diagnosis: dose-dependent
smaller hippocampi in MCI and AD (Hostage et al. 2013, PLoS ONE 8(2):e54483),
faster hippocampal loss in ε4 carriers with AD (Schuff et al. 2009, Brain
132(4):1067–1077) and higher hippocampal atrophy rates in ε4 carriers in AD,
progressing and stable MCI after adjusting for MMSE (Manning et al. 2014, PLoS
ONE 9(5):e97608); 0.5 %/year is about 15 % of the 3.3 %/year by which AD
exceeds control hippocampal atrophy rates in a meta-analysis (Barnes et al.
2009, Neurobiol Aging 30(11):1711–1723; 4.66 vs 1.41 %/year). S scales both.
On 844 subjects the true term ``e`` then explains about 2 % of the variance of
log hippocampal volume beyond age, head size, true severity and stage (about
10 % at S = 2); ``tests/simulate/test_shared_signal.py`` checks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alignome.errors import ConfigError
from alignome.simulate.disease import GeneticArchitecture
from alignome.simulate.regions import Region

FIELD = "shared_signal"


@dataclass(frozen=True)
class SharedSignalParams:
    """Per-allele sizes of the shared signal at S = 1 and which variants and regions carry it."""

    level_per_allele: float = 0.02  # log hippocampal volume per APOE-like allele, any stage
    rate_per_allele: float = 0.005  # log hippocampal volume per APOE-like allele and year since onset
    n_polygenic: int = 5  # liability variants besides the APOE-like one, largest expected GWAS |z| first
    min_region_weight: float = 0.7  # regions whose |disease weight| reaches this carry it


@dataclass(frozen=True)
class SharedSignal:
    """The shared-signal variants with their effects at the cohort's S, and the region weights."""

    index: np.ndarray  # genotype columns
    level: np.ndarray  # log-volume per counted allele at region weight 1
    rate: np.ndarray  # log-volume per counted allele and year since onset at region weight 1
    region_weight: np.ndarray  # (n_regions,) zero outside the carrying regions


def check_strength(strength: object) -> float:
    """``strength`` as a float ≥ 0, or a ConfigError naming the field and the fix."""
    ok = isinstance(strength, (int, float, np.integer, np.floating)) and not isinstance(strength, bool)
    if not ok or not np.isfinite(float(strength)) or float(strength) < 0:
        raise ConfigError(
            f"shared_signal must be a number ≥ 0, got {strength!r}",
            field=FIELD,
            fix="use 0 for the negative control, 1 for the published APOE-ε4 size, 2 for twice that",
        )
    return float(strength)


def make_shared_signal(
    arch: GeneticArchitecture,
    regions: list[Region],
    strength: float,
    params: SharedSignalParams,
    gwas_z: np.ndarray,
) -> SharedSignal:
    """Pick the shared-signal variants and scale their effects by ``strength``.

    ``gwas_z`` is the noise-free z-score of every variant in the external GWAS
    (:func:`alignome.simulate.sumstats.expected_z`); the liability variants it
    ranks highest join the APOE-like one, so the recipe's top-p selection keeps them.
    """
    effect = dict(zip(arch.liability_index.tolist(), arch.liability_effect.tolist()))
    apoe_effect = effect[arch.apoe_index]
    small = [k for k in arch.liability_index.tolist() if k != arch.apoe_index]
    small.sort(key=lambda k: (-abs(gwas_z[k]), k))
    index = np.array(sorted([arch.apoe_index, *small[: params.n_polygenic]]), dtype=int)
    relative = np.array([effect[k] / apoe_effect for k in index])
    weight = np.array([r.disease for r in regions], dtype=float)
    weight[np.abs(weight) < params.min_region_weight] = 0.0
    return SharedSignal(
        index=index,
        level=-strength * params.level_per_allele * relative,
        rate=-strength * params.rate_per_allele * relative,
        region_weight=weight,
    )


def years_since_onset(age: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """``max(age − onset, 0)``: how long the subject's latent disease has run at each scan."""
    return np.clip(np.asarray(age, dtype=float) - np.asarray(onset, dtype=float), 0.0, None)


def shared_effect(dosage: np.ndarray, row: np.ndarray, tau: np.ndarray, signal: SharedSignal) -> np.ndarray:
    """Per-scan shift of log volume at region weight 1 (``e`` in the module docstring).

    ``row`` maps each scan to its subject's genotype row and ``tau`` is the
    scan's :func:`years_since_onset`.
    """
    g = dosage[:, signal.index].astype(float)
    centred = (g - g.mean(axis=0))[row]
    return centred @ signal.level + (centred @ signal.rate) * tau


def shared_columns(signal: SharedSignal, regions: list[Region], variants: list[int]) -> pd.DataFrame:
    """Truth-table columns of the shared signal for the genotype columns ``variants``.

    ``shared_effect_on_volume`` and ``shared_effect_on_rate`` hold the
    per-allele effect at region weight 1 (the hippocampus); ``shared_regions``
    lists ``region:weight`` pairs. Variants without a shared effect get zeros
    and an empty string.
    """
    pos = {int(k): i for i, k in enumerate(signal.index)}
    where = ";".join(f"{regions[j].name}:{signal.region_weight[j]:g}" for j in np.flatnonzero(signal.region_weight))
    return pd.DataFrame(
        {
            "shared_effect_on_volume": [signal.level[pos[k]] if k in pos else 0.0 for k in variants],
            "shared_effect_on_rate": [signal.rate[pos[k]] if k in pos else 0.0 for k in variants],
            "shared_regions": [where if k in pos else "" for k in variants],
        }
    )
