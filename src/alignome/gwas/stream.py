"""Stream variant blocks out of a PLINK 1 ``.bed`` file.

Memory is flat in the number of variants: only ``n_samples × block_size``
genotypes are held at a time (bed-reader decodes just the requested columns).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort.genotypes import read_plink_fileset
from alignome.cohort.tables import as_id
from alignome.errors import DataError


@dataclass(frozen=True)
class Block:
    """One block of variants ``start:stop`` (file order).

    Attributes
    ----------
    start, stop
        Variant positions in the ``.bim``.
    genotypes
        (n_selected_samples, stop − start) float32 counts of the ``.bim``
        column-5 allele (A1 in PLINK 1 terms = ALT in plink2 terms), NaN missing.
    """

    start: int
    stop: int
    genotypes: np.ndarray


@dataclass
class BedStream:
    """An opened ``.bed`` fileset: samples and variants, read lazily by block.

    Attributes
    ----------
    bed
        Path of the ``.bed`` file.
    samples
        IIDs (str) in ``.fam`` order.
    sex
        ``.fam`` column 5 per sample: 1 male, 2 female, 0 unknown (anything else counts as unknown).
    variants
        One row per variant, ``.bim`` order; columns ``chrom``, ``pos``,
        ``id``, ``alt`` (``.bim`` column 5, counted), ``ref`` (column 6).
    """

    bed: Path
    samples: pd.Index
    variants: pd.DataFrame
    sex: np.ndarray

    @cached_property
    def _handle(self):
        """A bed-reader handle on the fileset (opened on first use)."""
        from bed_reader import open_bed

        return open_bed(self.bed, fam_filepath=self.bed.with_suffix(".fam"), bim_filepath=self.bed.with_suffix(".bim"),
                        iid_count=len(self.samples), sid_count=len(self.variants), num_threads=1)

    def blocks(self, sample_index: np.ndarray | None = None, block_size: int = 1000) -> Iterator[Block]:
        """Yield consecutive variant blocks for the samples at ``sample_index``."""
        if block_size < 1:
            raise ValueError(f"block_size must be ≥ 1, got {block_size}")
        rows = np.s_[:] if sample_index is None else np.asarray(sample_index, dtype=np.intp)
        m = len(self.variants)
        for start in range(0, m, block_size):
            stop = min(start + block_size, m)
            try:
                values = self._handle.read(index=np.s_[rows, start:stop], dtype="float32", order="F", num_threads=1)
            except (ValueError, OSError) as exc:
                raise DataError(f"bed-reader could not read variants {start}:{stop}: {exc}", file=self.bed) from None
            yield Block(start=start, stop=stop, genotypes=values)


def open_bed_stream(prefix: str | Path) -> BedStream:
    """Open ``prefix.bed/.bim/.fam`` (validated as in :func:`alignome.cohort.genotypes.read_plink_fileset`).

    bed-reader is opened on first use only: the association scans read the packed bytes themselves.
    """
    bed, fam_frame, v = read_plink_fileset(Path(prefix))
    variants = pd.DataFrame({
        "chrom": v["chrom"].to_numpy(),
        "pos": v["pos"].to_numpy(),
        "id": v.index.to_numpy(),
        "ref": v["a2"].to_numpy(),
        "alt": v["a1"].to_numpy(),
    })
    sex = pd.to_numeric(fam_frame[4], errors="coerce").to_numpy()
    sex = np.where(np.isin(sex, (1, 2)), sex, 0).astype(np.int8)
    return BedStream(bed=bed, samples=pd.Index(as_id(fam_frame[1]).astype(str)), variants=variants, sex=sex)
