"""Which samples of a genotype source join the cohort: those in the ``keep`` file (when given) that have visits.

Real filesets hold more samples than one study's visits table (a consortium's release, relatives, QC
failures): those are kept out and counted, never read into the cohort.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alignome.cohort.model import DropRecord
from alignome.errors import DataError
from alignome.gwas.traits import read_ids


def _keep_ids(path: Path, samples: pd.Index) -> set[str]:
    ids = set(read_ids(path))
    if not ids:
        raise DataError("the keep file holds no sample IDs", file=path, field="genotypes.keep",
                        fix="write one sample per line: 'FID IID' or 'IID' (as for `plink --keep`)")
    if not ids & set(samples):
        raise DataError(
            f"none of the {len(ids)} IDs in the keep file is a sample of the genotypes (e.g. {sorted(ids)[:3]})",
            file=path, field="genotypes.keep",
            fix="list the genotype samples' IIDs (the .fam's second column, or the dosage table's subject column)",
        )
    return ids


def genotyped_subjects(samples: pd.Index, visit_subjects: pd.Index, source: str, keep: Path | None,
                       drops: list[DropRecord]) -> pd.Index:
    """The samples (file order) that are in ``keep`` (when given) and have visits; the others are counted in ``drops``.

    ``source`` names the genotype file in the drop records (e.g. ``genotypes (geno.fam)``).
    """
    chosen = pd.Series(True, index=samples)
    if keep is not None:
        listed = samples.isin(_keep_ids(keep, samples))
        if not listed.all():
            drops.append(DropRecord(source, int((~listed).sum()), f"not in the keep file {Path(keep).name}", "sample(s)"))
        chosen &= listed
    visited = samples.isin(visit_subjects)
    extra = chosen.to_numpy() & ~visited
    if extra.any():
        drops.append(DropRecord(source, int(extra.sum()),
                                f"not in the visits table, kept out (e.g. {list(samples[extra][:3])})", "sample(s)"))
    return samples[chosen.to_numpy() & visited]
