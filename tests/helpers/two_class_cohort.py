"""An OASIS-like cohort on disk: Nondemented/Demented labels only, three volume columns, no truth (no tests here).

Built from the simulated cohort by relabelling CN as Nondemented and MCI and AD as Demented, the shape
of a real two-class cohort that has no MCI.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from alignome.simulate.ad_cohort import simulate_ad_cohort

#: The three volume columns kept (two hippocampi and the intracranial volume).
VOLUME_COLUMNS = ["Left-Hippocampus", "Right-Hippocampus", "EstimatedTotalIntraCranialVol"]
RELABEL = {"CN": "Nondemented", "MCI": "Demented", "AD": "Demented"}


def write_two_class_cohort(root: Path, subjects: int = 150, seed: int = 0, genotypes: bool = True) -> Path:
    """Write the cohort and its ``cohort.yaml`` into ``root``; ``genotypes=False`` leaves the data section without them."""
    simulate_ad_cohort(root, subjects=subjects, seed=seed)
    visits = pd.read_csv(root / "visits.csv")
    visits["diagnosis"] = visits["diagnosis"].map(RELABEL)
    visits.to_csv(root / "visits.csv", index=False)
    volumes = pd.read_csv(root / "volumes.csv")
    volumes[["subject", "age", *VOLUME_COLUMNS]].to_csv(root / "volumes.csv", index=False)
    section = yaml.safe_load((root / "cohort.yaml").read_text())
    section.pop("truth")
    section["diagnosis_map"] = {"CN": ["Nondemented"], "AD": ["Demented"]}
    if not genotypes:
        section.pop("genotypes")
        section.pop("sumstats")
    (root / "cohort.yaml").write_text(yaml.safe_dump(section))
    return root
