"""FreeSurfer-like regions of the simulated cohort and how each one behaves.

Names follow FreeSurfer's ``aseg.stats`` (subcortical, ventricles, ICV) and
``aparc.stats`` Desikan–Killiany labels written as ``ctx-lh-<name>`` /
``ctx-rh-<name>``, as in FreeSurfer's lookup table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ICV_NAME = "EstimatedTotalIntraCranialVol"


@dataclass(frozen=True)
class Region:
    """Generative parameters of one region (log-volume scale).

    Attributes
    ----------
    name
        FreeSurfer-like label.
    base
        Typical volume in mm³ of a 73-year-old with average head size.
    age_slope
        Change of log volume per year of age (negative = shrinks).
    disease
        Atrophy weight per unit of latent severity (1 = hippocampus-like,
        negative = grows with disease, as ventricles do).
    subject_sd
        Between-subject SD of log volume after head size, sex and age.
    noise_sd
        Scan-to-scan measurement SD of log volume.
    """

    name: str
    base: float
    age_slope: float
    disease: float
    subject_sd: float
    noise_sd: float


# name, base mm³, age slope, disease weight, subject sd, noise sd (per hemisphere)
_ASEG_BILATERAL = [
    ("Lateral-Ventricle", 16000, 0.035, -0.6, 0.40, 0.04),
    ("Inf-Lat-Vent", 700, 0.040, -1.2, 0.45, 0.10),
    ("Cerebellum-White-Matter", 14000, -0.003, 0.02, 0.10, 0.03),
    ("Cerebellum-Cortex", 50000, -0.004, 0.05, 0.09, 0.02),
    ("Thalamus", 7000, -0.004, 0.15, 0.08, 0.03),
    ("Caudate", 3400, -0.003, 0.05, 0.11, 0.03),
    ("Putamen", 4500, -0.005, 0.10, 0.10, 0.03),
    ("Pallidum", 1900, -0.003, 0.05, 0.11, 0.04),
    ("Hippocampus", 3700, -0.006, 1.00, 0.09, 0.025),
    ("Amygdala", 1500, -0.005, 0.90, 0.11, 0.04),
    ("Accumbens-area", 500, -0.006, 0.30, 0.14, 0.06),
    ("VentralDC", 3900, -0.003, 0.10, 0.09, 0.03),
]
_ASEG_MIDLINE = [
    ("3rd-Ventricle", 1500, 0.030, -0.4, 0.35, 0.05),
    ("4th-Ventricle", 1900, 0.010, -0.05, 0.30, 0.06),
    ("Brain-Stem", 21000, -0.002, 0.02, 0.09, 0.02),
    ("CSF", 1200, 0.020, -0.3, 0.25, 0.08),
    ("WM-hypointensities", 2500, 0.050, -0.2, 0.60, 0.08),
]
# Desikan–Killiany cortical labels: base volume (mm³) and disease weight.
_APARC = [
    ("bankssts", 2600, 0.45),
    ("caudalanteriorcingulate", 2000, 0.10),
    ("caudalmiddlefrontal", 6200, 0.20),
    ("cuneus", 3200, 0.05),
    ("entorhinal", 1900, 1.00),
    ("fusiform", 9200, 0.60),
    ("inferiorparietal", 11500, 0.45),
    ("inferiortemporal", 10000, 0.65),
    ("isthmuscingulate", 2500, 0.50),
    ("lateraloccipital", 11500, 0.10),
    ("lateralorbitofrontal", 7500, 0.20),
    ("lingual", 6500, 0.05),
    ("medialorbitofrontal", 5300, 0.20),
    ("middletemporal", 10000, 0.65),
    ("parahippocampal", 2100, 0.75),
    ("paracentral", 3400, 0.05),
    ("parsopercularis", 4300, 0.15),
    ("parsorbitalis", 2100, 0.15),
    ("parstriangularis", 3700, 0.15),
    ("pericalcarine", 2000, 0.02),
    ("postcentral", 8700, 0.05),
    ("posteriorcingulate", 3100, 0.35),
    ("precentral", 12500, 0.05),
    ("precuneus", 9500, 0.50),
    ("rostralanteriorcingulate", 2400, 0.10),
    ("rostralmiddlefrontal", 15500, 0.20),
    ("superiorfrontal", 21000, 0.20),
    ("superiorparietal", 12500, 0.30),
    ("superiortemporal", 11500, 0.45),
    ("supramarginal", 10000, 0.40),
    ("frontalpole", 900, 0.10),
    ("temporalpole", 2400, 0.70),
    ("transversetemporal", 1000, 0.10),
    ("insula", 6800, 0.25),
]


def default_regions() -> list[Region]:
    """The 97 brain regions of the simulated cohort (ICV is handled apart).

    Returns
    -------
    list of Region
        Left/right subcortical structures, midline structures, then
        ``ctx-lh-*`` and ``ctx-rh-*`` Desikan–Killiany cortical volumes.
    """
    regions: list[Region] = []
    for side in ("Left", "Right"):
        for name, base, age, dis, sd, noise in _ASEG_BILATERAL:
            regions.append(Region(f"{side}-{name}", base, age, dis, sd, noise))
    for name, base, age, dis, sd, noise in _ASEG_MIDLINE:
        regions.append(Region(name, base, age, dis, sd, noise))
    for hemi in ("lh", "rh"):
        for name, base, dis in _APARC:
            sd = 0.10 if base >= 2000 else 0.13
            noise = 0.03 if base >= 2000 else 0.05
            regions.append(Region(f"ctx-{hemi}-{name}", base, -0.004, dis, sd, noise))
    return regions


def region_arrays(regions: list[Region]) -> dict[str, np.ndarray]:
    """Stack the region parameters into arrays keyed by field name."""
    return {
        "base": np.array([r.base for r in regions], dtype=float),
        "age_slope": np.array([r.age_slope for r in regions], dtype=float),
        "disease": np.array([r.disease for r in regions], dtype=float),
        "subject_sd": np.array([r.subject_sd for r in regions], dtype=float),
        "noise_sd": np.array([r.noise_sd for r in regions], dtype=float),
    }
