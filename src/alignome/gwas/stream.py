"""Stream variant blocks out of a PLINK 1 ``.bed`` file.

Memory is flat in the number of variants: only ``n_samples × block_size``
genotypes are held at a time (bed-reader decodes just the requested columns).
The ``.bim``/``.fam`` are read without pandas.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from alignome.errors import DataError
from alignome.io.plink_fileset import read_fileset


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


@dataclass(frozen=True)
class Variants:
    """The ``.bim`` as arrays, one value per variant: ``chrom``, ``pos`` (int64), ``id``, ``alt`` (``.bim``
    column 5, counted), ``ref`` (column 6).  ``variants["chrom"]`` is ``variants.chrom``, and the result
    tables' names work too (``variants["#CHROM"]``, ``["POS"]``, ``["ID"]``, ``["REF"]``, ``["ALT"]``);
    ``len(variants)`` is the number of variants."""

    chrom: np.ndarray
    pos: np.ndarray
    id: np.ndarray
    ref: np.ndarray
    alt: np.ndarray

    def __len__(self) -> int:
        return len(self.id)

    def __getitem__(self, name: str) -> np.ndarray:
        field = _RESULT_NAMES.get(name, name)
        if field not in self.__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, field)


#: Result-table column → :class:`Variants` field.
_RESULT_NAMES = {"#CHROM": "chrom", "POS": "pos", "ID": "id", "REF": "ref", "ALT": "alt"}


@dataclass
class BedStream:
    """An opened ``.bed`` fileset: samples and variants, read lazily by block.

    Attributes
    ----------
    bed
        Path of the ``.bed`` file.
    samples
        IIDs (str, object array) in ``.fam`` order.
    sex
        ``.fam`` column 5 per sample: 1 male, 2 female, 0 unknown (anything else counts as unknown).
    variants
        The ``.bim`` (:class:`Variants`), file order.
    """

    bed: Path
    samples: np.ndarray
    variants: Variants
    sex: np.ndarray

    @cached_property
    def _row_of(self) -> dict[str, int]:
        return {iid: i for i, iid in enumerate(self.samples)}

    def sample_rows(self, iids) -> np.ndarray:
        """The ``.fam`` row of each IID (−1 where it is not in the ``.fam``)."""
        row_of = self._row_of
        return np.fromiter((row_of.get(str(i), -1) for i in iids), dtype=np.intp, count=len(iids))

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
    """Open ``prefix.bed/.bim/.fam`` (read and checked by :func:`alignome.io.plink_fileset.read_fileset`).

    bed-reader is opened on first use only: the association scans read the packed bytes themselves.
    """
    fs = read_fileset(prefix)
    text = lambda column: np.array(column, dtype=object)  # noqa: E731
    variants = Variants(chrom=text(fs.chrom), pos=fs.positions(), id=text(fs.ids), ref=text(fs.a2), alt=text(fs.a1))
    return BedStream(bed=fs.bed, samples=text(fs.fam[1]), variants=variants, sex=fs.sex())
